// Writing to a product's ledger over HTTP: each transaction type, the stock model and its refusals, stock per location.
import { describe, expect, it } from "vitest";
import { call, freshKey, freshProductId, historyOf, postTransaction, stockOf, type WriteBody, write } from "../helpers/http";
import { expectProblem, RFC3339_MS, type Stock, type Transaction, UUID } from "../helpers/wire";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

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
