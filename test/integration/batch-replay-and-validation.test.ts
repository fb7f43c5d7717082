// A batch's per-item idempotency under the batch key, whole-body validation and limits, and who may send one.
import { describe, expect, it } from "vitest";
import { type BatchItem, batch, expectItemProblem, postBatch } from "../helpers/batch";
import { call, freshKey, freshProductId, postTransaction, stockOf } from "../helpers/http";
import { expectConsistent, rawState } from "../helpers/ledger-object";
import { expectProblem } from "../helpers/wire";

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
