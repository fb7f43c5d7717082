// Black-box tests of the product ledger over HTTP: writes of every type, the stock model,
// refusals, idempotency, optimistic concurrency, stock reads (current, conditional, past) and history.
// Storage is shared by the tests of this file, so every test uses its own product id.
import { describe, expect, it } from "vitest";
import { call, freshKey, freshProductId, getStock, historyOf, postTransaction, stockOf, type TransactionInput } from "../helpers/http";
import { expectProblem, RFC3339_MS, type Stock, type StockWithLocations, type Transaction, UUID } from "../helpers/wire";

interface WriteBody {
  transaction: Transaction;
  stock: Stock;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes and expects 201; returns the parsed body. */
async function write(product_id: string, input: TransactionInput, key = freshKey()): Promise<WriteBody> {
  const response = await postTransaction(product_id, input, { key });
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return JSON.parse(text) as WriteBody;
}

/** GET a product's stock as the raw response, body unread. */
function stockResponse(product_id: string, query = ""): Promise<Response> {
  return call("GET", `/v1/products/${encodeURIComponent(product_id)}/stock${query}`, { role: "reader" });
}

/** The transaction object every write answers with, for a writer-token write to the default location. */
function expectedTransaction(
  product_id: string,
  key: string,
  fields: { seq: number; type: string; quantity: number; delta: number; reason: string },
): Transaction {
  return {
    id: expect.stringMatching(UUID) as unknown as string,
    product_id,
    seq: fields.seq,
    type: fields.type,
    quantity: fields.quantity,
    delta: fields.delta,
    location_id: "default",
    reason: fields.reason,
    created_by: "test-writer",
    actor: null,
    metadata: null,
    reservation_id: null,
    idempotency_key: key,
    created_at: expect.stringMatching(RFC3339_MS) as unknown as string,
    prev_hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
    hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
  };
}

function expectedStock(product_id: string, totals: { on_hand: number; reserved: number; version: number; oversold?: boolean }): Stock {
  return {
    product_id,
    on_hand: totals.on_hand,
    reserved: totals.reserved,
    available: totals.on_hand - totals.reserved,
    version: totals.version,
    oversold: totals.oversold ?? false,
    updated_at: expect.stringMatching(RFC3339_MS) as unknown as string,
  };
}

describe("writing each transaction type", () => {
  // Each case starts from ADD 10 (and RESERVE 4 for RELEASE), then writes the case's row.
  const cases = [
    { type: "ADD", input: { type: "ADD", quantity: 5 }, quantity: 5, delta: 5, on_hand: 15, reserved: 0 },
    { type: "REMOVE", input: { type: "REMOVE", quantity: 3 }, quantity: 3, delta: -3, on_hand: 7, reserved: 0 },
    { type: "RETURN", input: { type: "RETURN", quantity: 2 }, quantity: 2, delta: 2, on_hand: 12, reserved: 0 },
    { type: "RESERVE", input: { type: "RESERVE", quantity: 4 }, quantity: 4, delta: -4, on_hand: 10, reserved: 4 },
    { type: "RELEASE", input: { type: "RELEASE", quantity: 3 }, quantity: 3, delta: 3, on_hand: 10, reserved: 1 },
    { type: "ADJUST", input: { type: "ADJUST", on_hand: 13 }, quantity: 13, delta: 3, on_hand: 13, reserved: 0 },
  ] as const;

  it.each(cases)("answers 201 to a $type with the transaction and the new stock, exactly", async (c) => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 10 });
    if (c.type === "RELEASE") await write(product, { type: "RESERVE", quantity: 4 });
    const seq = c.type === "RELEASE" ? 3 : 2;
    const key = freshKey();
    const response = await postTransaction(product, { ...c.input, reason: `case-${c.type}` }, { key });
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    const body = (await response.json()) as WriteBody;
    expect(body).toEqual({
      transaction: expectedTransaction(product, key, { seq, type: c.type, quantity: c.quantity, delta: c.delta, reason: `case-${c.type}` }),
      stock: expectedStock(product, { on_hand: c.on_hand, reserved: c.reserved, version: seq }),
    });
    expect(body.stock.updated_at).toBe(body.transaction.created_at);
    // The read model agrees with what the write answered.
    const read = await stockOf(product);
    expect(read).toEqual({
      ...body.stock,
      locations: [{ location_id: "default", on_hand: c.on_hand, reserved: c.reserved, available: c.on_hand - c.reserved }],
    });
  });

  it("numbers a product's rows 1, 2, 3… and keeps each product's numbering separate", async () => {
    const a = freshProductId();
    const b = freshProductId();
    expect((await write(a, { type: "ADD", quantity: 1 })).transaction.seq).toBe(1);
    expect((await write(b, { type: "ADD", quantity: 1 })).transaction.seq).toBe(1);
    expect((await write(a, { type: "ADD", quantity: 1 })).transaction.seq).toBe(2);
    expect((await write(a, { type: "REMOVE", quantity: 1 })).stock.version).toBe(3);
  });

  it("records an ADJUST as the counted total with the difference as delta, even when the delta is 0", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 10 });
    const down = await write(product, { type: "ADJUST", on_hand: 4 });
    expect(down.transaction).toMatchObject({ type: "ADJUST", quantity: 4, delta: -6 });
    expect(down.stock).toMatchObject({ on_hand: 4, available: 4 });
    const same = await write(product, { type: "ADJUST", on_hand: 4 });
    expect(same.transaction).toMatchObject({ type: "ADJUST", quantity: 4, delta: 0, seq: 3 });
    expect(same.stock).toMatchObject({ on_hand: 4, version: 3 });
    const zero = await write(product, { type: "ADJUST", on_hand: 0 });
    expect(zero.transaction).toMatchObject({ quantity: 0, delta: -4 });
    expect(zero.stock.on_hand).toBe(0);
  });

  it("lets an ADJUST below the reserved amount make the product oversold, and an ADD bring it back", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 10 });
    await write(product, { type: "RESERVE", quantity: 8 });
    const counted = await write(product, { type: "ADJUST", on_hand: 5 });
    expect(counted.transaction).toMatchObject({ quantity: 5, delta: -5 });
    expect(counted.stock).toMatchObject({ on_hand: 5, reserved: 8, available: -3, oversold: true });
    expect(await stockOf(product)).toMatchObject({ available: -3, oversold: true });

    const partly = await write(product, { type: "ADD", quantity: 2 });
    expect(partly.stock).toMatchObject({ available: -1, oversold: true });
    const restocked = await write(product, { type: "ADD", quantity: 1 });
    expect(restocked.stock).toMatchObject({ on_hand: 8, reserved: 8, available: 0, oversold: false });
    expect(await stockOf(product)).toMatchObject({ available: 0, oversold: false });
  });

  it("stores actor beside created_by, and created_by stays the authenticated principal", async () => {
    const product = freshProductId();
    const written = await write(product, { type: "ADD", quantity: 3, actor: "user-42", metadata: { channel: "web", n: 1 } });
    expect(written.transaction).toMatchObject({ created_by: "test-writer", actor: "user-42", metadata: { channel: "web", n: 1 } });
    const asAdmin = await call("POST", `/v1/products/${product}/transactions`, {
      role: "admin",
      headers: { "idempotency-key": freshKey() },
      body: { type: "ADD", quantity: 1, reason: "as-admin", actor: "test-writer" },
    });
    expect(asAdmin.status).toBe(201);
    expect(((await asAdmin.json()) as WriteBody).transaction).toMatchObject({ created_by: "test-admin", actor: "test-writer" });
    const page = await historyOf(product);
    expect(page.data.map((row) => [row.created_by, row.actor])).toEqual([
      ["test-writer", "user-42"],
      ["test-admin", "test-writer"],
    ]);
    expect(page.data[0]!.metadata).toEqual({ channel: "web", n: 1 });
  });

  it("refuses a REMOVE beyond available with 409 insufficient_stock carrying the current stock, and writes nothing", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 5 });
    const before = (await write(product, { type: "RESERVE", quantity: 2 })).stock;
    const problem = await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 4 }), 409, "insufficient_stock");
    expect(problem.stock).toEqual(before);
    const after = await stockOf(product);
    expect(after.version).toBe(2);
    expect(after.available).toBe(3);
    expect((await historyOf(product)).data).toHaveLength(2);
  });

  it("refuses a RESERVE beyond available with 409 insufficient_stock", async () => {
    const product = freshProductId();
    const before = (await write(product, { type: "ADD", quantity: 2 })).stock;
    const problem = await expectProblem(await postTransaction(product, { type: "RESERVE", quantity: 3 }), 409, "insufficient_stock");
    expect(problem.stock).toEqual(before);
    expect((await stockOf(product)).version).toBe(1);
  });

  it("refuses a RELEASE beyond reserved with 409 insufficient_reserved carrying the current stock", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 10 });
    const before = (await write(product, { type: "RESERVE", quantity: 2 })).stock;
    const problem = await expectProblem(await postTransaction(product, { type: "RELEASE", quantity: 3 }), 409, "insufficient_reserved");
    expect(problem.stock).toEqual(before);
    expect((await stockOf(product)).version).toBe(2);
  });

  it("refuses a RELEASE on a product with nothing reserved", async () => {
    const product = freshProductId();
    const problem = await expectProblem(await postTransaction(product, { type: "RELEASE", quantity: 1 }), 409, "insufficient_reserved");
    expect(problem.stock).toMatchObject({ product_id: product, on_hand: 0, reserved: 0, available: 0, version: 0 });
  });

  it("answers 422 limit_exceeded when on_hand would pass 2^53-1, and writes nothing", async () => {
    const product = freshProductId();
    const top = await write(product, { type: "ADJUST", on_hand: MAX_SAFE });
    expect(top.stock).toMatchObject({ on_hand: MAX_SAFE, available: MAX_SAFE, version: 1 });
    await expectProblem(await postTransaction(product, { type: "ADD", quantity: 1 }), 422, "limit_exceeded");
    await expectProblem(await postTransaction(product, { type: "RETURN", quantity: 1 }), 422, "limit_exceeded");
    const after = await stockOf(product);
    expect(after).toMatchObject({ on_hand: MAX_SAFE, version: 1 });
  });
});

describe("locations", () => {
  it("keeps stock per location and lists only the locations that have rows", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 5 });
    await write(product, { type: "ADD", quantity: 7, location_id: "wh-2" });
    const reserved = await write(product, { type: "RESERVE", quantity: 3, location_id: "wh-2" });
    expect(reserved.transaction.location_id).toBe("wh-2");
    expect(reserved.stock).toMatchObject({ on_hand: 12, reserved: 3, available: 9, version: 3 });

    const read = await stockOf(product);
    expect(read).toMatchObject({ on_hand: 12, reserved: 3, available: 9, version: 3 });
    const locations = [...read.locations].sort((a, b) => a.location_id.localeCompare(b.location_id));
    expect(locations).toEqual([
      { location_id: "default", on_hand: 5, reserved: 0, available: 5 },
      { location_id: "wh-2", on_hand: 7, reserved: 3, available: 4 },
    ]);
  });

  it("checks a removal against its own location's available stock, not the product total", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 5 });
    await write(product, { type: "ADD", quantity: 7, location_id: "wh-2" });
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 6 }), 409, "insufficient_stock");
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 1, location_id: "wh-3" }), 409, "insufficient_stock");
    const ok = await write(product, { type: "REMOVE", quantity: 6, location_id: "wh-2" });
    expect(ok.stock).toMatchObject({ on_hand: 6, version: 3 });
    const read = await stockOf(product);
    expect(read.locations.map((location) => location.location_id).sort()).toEqual(["default", "wh-2"]);
  });

  it("applies an ADJUST to its location only", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 5 });
    await write(product, { type: "ADD", quantity: 7, location_id: "wh-2" });
    const counted = await write(product, { type: "ADJUST", on_hand: 2, location_id: "wh-2" });
    expect(counted.transaction).toMatchObject({ quantity: 2, delta: -5, location_id: "wh-2" });
    expect(counted.stock).toMatchObject({ on_hand: 7 });
    const byId = Object.fromEntries((await stockOf(product)).locations.map((location) => [location.location_id, location.on_hand]));
    expect(byId).toEqual({ default: 5, "wh-2": 2 });
  });
});

describe("idempotency", () => {
  it("replays the same key and body with 200, the first body, Idempotent-Replayed: true, and writes nothing new", async () => {
    const product = freshProductId();
    const key = freshKey();
    const input: TransactionInput = { type: "ADD", quantity: 4, actor: "user-7", metadata: { po: "PO-1" } };
    const first = await postTransaction(product, input, { key });
    expect(first.status).toBe(201);
    const firstBody = (await first.json()) as WriteBody;

    const again = await postTransaction(product, input, { key });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);

    const read = await stockOf(product);
    expect(read.version).toBe(1);
    expect(read.on_hand).toBe(4);
    const page = await historyOf(product);
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toEqual(firstBody.transaction);
  });

  it("replays the first answer even after later writes changed the stock", async () => {
    const product = freshProductId();
    const key = freshKey();
    const first = await write(product, { type: "ADD", quantity: 4 }, key);
    await write(product, { type: "REMOVE", quantity: 1 });
    const again = await postTransaction(product, { type: "ADD", quantity: 4 }, { key });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    expect((await stockOf(product)).version).toBe(2);
  });

  it("treats the same body with its fields in another order as the same request", async () => {
    const product = freshProductId();
    const key = freshKey();
    const headers = { "idempotency-key": key };
    const first = await call("POST", `/v1/products/${product}/transactions`, {
      role: "writer",
      headers,
      body: { type: "ADD", quantity: 2, reason: "r", metadata: { a: 1, b: 2 } },
    });
    expect(first.status).toBe(201);
    const again = await call("POST", `/v1/products/${product}/transactions`, {
      role: "writer",
      headers,
      body: { metadata: { b: 2, a: 1 }, reason: "r", quantity: 2, type: "ADD" },
    });
    expect(again.status).toBe(200);
    expect((await stockOf(product)).version).toBe(1);
  });

  it("writes once when two requests with the same key and body race: one 201, one 200 replay", async () => {
    const product = freshProductId();
    const key = freshKey();
    const responses = await Promise.all([
      postTransaction(product, { type: "ADD", quantity: 3 }, { key }),
      postTransaction(product, { type: "ADD", quantity: 3 }, { key }),
    ]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 201]);
    const [a, b] = await Promise.all(responses.map((response) => response.json()));
    expect(a).toEqual(b);
    expect(await stockOf(product)).toMatchObject({ version: 1, on_hand: 3 });
  });

  it("replays a write that named a version even after the product moved past it", async () => {
    const product = freshProductId();
    const key = freshKey();
    const first = await postTransaction(product, { type: "ADD", quantity: 1 }, { key, headers: { "if-match": '"0"' } });
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    await write(product, { type: "ADD", quantity: 1 });
    const again = await postTransaction(product, { type: "ADD", quantity: 1 }, { key, headers: { "if-match": '"0"' } });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
  });

  it("answers 422 idempotency_key_reused to the same key with a different body, and writes nothing", async () => {
    const product = freshProductId();
    const key = freshKey();
    await write(product, { type: "ADD", quantity: 4 }, key);
    await expectProblem(await postTransaction(product, { type: "ADD", quantity: 5 }, { key }), 422, "idempotency_key_reused");
    await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 4, reason: "other" }, { key }),
      422,
      "idempotency_key_reused",
    );
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 4 }, { key }), 422, "idempotency_key_reused");
    const read = await stockOf(product);
    expect(read).toMatchObject({ version: 1, on_hand: 4 });
  });

  it("does not remember a refused write: the same key succeeds with 201 once stock has been added", async () => {
    const product = freshProductId();
    const key = freshKey();
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 3 }, { key }), 409, "insufficient_stock");
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 3 }, { key }), 409, "insufficient_stock");
    await write(product, { type: "ADD", quantity: 5 });
    const retried = await postTransaction(product, { type: "REMOVE", quantity: 3 }, { key });
    expect(retried.status).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    const body = (await retried.json()) as WriteBody;
    expect(body.transaction).toMatchObject({ seq: 2, idempotency_key: key, delta: -3 });
    expect(body.stock).toMatchObject({ on_hand: 2, version: 2 });
  });

  it("does not remember a write refused with 412: the same key is evaluated afresh", async () => {
    const product = freshProductId();
    const key = freshKey();
    await write(product, { type: "ADD", quantity: 1 });
    await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }, { key }),
      412,
      "version_conflict",
    );
    const retried = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 1 }, { key });
    expect(retried.status).toBe(201);
  });

  it("keeps keys per product: the same key on two products writes to both", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const key = freshKey();
    const onA = await write(a, { type: "ADD", quantity: 2 }, key);
    const onB = await postTransaction(b, { type: "ADD", quantity: 9 }, { key });
    expect(onB.status).toBe(201);
    expect(onB.headers.get("idempotent-replayed")).toBeNull();
    const bodyB = (await onB.json()) as WriteBody;
    expect(bodyB.transaction).toMatchObject({ product_id: b, quantity: 9, idempotency_key: key });
    expect(bodyB.transaction.id).not.toBe(onA.transaction.id);
    expect((await stockOf(a)).on_hand).toBe(2);
    expect((await stockOf(b)).on_hand).toBe(9);
  });
});

describe("optimistic concurrency", () => {
  it("answers 412 version_conflict with current_version when If-Match does not match, and writes nothing", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    await write(product, { type: "ADD", quantity: 1 });
    const problem = await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": '"1"' } }),
      412,
      "version_conflict",
    );
    expect(problem.current_version).toBe(2);
    expect((await stockOf(product)).version).toBe(2);
  });

  it("writes with 201 when If-Match names the current version", async () => {
    const product = freshProductId();
    const first = await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": '"0"' } });
    expect(first.status).toBe(201);
    const second = await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": '"1"' } });
    expect(second.status).toBe(201);
    expect(((await second.json()) as WriteBody).stock.version).toBe(2);
  });

  it("answers 412 version_conflict with current_version when expected_version does not match, and 201 when it does", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    const problem = await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }),
      412,
      "version_conflict",
    );
    expect(problem.current_version).toBe(1);
    const ok = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 1 });
    expect(ok.status).toBe(201);
  });

  it("accepts If-Match and expected_version together when they agree", async () => {
    const product = freshProductId();
    const ok = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }, { headers: { "if-match": '"0"' } });
    expect(ok.status).toBe(201);
  });

  it.each([["1"], ['W/"1"'], ['"one"'], ['"1'], ['"-1"']])("answers 400 invalid_request to the malformed If-Match %s", async (ifMatch) => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": ifMatch } }),
      400,
      "invalid_request",
    );
    expect((await stockOf(product)).version).toBe(1);
  });

  it("answers 400 when If-Match and expected_version disagree", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    const response = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }, { headers: { "if-match": '"1"' } });
    await expectProblem(response, 400, "invalid_request");
    expect((await stockOf(product)).version).toBe(1);
  });
});

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

describe("history", () => {
  it("lists every row in ascending seq with the fields the write answered", async () => {
    const product = freshProductId();
    const written: Transaction[] = [];
    written.push((await write(product, { type: "ADD", quantity: 10, reason: "po-1" })).transaction);
    written.push((await write(product, { type: "RESERVE", quantity: 2, reason: "cart-1" })).transaction);
    written.push((await write(product, { type: "ADJUST", on_hand: 7, reason: "count-1" })).transaction);
    const page = await historyOf(product);
    expect(page).toEqual({ data: written, next_after: null });
    expect(page.data.map((row) => row.seq)).toEqual([1, 2, 3]);
  });

  it("pages with after and limit, giving next_after until the last page, where it is null", async () => {
    const product = freshProductId();
    for (let i = 0; i < 5; i++) await write(product, { type: "ADD", quantity: i + 1 });
    const first = await historyOf(product, "?limit=2");
    expect(first.data.map((row) => row.seq)).toEqual([1, 2]);
    expect(first.next_after).toBe(2);
    const second = await historyOf(product, `?limit=2&after=${first.next_after}`);
    expect(second.data.map((row) => row.seq)).toEqual([3, 4]);
    expect(second.next_after).toBe(4);
    const third = await historyOf(product, `?limit=2&after=${second.next_after}`);
    expect(third.data.map((row) => row.seq)).toEqual([5]);
    expect(third.next_after).toBeNull();
    const exact = await historyOf(product, "?limit=2&after=3");
    expect(exact.data.map((row) => row.seq)).toEqual([4, 5]);
    expect(exact.next_after).toBeNull();
    const beyond = await historyOf(product, "?after=5");
    expect(beyond).toEqual({ data: [], next_after: null });
  });

  it("answers an empty page for a product with no rows", async () => {
    expect(await historyOf(freshProductId())).toEqual({ data: [], next_after: null });
  });

  it.each([["0"], ["501"], ["-1"], ["abc"], ["1.5"], [""], ["0x5"], ["1e1"], ["%2B3"]])("answers 400 to limit=%s", async (limit) => {
    const response = await call("GET", `/v1/products/${freshProductId()}/transactions?limit=${limit}`, { role: "reader" });
    await expectProblem(response, 400, "invalid_request");
  });

  it.each([[""], ["-1"], ["0x1"], ["1e0"], ["1.0"]])("answers 400 to after=%s", async (after) => {
    const response = await call("GET", `/v1/products/${freshProductId()}/transactions?after=${after}`, { role: "reader" });
    await expectProblem(response, 400, "invalid_request");
  });

  it("accepts limit=500", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    expect((await historyOf(product, "?limit=500")).data).toHaveLength(1);
  });

  it("filters by type, reason and location_id", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 10, reason: "po-1" });
    await write(product, { type: "ADD", quantity: 5, reason: "po-2", location_id: "wh-2" });
    await write(product, { type: "REMOVE", quantity: 1, reason: "order-1" });
    await write(product, { type: "REMOVE", quantity: 2, reason: "order-2", location_id: "wh-2" });
    await write(product, { type: "RETURN", quantity: 1, reason: "order-1" });

    expect((await historyOf(product, "?type=REMOVE")).data.map((row) => row.seq)).toEqual([3, 4]);
    expect((await historyOf(product, "?reason=order-1")).data.map((row) => row.seq)).toEqual([3, 5]);
    expect((await historyOf(product, "?location_id=wh-2")).data.map((row) => row.seq)).toEqual([2, 4]);
    expect((await historyOf(product, "?location_id=default")).data.map((row) => row.seq)).toEqual([1, 3, 5]);
    expect((await historyOf(product, "?type=REMOVE&location_id=wh-2")).data.map((row) => row.seq)).toEqual([4]);
    expect((await historyOf(product, "?type=ADJUST")).data).toEqual([]);
  });

  it("pages through a filtered history", async () => {
    const product = freshProductId();
    for (let i = 0; i < 3; i++) {
      await write(product, { type: "ADD", quantity: 1 });
      await write(product, { type: "REMOVE", quantity: 1 });
    }
    const first = await historyOf(product, "?type=REMOVE&limit=2");
    expect(first.data.map((row) => row.seq)).toEqual([2, 4]);
    expect(first.next_after).toBe(4);
    const second = await historyOf(product, `?type=REMOVE&limit=2&after=${first.next_after}`);
    expect(second.data.map((row) => row.seq)).toEqual([6]);
    expect(second.next_after).toBeNull();
  });

  it("answers 400 to an unknown type filter or a bad location_id filter", async () => {
    const product = freshProductId();
    await expectProblem(await call("GET", `/v1/products/${product}/transactions?type=STEAL`, { role: "reader" }), 400, "invalid_request");
    await expectProblem(
      await call("GET", `/v1/products/${product}/transactions?location_id=-x`, { role: "reader" }),
      400,
      "invalid_request",
    );
  });
});
