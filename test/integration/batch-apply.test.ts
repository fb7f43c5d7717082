// POST /v1/transactions/batch: independent items over several products, applied in input order, each with its own result.
import { describe, expect, it } from "vitest";
import { type BatchItem, batch, expectItemProblem } from "../helpers/batch";
import { call, freshKey, freshProductId, historyRows, postTransaction, stockOf } from "../helpers/http";
import { expectConsistent, rawState } from "../helpers/ledger-object";
import { expectProblem, RFC3339_MS, UUID } from "../helpers/wire";

describe("applying a batch", () => {
  it("applies items over several products and answers one 201 result per item, in input order, with the transaction and the stock after it", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const c = freshProductId();
    const key = freshKey();

    const results = await batch(
      [
        { product_id: a, type: "ADD", quantity: 10, reason: "po-1" },
        { product_id: b, type: "ADD", quantity: 4, location_id: "north", actor: "user-7", metadata: { channel: "wms" } },
        { product_id: c, type: "RETURN", quantity: 2 },
        { product_id: a, type: "RESERVE", quantity: 3 },
      ],
      { key },
    );
    expect(results.map((result) => result.status)).toEqual([201, 201, 201, 201]);
    for (const result of results) expect(result.error).toBeUndefined();

    expect(results[0]!.transaction).toEqual({
      id: expect.stringMatching(UUID),
      product_id: a,
      seq: 1,
      type: "ADD",
      quantity: 10,
      delta: 10,
      location_id: "default",
      reason: "po-1",
      created_by: "test-writer",
      actor: null,
      metadata: null,
      reservation_id: null,
      idempotency_key: expect.any(String),
      created_at: expect.stringMatching(RFC3339_MS),
      prev_hash: "0".repeat(64),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(results[0]!.stock).toMatchObject({ product_id: a, on_hand: 10, reserved: 0, available: 10, version: 1, oversold: false });
    expect(results[1]!.transaction).toMatchObject({
      product_id: b,
      seq: 1,
      type: "ADD",
      location_id: "north",
      actor: "user-7",
      metadata: { channel: "wms" },
      created_by: "test-writer",
    });
    expect(results[1]!.stock).toMatchObject({ product_id: b, on_hand: 4, version: 1 });
    expect(results[2]!.transaction).toMatchObject({ product_id: c, type: "RETURN", delta: 2 });
    expect(results[3]!.transaction).toMatchObject({ product_id: a, seq: 2, type: "RESERVE", quantity: 3, delta: -3 });
    expect(results[3]!.stock).toMatchObject({ product_id: a, on_hand: 10, reserved: 3, available: 7, version: 2 });

    // Every item has its own key, derived from the batch key.
    const keys = results.map((result) => result.transaction!.idempotency_key);
    expect(new Set(keys).size).toBe(4);
    for (const itemKey of keys) expect(itemKey).toContain(key);

    expect(await stockOf(a)).toMatchObject({ on_hand: 10, reserved: 3, available: 7, version: 2 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 4, version: 1 });
    expect(await stockOf(c)).toMatchObject({ on_hand: 2, version: 1 });
    for (const product of [a, b, c]) await expectConsistent(product);
  });

  it("lets a failing item in the middle fail alone with 409 insufficient_stock, and applies the items before and after it", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const c = freshProductId();
    expect((await postTransaction(b, { type: "ADD", quantity: 2 })).status).toBe(201);

    const results = await batch([
      { product_id: a, type: "ADD", quantity: 5 },
      { product_id: c, type: "ADD", quantity: 1 },
      { product_id: b, type: "REMOVE", quantity: 3 },
      { product_id: a, type: "REMOVE", quantity: 1 },
      { product_id: c, type: "ADD", quantity: 1 },
    ]);
    expect(results.map((result) => result.status)).toEqual([201, 201, 409, 201, 201]);
    const problem = expectItemProblem(results[2]!, 409, "insufficient_stock");
    expect(problem).toMatchObject({ location_id: "default", requested: 3, available: 2 });
    expect(problem.stock).toMatchObject({ product_id: b, on_hand: 2, available: 2, version: 1 });

    expect(await stockOf(a)).toMatchObject({ on_hand: 4, version: 2 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 2, version: 1 });
    expect(await stockOf(c)).toMatchObject({ on_hand: 2, version: 2 });
    expect((await rawState(b)).rows).toHaveLength(1);
  });

  it("applies items of the same product in the order given: ADD 5 then REMOVE 5 both succeed", async () => {
    const product = freshProductId();
    const results = await batch([
      { product_id: product, type: "ADD", quantity: 5 },
      { product_id: product, type: "REMOVE", quantity: 5 },
    ]);
    expect(results.map((result) => result.status)).toEqual([201, 201]);
    expect(results[0]!.transaction).toMatchObject({ seq: 1, type: "ADD" });
    expect(results[0]!.stock).toMatchObject({ on_hand: 5, version: 1 });
    expect(results[1]!.transaction).toMatchObject({ seq: 2, type: "REMOVE" });
    expect(results[1]!.stock).toMatchObject({ on_hand: 0, available: 0, version: 2 });
    expect(await stockOf(product)).toMatchObject({ on_hand: 0, reserved: 0, available: 0, version: 2 });
  });

  it("applies items of the same product in the order given: REMOVE 5 before ADD 5 on an empty product refuses the REMOVE", async () => {
    const product = freshProductId();
    const results = await batch([
      { product_id: product, type: "REMOVE", quantity: 5 },
      { product_id: product, type: "ADD", quantity: 5 },
    ]);
    expect(results.map((result) => result.status)).toEqual([409, 201]);
    expectItemProblem(results[0]!, 409, "insufficient_stock");
    expect(results[1]!.transaction).toMatchObject({ seq: 1, type: "ADD" });
    expect(await stockOf(product)).toMatchObject({ on_hand: 5, version: 1 });
  });

  it("keeps the order of many interleaved items of two products", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const items: BatchItem[] = [];
    for (let i = 1; i <= 20; i += 1) {
      items.push({ product_id: a, type: "ADD", quantity: i });
      items.push({ product_id: b, type: "ADD", quantity: 1, location_id: i % 2 === 0 ? "even" : "odd" });
    }
    const results = await batch(items);
    expect(results.every((result) => result.status === 201)).toBe(true);
    const aRows = results.filter((result) => result.transaction!.product_id === a).map((result) => result.transaction!);
    expect(aRows.map((row) => row.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(aRows.map((row) => row.quantity)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await historyRows(a)).map((row) => row.quantity)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await stockOf(a)).toMatchObject({ on_hand: 210, version: 20 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 20, version: 20 });
    await expectConsistent(a);
    await expectConsistent(b);
  });

  it("applies RESERVE, RELEASE and ADJUST items, an ADJUST recorded even into oversold", async () => {
    const product = freshProductId();
    const results = await batch([
      { product_id: product, type: "ADD", quantity: 10 },
      { product_id: product, type: "RESERVE", quantity: 6 },
      { product_id: product, type: "RELEASE", quantity: 2 },
      { product_id: product, type: "ADJUST", on_hand: 3 },
    ]);
    expect(results.map((result) => result.status)).toEqual([201, 201, 201, 201]);
    expect(results[3]!.transaction).toMatchObject({ type: "ADJUST", quantity: 3, delta: -7 });
    expect(results[3]!.stock).toMatchObject({ on_hand: 3, reserved: 4, available: -1, oversold: true });
    expect(await stockOf(product)).toMatchObject({ on_hand: 3, reserved: 4, available: -1, oversold: true, version: 4 });
  });

  it("answers 412 version_conflict with current_version for an item whose expected_version is stale, and applies the others", async () => {
    const product = freshProductId();
    expect((await postTransaction(product, { type: "ADD", quantity: 5 })).status).toBe(201);
    const results = await batch([
      { product_id: product, type: "REMOVE", quantity: 1, expected_version: 1 },
      { product_id: product, type: "REMOVE", quantity: 1, expected_version: 1 },
      { product_id: product, type: "REMOVE", quantity: 1, expected_version: 2 },
    ]);
    expect(results.map((result) => result.status)).toEqual([201, 412, 201]);
    const problem = expectItemProblem(results[1]!, 412, "version_conflict");
    expect(problem.current_version).toBe(2);
    expect(await stockOf(product)).toMatchObject({ on_hand: 3, version: 3 });
  });

  it("answers 400 to a batch sent with If-Match (the version check is per item, expected_version) and applies nothing", async () => {
    const product = freshProductId();
    const response = await call("POST", "/v1/transactions/batch", {
      role: "writer",
      headers: { "idempotency-key": freshKey(), "if-match": '"0"' },
      body: { transactions: [{ product_id: product, type: "ADD", quantity: 1, reason: "batch-test" }] },
    });
    const problem = await expectProblem(response, 400, "invalid_request");
    expect((problem.errors as { path: string }[]).map((error) => error.path)).toEqual(["header.if-match"]);
    expect(await stockOf(product)).toMatchObject({ version: 0 });
  });

  it("answers 422 limit_exceeded for an item that would take on_hand past 2^53 - 1, and applies the others", async () => {
    const full = freshProductId();
    const other = freshProductId();
    const results = await batch([
      { product_id: full, type: "ADJUST", on_hand: Number.MAX_SAFE_INTEGER },
      { product_id: full, type: "ADD", quantity: 1 },
      { product_id: other, type: "ADD", quantity: 1 },
    ]);
    expect(results.map((result) => result.status)).toEqual([201, 422, 201]);
    expectItemProblem(results[1]!, 422, "limit_exceeded");
    expect(await stockOf(full)).toMatchObject({ on_hand: Number.MAX_SAFE_INTEGER, version: 1 });
  });

  it("records created_by as the authenticated principal, with actor stored beside it", async () => {
    const product = freshProductId();
    const byWriter = await batch([{ product_id: product, type: "ADD", quantity: 1, actor: "picker-3" }], { role: "writer" });
    const byAdmin = await batch([{ product_id: product, type: "ADD", quantity: 1 }], { role: "admin" });
    expect(byWriter[0]!.transaction).toMatchObject({ created_by: "test-writer", actor: "picker-3" });
    expect(byAdmin[0]!.transaction).toMatchObject({ created_by: "test-admin", actor: null });
    expect((await historyRows(product)).map((row) => [row.created_by, row.actor])).toEqual([
      ["test-writer", "picker-3"],
      ["test-admin", null],
    ]);
  });
});
