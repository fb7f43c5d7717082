// Black-box tests of POST /v1/transactions/batch: whole-body validation, independent items in
// input order, order within one product, per-item idempotency under the batch key, roles.
// Storage is shared by the tests of this file, so every test uses its own product ids and keys.
import { describe, expect, it } from "vitest";
import { call, freshKey, freshProductId, historyRows, postTransaction, stockOf } from "../helpers/http";
import { rawState, sumsFromRows } from "../helpers/ledger-object";
import type { TestRole } from "../helpers/tokens";
import { expectProblem, type Problem, RFC3339_MS, type Stock, type Transaction, UUID } from "../helpers/wire";

interface ItemResult {
  index: number;
  status: number;
  transaction?: Transaction;
  stock?: Stock;
  error?: Problem;
}

interface BatchItem {
  product_id: string;
  type: string;
  quantity?: number;
  on_hand?: number;
  reason?: string;
  location_id?: string;
  actor?: string;
  metadata?: Record<string, unknown>;
  expected_version?: number;
  [field: string]: unknown;
}

function postBatch(items: BatchItem[], options: { key?: string | null; role?: TestRole } = {}): Promise<Response> {
  const key = options.key === undefined ? freshKey() : options.key;
  return call("POST", "/v1/transactions/batch", {
    role: options.role ?? "writer",
    headers: key === null ? {} : { "idempotency-key": key },
    body: { transactions: items.map((item) => ({ reason: "batch-test", ...item })) },
  });
}

/** Posts a batch, expects 200 and one result per item with index = position; returns the results. */
async function batch(items: BatchItem[], options: { key?: string; role?: TestRole } = {}): Promise<ItemResult[]> {
  const response = await postBatch(items, options);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json\b/);
  const { results } = JSON.parse(text) as { results: ItemResult[] };
  expect(results).toHaveLength(items.length);
  results.forEach((result, position) => {
    expect(result.index).toBe(position);
  });
  return results;
}

/** An item's error is a full problem object whose status is the item's status. */
function expectItemProblem(result: ItemResult, status: number, code: string): Problem {
  expect(result.status, JSON.stringify(result)).toBe(status);
  expect(result.transaction).toBeUndefined();
  expect(result.error).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  return result.error!;
}

/** The product's cache equals the sums of its raw rows, with seq 1..n and no gaps. */
async function expectConsistent(product_id: string): Promise<void> {
  const raw = await rawState(product_id);
  const sums = sumsFromRows(raw.rows);
  expect(raw.levels).toEqual([...sums.keys()].sort().map((location_id) => ({ location_id, ...sums.get(location_id)! })));
  expect(raw.rows.map((row) => row.seq)).toEqual(raw.rows.map((_, i) => i + 1));
  expect(raw.totals?.version ?? 0).toBe(raw.rows.length);
}

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

describe("replaying a batch", () => {
  it("replays applied items under the same key as 200 with their original transaction and stock, writing nothing twice", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const key = freshKey();
    const items: BatchItem[] = [
      { product_id: a, type: "ADD", quantity: 5 },
      { product_id: b, type: "ADD", quantity: 2 },
      { product_id: a, type: "REMOVE", quantity: 1 },
    ];
    const first = await batch(items, { key });
    expect(first.map((result) => result.status)).toEqual([201, 201, 201]);
    // A write between the two sends: replays must still answer the original stock.
    expect((await postTransaction(a, { type: "ADD", quantity: 100 })).status).toBe(201);

    const replay = await batch(items, { key });
    expect(replay.map((result) => result.status)).toEqual([200, 200, 200]);
    replay.forEach((result, i) => {
      expect(result.transaction).toEqual(first[i]!.transaction);
      expect(result.stock).toEqual(first[i]!.stock);
    });
    expect(await stockOf(a)).toMatchObject({ on_hand: 104, version: 3 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 2, version: 1 });
    await expectConsistent(a);
  });

  it("evaluates refused items again on replay: an item refused for lack of stock is applied once stock arrived, the rest replay", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const key = freshKey();
    const items: BatchItem[] = [
      { product_id: a, type: "ADD", quantity: 3 },
      { product_id: b, type: "REMOVE", quantity: 2 },
      { product_id: a, type: "REMOVE", quantity: 1 },
    ];
    const first = await batch(items, { key });
    expect(first.map((result) => result.status)).toEqual([201, 409, 201]);

    // Still short: refused again, and still nothing written for it.
    const stillShort = await batch(items, { key });
    expect(stillShort.map((result) => result.status)).toEqual([200, 409, 200]);
    expect((await rawState(b)).rows).toEqual([]);

    expect((await postTransaction(b, { type: "ADD", quantity: 2 })).status).toBe(201);
    const replay = await batch(items, { key });
    expect(replay.map((result) => result.status)).toEqual([200, 201, 200]);
    expect(replay[1]!.transaction).toMatchObject({ product_id: b, seq: 2, type: "REMOVE", quantity: 2 });
    expect(replay[0]!.transaction).toEqual(first[0]!.transaction);
    expect(replay[2]!.transaction).toEqual(first[2]!.transaction);

    const again = await batch(items, { key });
    expect(again.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(again[1]!.transaction).toEqual(replay[1]!.transaction);
    expect(await stockOf(a)).toMatchObject({ on_hand: 2, version: 2 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 0, version: 2 });
  });

  it("answers 422 idempotency_key_reused for an item whose position was used for a different request under the same batch key", async () => {
    const product = freshProductId();
    const other = freshProductId();
    const key = freshKey();
    await batch(
      [
        { product_id: product, type: "ADD", quantity: 5 },
        { product_id: other, type: "ADD", quantity: 1 },
      ],
      { key },
    );
    const results = await batch(
      [
        { product_id: product, type: "ADD", quantity: 6 },
        { product_id: other, type: "ADD", quantity: 1 },
      ],
      { key },
    );
    expect(results.map((result) => result.status)).toEqual([422, 200]);
    expectItemProblem(results[0]!, 422, "idempotency_key_reused");
    expect(await stockOf(product)).toMatchObject({ on_hand: 5, version: 1 });
  });

  it("applies each item once when the same batch is sent twice at the same time", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const key = freshKey();
    const items: BatchItem[] = [
      { product_id: a, type: "ADD", quantity: 2 },
      { product_id: b, type: "ADD", quantity: 3 },
      { product_id: a, type: "ADD", quantity: 4 },
    ];
    const [one, two] = await Promise.all([batch(items, { key }), batch(items, { key })]);
    for (let i = 0; i < items.length; i += 1) {
      expect([one![i]!.status, two![i]!.status].sort()).toEqual([200, 201]);
      expect(one![i]!.transaction).toEqual(two![i]!.transaction);
    }
    expect(await stockOf(a)).toMatchObject({ on_hand: 6, version: 2 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 3, version: 1 });
  });
});

describe("validating a batch", () => {
  it("refuses the whole batch with 400 when one item is invalid, naming body.transactions.3.quantity, and applies no item", async () => {
    const products = [freshProductId(), freshProductId(), freshProductId(), freshProductId(), freshProductId()];
    const response = await postBatch(products.map((product_id, i) => ({ product_id, type: "ADD", quantity: i === 3 ? 0 : 1 })));
    const problem = await expectProblem(response, 400, "invalid_request");
    expect(problem.errors).toEqual([expect.objectContaining({ path: "body.transactions.3.quantity" })]);
    for (const product of products) {
      expect(await stockOf(product)).toMatchObject({ on_hand: 0, version: 0 });
      expect((await rawState(product)).rows).toEqual([]);
    }
  });

  it("names every invalid item's field: a bad product id, an unknown field, a missing reason, ADJUST with quantity", async () => {
    const good = freshProductId();
    const response = await call("POST", "/v1/transactions/batch", {
      role: "writer",
      headers: { "idempotency-key": freshKey() },
      body: {
        transactions: [
          { product_id: good, type: "ADD", quantity: 1, reason: "ok" },
          { product_id: "bad id", type: "ADD", quantity: 1, reason: "r" },
          { product_id: good, type: "ADD", quantity: 1, reason: "r", surprise: 1 },
          { product_id: good, type: "ADD", quantity: 1 },
          { product_id: good, type: "ADJUST", quantity: 3, reason: "count" },
        ],
      },
    });
    const problem = await expectProblem(response, 400, "invalid_request");
    const paths = (problem.errors as { path: string }[]).map((error) => error.path);
    expect(paths).toContain("body.transactions.1.product_id");
    expect(paths).toContain("body.transactions.3.reason");
    expect(paths.some((path) => path.startsWith("body.transactions.2"))).toBe(true);
    expect(paths.some((path) => path.startsWith("body.transactions.4"))).toBe(true);
    expect(paths.some((path) => path.startsWith("body.transactions.0"))).toBe(false);
    expect(await stockOf(good)).toMatchObject({ version: 0 });
  });

  it("refuses an empty batch and a body without transactions with 400", async () => {
    await expectProblem(await postBatch([]), 400, "invalid_request");
    await expectProblem(
      await call("POST", "/v1/transactions/batch", { role: "writer", headers: { "idempotency-key": freshKey() }, body: {} }),
      400,
      "invalid_request",
    );
  });

  it("refuses 501 items with 400 naming body.transactions, applying none", async () => {
    const product = freshProductId();
    const items = Array.from({ length: 501 }, (): BatchItem => ({ product_id: product, type: "ADD", quantity: 1, reason: "r" }));
    const problem = await expectProblem(await postBatch(items), 400, "invalid_request");
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.transactions" })]));
    expect(await stockOf(product)).toMatchObject({ on_hand: 0, version: 0 });
  });

  it("accepts exactly 500 items and applies them all", async () => {
    const products = Array.from({ length: 5 }, () => freshProductId());
    const items = Array.from(
      { length: 500 },
      (_, i): BatchItem => ({ product_id: products[i % 5]!, type: "ADD", quantity: 1, reason: "r" }),
    );
    const results = await batch(items);
    expect(results.every((result) => result.status === 201)).toBe(true);
    for (const product of products) expect(await stockOf(product)).toMatchObject({ on_hand: 100, version: 100 });
  });

  it("answers 400 idempotency_key_required without an Idempotency-Key, applying nothing", async () => {
    const product = freshProductId();
    await expectProblem(
      await postBatch([{ product_id: product, type: "ADD", quantity: 1 }], { key: null }),
      400,
      "idempotency_key_required",
    );
    expect(await stockOf(product)).toMatchObject({ version: 0 });
  });

  it("answers 413 payload_too_large for a body over 64 KiB", async () => {
    const product = freshProductId();
    const items = Array.from(
      { length: 400 },
      (): BatchItem => ({ product_id: product, type: "ADD", quantity: 1, reason: "r".repeat(180) }),
    );
    await expectProblem(await postBatch(items), 413, "payload_too_large");
    expect(await stockOf(product)).toMatchObject({ version: 0 });
  });
});

describe("batch roles", () => {
  it("forbids a reader (403) and applies nothing", async () => {
    const product = freshProductId();
    await expectProblem(await postBatch([{ product_id: product, type: "ADD", quantity: 1 }], { role: "reader" }), 403, "forbidden");
    expect(await stockOf(product)).toMatchObject({ version: 0 });
  });

  it("answers 401 without a token", async () => {
    const response = await call("POST", "/v1/transactions/batch", {
      role: null,
      headers: { "idempotency-key": freshKey() },
      body: { transactions: [{ product_id: freshProductId(), type: "ADD", quantity: 1, reason: "r" }] },
    });
    await expectProblem(response, 401, "unauthorized");
  });
});
