// Webhook events: the ledger rows each event type leaves, the keys they are stored under, and one event over several products.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import { freshProductId, getStock, historyRows, postTransaction } from "../helpers/http";
import { injectFailureAfterLedgerInsert, ledgerStub, rawState } from "../helpers/ledger-object";
import { createReservation } from "../helpers/reservations";
import { type Answer, answerOf, cancelled, deliveryById, placed, received, send, uid } from "../helpers/webhooks";
import { type Problem, expectProblem as problemOf } from "../helpers/wire";

/** Counts ProductLedger.applyFacts calls per product while `work` runs (patched on the class prototype, restored after). */
async function countObjectCalls(anyProduct: string, work: () => Promise<void>): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  type Apply = (principal: string, ops: { product_id: string }[]) => unknown;
  let restore: (() => void) | undefined;
  await runInDurableObject<ProductLedger, void>(ledgerStub(anyProduct), (instance) => {
    const prototype = Object.getPrototypeOf(instance) as { applyFacts: Apply };
    const original = prototype.applyFacts;
    prototype.applyFacts = function (this: unknown, principal, ops) {
      const product = ops[0]?.product_id ?? "(none)";
      calls.set(product, (calls.get(product) ?? 0) + 1);
      return original.call(this, principal, ops);
    };
    restore = () => {
      prototype.applyFacts = original;
    };
  });
  try {
    await work();
  } finally {
    restore?.();
  }
  return calls;
}

describe("webhook event types", () => {
  it("stock.received ADDs the quantity at the location, keyed received:<reference>:<product>:<location>", async () => {
    const product = freshProductId("wh-recv");
    const reference = uid("po");
    const answer = await answerOf(await send(received(product, 7, reference, "wh-2")));
    expect(answer).toEqual({
      status: "applied",
      results: [{ product_id: product, key: `received:${reference}:${product}:wh-2`, status: "applied", seq: 1 }],
    });
    const [row] = await historyRows(product);
    expect(row).toMatchObject({
      type: "ADD",
      quantity: 7,
      delta: 7,
      location_id: "wh-2",
      reason: `received:${reference}`,
      created_by: "webhook:test-oms",
      idempotency_key: `received:${reference}:${product}:wh-2`,
    });
    const state = await rawState(product);
    // Stored in the webhook key space, apart from clients' Idempotency-Keys.
    expect(state.keys).toContain(`webhook:received:${reference}:${product}:wh-2`);
    expect(state.levels).toEqual([{ location_id: "wh-2", on_hand: 7, reserved: 0 }]);

    // The same reference at the default location is another receipt.
    const other = await answerOf(await send(received(product, 1, reference)));
    expect(other.results[0]).toMatchObject({ key: `received:${reference}:${product}:default`, status: "applied", seq: 2 });
    expect((await getStock(product)).body.on_hand).toBe(8);
  });

  it("stock.counted ADJUSTs on_hand to the count, recorded as a fact even when it makes the product oversold", async () => {
    const product = freshProductId("wh-count");
    await answerOf(await send(received(product, 10, uid("po"))));
    const reservation = await createReservation({ lines: [{ product_id: product, quantity: 6 }] });
    expect(reservation.status).toBe(201);
    expect((await getStock(product)).body).toMatchObject({ on_hand: 10, reserved: 6, available: 4, oversold: false });

    const reference = uid("count");
    const answer = await answerOf(await send({ type: "stock.counted", data: { product_id: product, on_hand: 3, reference } }));
    expect(answer.status).toBe("applied");
    expect(answer.results[0]).toMatchObject({
      product_id: product,
      key: `counted:${reference}:${product}:default`,
      status: "applied",
      seq: 3,
    });
    expect((await getStock(product)).body).toMatchObject({ on_hand: 3, reserved: 6, available: -3, oversold: true });
    const rows = await historyRows(product);
    expect(rows[rows.length - 1]).toMatchObject({
      type: "ADJUST",
      delta: -7,
      reason: `counted:${reference}`,
      created_by: "webhook:test-oms",
    });
  });

  it("order.placed REMOVEs each line as a fact beyond stock (oversold), and a later stock.received clears oversold", async () => {
    const product = freshProductId("wh-place");
    await answerOf(await send(received(product, 2, uid("po"))));
    const order = uid("ord");
    const answer = await answerOf(await send(placed(order, [{ line_id: "l1", product_id: product, quantity: 5 }])));
    expect(answer).toEqual({
      status: "applied",
      results: [{ product_id: product, key: `order:${order}:l1:placed`, status: "applied", seq: 2 }],
    });
    expect((await getStock(product)).body).toMatchObject({ on_hand: -3, available: -3, oversold: true });
    const rows = await historyRows(product);
    expect(rows[1]).toMatchObject({
      type: "REMOVE",
      quantity: 5,
      delta: -5,
      reason: `order:${order}`,
      created_by: "webhook:test-oms",
      idempotency_key: `order:${order}:l1:placed`,
    });

    await answerOf(await send(received(product, 3, uid("po"))));
    expect((await getStock(product)).body).toMatchObject({ on_hand: 0, available: 0, oversold: false });
  });

  it("order.cancelled RETURNs the quantity and location of the recorded placement, once", async () => {
    const product = freshProductId("wh-cancel");
    await answerOf(await send(received(product, 10, uid("po"), "store-1")));
    const order = uid("ord");
    await answerOf(await send(placed(order, [{ line_id: "l1", product_id: product, quantity: 3, location_id: "store-1" }])));
    expect((await getStock(product)).body.on_hand).toBe(7);

    // The cancel names another quantity and no location: the placement's are what come back.
    const cancel = cancelled(order, [{ line_id: "l1", product_id: product, quantity: 99 }]);
    const answer = await answerOf(await send(cancel));
    expect(answer).toEqual({
      status: "applied",
      results: [{ product_id: product, key: `order:${order}:l1:cancelled`, status: "applied", seq: 3 }],
    });
    const rows = await historyRows(product);
    expect(rows[2]).toMatchObject({
      type: "RETURN",
      quantity: 3,
      delta: 3,
      location_id: "store-1",
      reason: `order:${order}:cancelled`,
      created_by: "webhook:test-oms",
    });
    expect((await getStock(product)).body).toMatchObject({ on_hand: 10, locations: [{ location_id: "store-1", on_hand: 10 }] });

    const before = await rawState(product);
    const again = await answerOf(await send(cancel));
    expect(again.results).toEqual([{ product_id: product, key: `order:${order}:l1:cancelled`, status: "duplicate", seq: 3 }]);
    expect(await rawState(product)).toEqual(before);
  });

  it("return.received RETURNs each line, keyed return:<return_id>:<line_id>", async () => {
    const a = freshProductId("wh-ret-a");
    const b = freshProductId("wh-ret-b");
    const returnId = uid("ret");
    const answer = await answerOf(
      await send({
        type: "return.received",
        data: {
          return_id: returnId,
          lines: [
            { line_id: "r1", product_id: a, quantity: 2 },
            { line_id: "r2", product_id: b, quantity: 1, location_id: "store-9" },
          ],
        },
      }),
    );
    expect(answer).toEqual({
      status: "applied",
      results: [
        { product_id: a, key: `return:${returnId}:r1`, status: "applied", seq: 1 },
        { product_id: b, key: `return:${returnId}:r2`, status: "applied", seq: 1 },
      ],
    });
    expect((await historyRows(a))[0]).toMatchObject({
      type: "RETURN",
      quantity: 2,
      location_id: "default",
      reason: `return:${returnId}`,
      created_by: "webhook:test-oms",
    });
    expect((await historyRows(b))[0]).toMatchObject({
      type: "RETURN",
      quantity: 1,
      location_id: "store-9",
      reason: `return:${returnId}`,
      created_by: "webhook:test-oms",
    });
  });

  it("answers 422 for a line the ledger refuses (a total past 2^53 - 1), naming it refused in results, writing nothing for it", async () => {
    const product = freshProductId("wh-refused");
    await answerOf(
      await send({ type: "stock.counted", data: { product_id: product, on_hand: Number.MAX_SAFE_INTEGER, reference: uid("count") } }),
    );
    const before = await rawState(product);
    const reference = uid("po");
    const problem = (await problemOf(await send(received(product, 1, reference)), 422, "limit_exceeded")) as Problem & { results: unknown };
    expect(problem.results).toEqual([
      { product_id: product, key: `received:${reference}:${product}:default`, status: "refused", error: "limit_exceeded" },
    ]);
    expect(await rawState(product)).toEqual(before);
    expect((await getStock(product)).body.on_hand).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("answers an unknown event type with 200 ignored and empty results, writes nothing, and logs it as ignored", async () => {
    const product = freshProductId("wh-unknown");
    const id = uid("msg-unknown");
    const response = await send({ type: "stock.teleported", data: { product_id: product, quantity: 5 } }, { id });
    expect(await answerOf(response)).toEqual({ status: "ignored", results: [] });
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toMatchObject({ id, type: "stock.teleported", status: "ignored" });
  });
});

describe("webhook keys and client keys", () => {
  it("keeps a client's Idempotency-Key apart from webhook business keys: a client key named like a cancellation does not cancel a placement", async () => {
    const product = freshProductId("wh-space");
    const order = uid("order");
    expect((await postTransaction(product, { type: "ADD", quantity: 5 }, { key: `order:${order}:l1:cancelled` })).status).toBe(201);
    const placed = await answerOf(
      await send({ type: "order.placed", data: { order_id: order, lines: [{ line_id: "l1", product_id: product, quantity: 2 }] } }),
    );
    expect(placed.results[0]).toMatchObject({ status: "applied" });
    expect((await getStock(product)).body.on_hand).toBe(3);
  });

  it("answers 422 idempotency_key_reused when an event re-sends a business id with different data, and logs it rejected", async () => {
    const product = freshProductId("wh-conflict");
    const reference = uid("po");
    await answerOf(await send(received(product, 4, reference)));
    await problemOf(await send(received(product, 9, reference)), 422, "idempotency_key_reused");
    expect((await getStock(product)).body.on_hand).toBe(4);
  });
});

describe("webhooks across products", () => {
  it("calls each product's object once for a multi-line order over several products, in line order", async () => {
    const a = freshProductId("wh-multi-a");
    const b = freshProductId("wh-multi-b");
    const c = freshProductId("wh-multi-c");
    const order = uid("ord");
    const lines = [
      { line_id: "l1", product_id: a, quantity: 1 },
      { line_id: "l2", product_id: b, quantity: 2 },
      { line_id: "l3", product_id: a, quantity: 3 },
      { line_id: "l4", product_id: c, quantity: 4 },
      { line_id: "l5", product_id: b, quantity: 5 },
    ];
    let answer: Answer | undefined;
    const calls = await countObjectCalls(a, async () => {
      answer = await answerOf(await send(placed(order, lines)));
    });
    expect(Object.fromEntries(calls)).toEqual({ [a]: 1, [b]: 1, [c]: 1 });
    expect(answer!.results.map((result) => [result.product_id, result.key, result.status, result.seq])).toEqual([
      [a, `order:${order}:l1:placed`, "applied", 1],
      [b, `order:${order}:l2:placed`, "applied", 1],
      [a, `order:${order}:l3:placed`, "applied", 2],
      [c, `order:${order}:l4:placed`, "applied", 1],
      [b, `order:${order}:l5:placed`, "applied", 2],
    ]);
    expect((await rawState(a)).rows.map((row) => [row.type, row.delta])).toEqual([
      ["REMOVE", -1],
      ["REMOVE", -3],
    ]);
    expect((await rawState(b)).rows.map((row) => [row.type, row.delta])).toEqual([
      ["REMOVE", -2],
      ["REMOVE", -5],
    ]);
    expect((await rawState(c)).rows.map((row) => [row.type, row.delta])).toEqual([["REMOVE", -4]]);
  });

  it("answers 500 when one product's object fails halfway, and the retry under the same webhook-id completes it exactly once", async () => {
    const good = freshProductId("wh-half-good");
    const bad = freshProductId("wh-half-bad");
    const order = uid("ord");
    const id = uid("msg-half");
    const event = placed(order, [
      { line_id: "l1", product_id: good, quantity: 1 },
      { line_id: "l2", product_id: bad, quantity: 2 },
    ]);

    await injectFailureAfterLedgerInsert(bad, true);
    try {
      await problemOf(await send(event, { id }), 500, "internal_error");
    } finally {
      await injectFailureAfterLedgerInsert(bad, false);
    }
    expect((await rawState(good)).rows.map((row) => [row.type, row.idempotency_key])).toEqual([["REMOVE", `order:${order}:l1:placed`]]);
    expect((await rawState(bad)).rows).toEqual([]);
    expect(await deliveryById("test-oms", id)).toMatchObject({ status: "failed", attempts: 1 });

    const retry = await answerOf(await send(event, { id }));
    expect(retry.status).toBe("applied");
    expect(retry.results.map((result) => [result.product_id, result.status])).toEqual([
      [good, "duplicate"],
      [bad, "applied"],
    ]);
    expect(
      (await rawState(good)).rows.filter((row) => row.type === "REMOVE" && row.idempotency_key === `order:${order}:l1:placed`),
    ).toHaveLength(1);
    expect((await rawState(good)).rows).toHaveLength(1);
    expect((await rawState(bad)).rows.map((row) => [row.type, row.delta, row.idempotency_key])).toEqual([
      ["REMOVE", -2, `order:${order}:l2:placed`],
    ]);
    expect(await deliveryById("test-oms", id)).toMatchObject({ id, type: "order.placed", status: "applied", attempts: 2 });

    // Once applied, the same webhook-id is a duplicate and writes nothing.
    const third = await answerOf(await send(event, { id }));
    expect(third).toEqual({ status: "duplicate", results: retry.results });
    expect((await rawState(bad)).rows).toHaveLength(1);
  });
});
