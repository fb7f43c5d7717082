// Reading stock over HTTP: current, conditional (ETag), at a past version or instant, and many products at once.
import { describe, expect, it } from "vitest";
import { call, freshProductId, getStock, stockOf, write } from "../helpers/http";
import { sleep } from "../helpers/wait";
import { expectProblem, type Stock, type StockWithLocations } from "../helpers/wire";

/** GET a product's stock as the raw response, body unread. */
function stockResponse(product_id: string, query = ""): Promise<Response> {
  return call("GET", `/v1/products/${encodeURIComponent(product_id)}/stock${query}`, { role: "reader" });
}

describe("reading stock", () => {
  it("answers a product with no rows with zeros, version 0, updated_at null and no locations", async () => {
    const product = freshProductId();
    const { status, body, response } = await getStock(product);
    expect(status).toBe(200);
    expect(body).toEqual({
      product_id: product,
      on_hand: 0,
      reserved: 0,
      available: 0,
      version: 0,
      oversold: false,
      updated_at: null,
      locations: [],
    });
    expect(response.headers.get("etag")).toBe('"0"');
  });

  it('sends ETag "<version>" and answers If-None-Match with it by 304 and an empty body', async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    await write(product, { type: "ADD", quantity: 1 });
    const { response } = await getStock(product);
    expect(response.headers.get("etag")).toBe('"2"');
    const notModified = await call("GET", `/v1/products/${product}/stock`, { role: "reader", headers: { "if-none-match": '"2"' } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    expect(notModified.headers.get("etag")).toBe('"2"');
  });

  it("answers 304 to If-None-Match with the weak form of the current ETag", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    const response = await call("GET", `/v1/products/${product}/stock`, { role: "reader", headers: { "if-none-match": 'W/"1"' } });
    expect(response.status).toBe(304);
  });

  // "", " ", hex, exponent and sign forms are numbers to JavaScript's Number(); here they are not.
  it.each([["-1"], ["1.5"], ["x"], [""], ["%20"], ["0x1"], ["1e0"], ["%2B1"], ["1%20"]])(
    "answers 400 to at_version=%s",
    async (version) => {
      const product = freshProductId();
      await write(product, { type: "ADD", quantity: 1 });
      await expectProblem(await stockResponse(product, `?at_version=${version}`), 400, "invalid_request");
    },
  );

  it("answers 200 with the current stock when If-None-Match names an old version", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    await write(product, { type: "ADD", quantity: 2 });
    const response = await call("GET", `/v1/products/${product}/stock`, { role: "reader", headers: { "if-none-match": '"1"' } });
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBe('"2"');
    expect(await response.json()).toMatchObject({ version: 2, on_hand: 3 });
  });

  it("returns the stock as it was after the Nth write for at_version=N, marked derived", async () => {
    const product = freshProductId();
    const after: Stock[] = [];
    after.push((await write(product, { type: "ADD", quantity: 10 })).stock);
    after.push((await write(product, { type: "RESERVE", quantity: 4, location_id: "default" })).stock);
    after.push((await write(product, { type: "ADD", quantity: 6, location_id: "wh-2" })).stock);
    after.push((await write(product, { type: "ADJUST", on_hand: 3 })).stock);

    const zero = await stockOf(product, "?at_version=0");
    expect(zero).toEqual({
      product_id: product,
      on_hand: 0,
      reserved: 0,
      available: 0,
      version: 0,
      oversold: false,
      updated_at: null,
      locations: [],
      derived: true,
    });

    for (const [index, expected] of after.entries()) {
      const past = await stockOf(product, `?at_version=${index + 1}`);
      const { locations, derived, ...totals } = past;
      expect(derived).toBe(true);
      expect(totals).toEqual(expected);
      expect(locations.reduce((sum, location) => sum + location.on_hand, 0)).toBe(expected.on_hand);
    }
    const atTwo = await stockOf(product, "?at_version=2");
    expect(atTwo.locations).toEqual([{ location_id: "default", on_hand: 10, reserved: 4, available: 6 }]);
    const atFour = await stockOf(product, "?at_version=4");
    expect(atFour).toMatchObject({ on_hand: 9, reserved: 4, available: 5, oversold: true });
  });

  it("answers 400 to at_version beyond the current version", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    await expectProblem(await stockResponse(product, "?at_version=2"), 400, "invalid_request");
  });

  it("answers 400 to at_version and as_of together", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    const asOf = encodeURIComponent(new Date().toISOString());
    await expectProblem(await stockResponse(product, `?at_version=1&as_of=${asOf}`), 400, "invalid_request");
  });

  it("answers 400 to an as_of that is not an RFC 3339 instant", async () => {
    const product = freshProductId();
    await expectProblem(await stockResponse(product, "?as_of=yesterday"), 400, "invalid_request");
  });

  it("returns the stock as of an instant for as_of, marked derived", async () => {
    const product = freshProductId();
    const first = await write(product, { type: "ADD", quantity: 10 });
    await sleep(15);
    const second = await write(product, { type: "REMOVE", quantity: 3 });
    await sleep(15);
    const third = await write(product, { type: "ADD", quantity: 100 });
    expect(first.transaction.created_at < second.transaction.created_at).toBe(true);
    expect(second.transaction.created_at < third.transaction.created_at).toBe(true);

    const atFirst = await stockOf(product, `?as_of=${encodeURIComponent(first.transaction.created_at)}`);
    const { locations: _l1, derived: d1, ...totals1 } = atFirst;
    expect(d1).toBe(true);
    expect(totals1).toEqual(first.stock);

    const between = new Date(Date.parse(second.transaction.created_at) + 1).toISOString();
    const atSecond = await stockOf(product, `?as_of=${encodeURIComponent(between)}`);
    const { locations: _l2, derived: d2, ...totals2 } = atSecond;
    expect(d2).toBe(true);
    expect(totals2).toEqual(second.stock);

    const later = await stockOf(product, `?as_of=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(later).toMatchObject({ version: 3, on_hand: 107, derived: true });
  });

  it("answers an as_of before the first row with zeros", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 10 });
    const past = await stockOf(product, `?as_of=${encodeURIComponent("2000-01-01T00:00:00.000Z")}`);
    expect(past).toEqual({
      product_id: product,
      on_hand: 0,
      reserved: 0,
      available: 0,
      version: 0,
      oversold: false,
      updated_at: null,
      locations: [],
      derived: true,
    });
  });

  it("accepts an as_of with a numeric offset", async () => {
    const product = freshProductId();
    const first = await write(product, { type: "ADD", quantity: 10 });
    // The instant of the first row, written in +01:00 instead of Z.
    const local = `${new Date(Date.parse(first.transaction.created_at) + 3_600_000).toISOString().slice(0, 23)}+01:00`;
    expect(Date.parse(local)).toBe(Date.parse(first.transaction.created_at));
    const past = await stockOf(product, `?as_of=${encodeURIComponent(local)}`);
    expect(past).toMatchObject({ version: 1, on_hand: 10, derived: true });
  });
});

describe("reading many products at once", () => {
  it("returns each product's stock in the order asked, an unknown product as zeros", async () => {
    const a = freshProductId("a");
    const b = freshProductId("b");
    const unknown = freshProductId("none");
    await write(a, { type: "ADD", quantity: 3 });
    await write(b, { type: "ADD", quantity: 8, location_id: "wh-2" });
    await write(b, { type: "RESERVE", quantity: 2, location_id: "wh-2" });

    const response = await call("GET", `/v1/stock?product_ids=${b},${unknown},${a}`, { role: "reader" });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: StockWithLocations[] };
    expect(data.map((stock) => stock.product_id)).toEqual([b, unknown, a]);
    expect(data[0]).toEqual(await stockOf(b));
    expect(data[1]).toEqual({
      product_id: unknown,
      on_hand: 0,
      reserved: 0,
      available: 0,
      version: 0,
      oversold: false,
      updated_at: null,
      locations: [],
    });
    expect(data[2]).toEqual(await stockOf(a));
    expect(data[0]).toMatchObject({ on_hand: 8, reserved: 2, available: 6, version: 2 });
  });

  it("answers 400 to 101 product ids and 200 to 100", async () => {
    const ids = Array.from({ length: 101 }, (_unused, index) => `p${index}-${crypto.randomUUID()}`);
    const tooMany = await call("GET", `/v1/stock?product_ids=${ids.join(",")}`, { role: "reader" });
    await expectProblem(tooMany, 400, "invalid_request");
    const hundred = await call("GET", `/v1/stock?product_ids=${ids.slice(0, 100).join(",")}`, { role: "reader" });
    expect(hundred.status).toBe(200);
    const { data } = (await hundred.json()) as { data: StockWithLocations[] };
    expect(data.map((stock) => stock.product_id)).toEqual(ids.slice(0, 100));
  });

  it("answers 400 to duplicate product ids", async () => {
    const a = freshProductId();
    const b = freshProductId();
    await expectProblem(await call("GET", `/v1/stock?product_ids=${a},${b},${a}`, { role: "reader" }), 400, "invalid_request");
  });

  it.each([
    ["a bad id among good ones", (a: string) => `${a},-bad`],
    ["an empty id", (a: string) => `${a},`],
    ["an id of 129 characters", (a: string) => `${a},${"x".repeat(129)}`],
    ["no ids at all", (_a: string) => ""],
  ])("answers 400 to %s", async (_label, ids) => {
    const response = await call("GET", `/v1/stock?product_ids=${encodeURIComponent(ids(freshProductId()))}`, { role: "reader" });
    await expectProblem(response, 400, "invalid_request");
  });

  it("answers 400 when product_ids is missing", async () => {
    await expectProblem(await call("GET", "/v1/stock", { role: "reader" }), 400, "invalid_request");
  });
});
