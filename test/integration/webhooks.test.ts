// Webhooks in (API.md "Webhooks in"): Standard Webhooks signatures, every event type and the
// ledger rows it leaves, redelivery under the same and a new webhook-id, cancel before place,
// a delivery that fails halfway and its retry, limits, and the admin's delivery log.
// Storage is shared by the tests of this file: every test uses its own product, order and webhook ids.
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditDb } from "../../src/d1/db";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import { WEBHOOK_IN_PROGRESS_WAIT_MS, WEBHOOK_PROCESSING_LEASE_MS } from "../../src/limits";
import { finishDelivery, renewLease } from "../../src/webhooks/deliveries";
import { BASE, call, freshProductId, getStock, postTransaction } from "../helpers/http";
import { closeProductFor, injectFailureAfterLedgerInsert, ledgerStub, rawState } from "../helpers/ledger-object";
import { createReservation } from "../helpers/reservations";
import { TEST_WEBHOOK_SECRETS } from "../helpers/tokens";
import { waitFor } from "../helpers/wait";
import { type SendOptions, sendWebhook, sign } from "../helpers/webhooks";
import { type Problem, expectProblem as problemOf, RFC3339_MS, type Transaction } from "../helpers/wire";

interface LineResult {
  product_id: string;
  key: string;
  status: "applied" | "duplicate" | "skipped_cancelled" | "cancel_remembered" | "refused";
  seq?: number;
  error?: string;
}

interface Answer {
  status: "applied" | "duplicate" | "ignored";
  results: LineResult[];
}

interface Delivery {
  seq: number;
  id: string;
  source_id: string;
  type: string;
  status: string;
  result: unknown;
  attempts: number;
  received_at: string;
  updated_at: string;
}

interface DeliveryPage {
  data: Delivery[];
  next_after: number | null;
}

const PRIMARY = TEST_WEBHOOK_SECRETS.primary;

function uid(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Sends a signed event to test-oms with the primary secret unless told otherwise. */
function send(event: unknown, options: Partial<SendOptions> = {}): Promise<Response> {
  return sendWebhook(event, { secret: PRIMARY, ...options });
}

/** Sends raw bytes with exactly the webhook headers given (a header set to undefined is left out). */
function sendRaw(source: string, body: string, headers: Record<string, string | undefined>): Promise<Response> {
  const sent = new Headers({ "content-type": "application/json" });
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) sent.set(name, value);
  return exports.default.fetch(new Request(`${BASE}/v1/webhooks/${source}`, { method: "POST", headers: sent, body }));
}

async function answerOf(response: Response): Promise<Answer> {
  expect(response.status).toBe(200);
  return (await response.json()) as Answer;
}

async function transactionsOf(product_id: string): Promise<Transaction[]> {
  const response = await call("GET", `/v1/products/${encodeURIComponent(product_id)}/transactions?limit=500`, { role: "reader" });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Transaction[] }).data;
}

async function listDeliveries(query: string, role: "admin" | "writer" | "reader" | null = "admin"): Promise<Response> {
  return call("GET", `/v1/admin/webhooks${query}`, { role });
}

/** Every delivery of a source, newest first, walking the pages. */
async function allDeliveries(source_id: string, limit = 200): Promise<Delivery[]> {
  const all: Delivery[] = [];
  let after: number | null = null;
  for (let page = 0; page < 1000; page++) {
    const response = await listDeliveries(`?source_id=${source_id}&limit=${limit}${after === null ? "" : `&after=${after}`}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as DeliveryPage;
    all.push(...body.data);
    if (body.next_after === null) return all;
    expect(body.next_after).toBe(body.data[body.data.length - 1]!.seq);
    after = body.next_after;
  }
  throw new Error("the delivery log never reached its last page");
}

async function deliveryById(source_id: string, id: string): Promise<Delivery | undefined> {
  return (await allDeliveries(source_id)).find((delivery) => delivery.id === id);
}

function placed(order_id: string, lines: { line_id: string; product_id: string; quantity: number; location_id?: string }[]) {
  return { type: "order.placed", data: { order_id, lines } };
}

function cancelled(order_id: string, lines: { line_id: string; product_id: string; quantity: number; location_id?: string }[]) {
  return { type: "order.cancelled", data: { order_id, lines } };
}

function received(product_id: string, quantity: number, reference: string, location_id?: string) {
  return { type: "stock.received", data: { product_id, quantity, reference, ...(location_id === undefined ? {} : { location_id }) } };
}

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

describe("webhook signatures", () => {
  it("applies an event whose Standard Webhooks signature is valid, without any bearer token", async () => {
    const product = freshProductId("wh-sig");
    const response = await send(received(product, 4, uid("po")));
    const answer = await answerOf(response);
    expect(answer.status).toBe("applied");
    expect(answer.results).toHaveLength(1);
    expect(answer.results[0]).toMatchObject({ product_id: product, status: "applied", seq: 1 });
    expect((await getStock(product)).body).toMatchObject({ on_hand: 4, available: 4, version: 1 });
  });

  it("refuses a body changed after signing with 401 invalid_signature, writes nothing and logs nothing", async () => {
    const product = freshProductId("wh-tamper");
    const id = uid("msg-tampered");
    const response = await send(received(product, 5, uid("po")), { id, tamper: (body) => body.replace('"quantity":5', '"quantity":50') });
    await problemOf(response, 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("refuses a signature made with a secret the source does not have", async () => {
    const product = freshProductId("wh-wrong");
    const id = uid("msg-wrong-secret");
    await problemOf(await send(received(product, 5, uid("po")), { id, secret: TEST_WEBHOOK_SECRETS.other }), 401, "invalid_signature");
    // test-oms has only the primary secret: the previous one is not accepted there.
    await problemOf(await send(received(product, 5, uid("po")), { secret: TEST_WEBHOOK_SECRETS.previous }), 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("refuses a delivery whose timestamp is more than 5 minutes old, but accepts one 4 minutes old", async () => {
    const product = freshProductId("wh-stale");
    const id = uid("msg-stale");
    await problemOf(await send(received(product, 5, uid("po")), { id, timestamp: nowSeconds() - 360 }), 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();

    expect((await answerOf(await send(received(product, 5, uid("po")), { timestamp: nowSeconds() - 240 }))).status).toBe("applied");
    expect((await rawState(product)).rows).toHaveLength(1);
  });

  it("refuses a delivery whose timestamp is more than 5 minutes in the future", async () => {
    const product = freshProductId("wh-future");
    const id = uid("msg-future");
    await problemOf(await send(received(product, 5, uid("po")), { id, timestamp: nowSeconds() + 360 }), 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("refuses missing signature headers and malformed signature values with 401", async () => {
    const product = freshProductId("wh-missing");
    const body = JSON.stringify(received(product, 5, uid("po")));
    const id = uid("msg-missing");
    const timestamp = nowSeconds();
    const good = await sign(PRIMARY, id, timestamp, body);
    const attempts: Record<string, string | undefined>[] = [
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": undefined },
      { "webhook-id": id, "webhook-timestamp": undefined, "webhook-signature": good },
      { "webhook-id": undefined, "webhook-timestamp": String(timestamp), "webhook-signature": good },
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": "" },
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": good.replace(/^v1,/, "v2,") },
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": "v1,not-base64!!" },
      { "webhook-id": id, "webhook-timestamp": "soon", "webhook-signature": good },
      // Signed for another webhook-id: the id is part of what is signed.
      { "webhook-id": `${id}-other`, "webhook-timestamp": String(timestamp), "webhook-signature": good },
    ];
    for (const headers of attempts) {
      await problemOf(await sendRaw("test-oms", body, headers), 401, "invalid_signature");
    }
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("accepts a signature header with several v1 entries when only one of them is valid", async () => {
    const product = freshProductId("wh-multi");
    const body = JSON.stringify(received(product, 3, uid("po")));
    const id = uid("msg-multi");
    const timestamp = nowSeconds();
    const good = await sign(PRIMARY, id, timestamp, body);
    const wrong = await sign(TEST_WEBHOOK_SECRETS.other, id, timestamp, body);
    const response = await sendRaw("test-oms", body, {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `${wrong} v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ${good} v2,ignored`,
    });
    expect((await answerOf(response)).status).toBe("applied");
    expect((await getStock(product)).body.on_hand).toBe(3);
  });

  it("refuses a signature header whose several entries are all invalid", async () => {
    const product = freshProductId("wh-multi-bad");
    const body = JSON.stringify(received(product, 3, uid("po")));
    const id = uid("msg-multi-bad");
    const timestamp = nowSeconds();
    const wrong = await sign(TEST_WEBHOOK_SECRETS.other, id, timestamp, body);
    const response = await sendRaw("test-oms", body, {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `${wrong} ${wrong.slice(0, -4)}AAA=`,
    });
    await problemOf(response, 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
  });

  it("accepts either secret of a source that is rotating its key, and records rows as webhook:<source_id>", async () => {
    const product = freshProductId("wh-rotate");
    const reference1 = uid("po");
    const reference2 = uid("po");
    expect(
      (await answerOf(await send(received(product, 2, reference1), { source: "rotating-oms", secret: TEST_WEBHOOK_SECRETS.primary })))
        .status,
    ).toBe("applied");
    expect(
      (await answerOf(await send(received(product, 3, reference2), { source: "rotating-oms", secret: TEST_WEBHOOK_SECRETS.previous })))
        .status,
    ).toBe("applied");
    await problemOf(
      await send(received(product, 9, uid("po")), { source: "rotating-oms", secret: TEST_WEBHOOK_SECRETS.other }),
      401,
      "invalid_signature",
    );
    const rows = await transactionsOf(product);
    expect(rows.map((row) => [row.type, row.quantity, row.reason, row.created_by])).toEqual([
      ["ADD", 2, `received:${reference1}`, "webhook:rotating-oms"],
      ["ADD", 3, `received:${reference2}`, "webhook:rotating-oms"],
    ]);
  });

  it("answers 404 not_found for an unknown source even with a well-formed signature, and logs nothing", async () => {
    const product = freshProductId("wh-nosource");
    const id = uid("msg-nosource");
    await problemOf(await send(received(product, 1, uid("po")), { id, source: "no-such-oms" }), 404, "not_found");
    expect((await rawState(product)).rows).toHaveLength(0);
    const log = await listDeliveries("?source_id=no-such-oms");
    expect(((await log.json()) as DeliveryPage).data).toEqual([]);
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

describe("webhook event types", () => {
  it("stock.received ADDs the quantity at the location, keyed received:<reference>:<product>:<location>", async () => {
    const product = freshProductId("wh-recv");
    const reference = uid("po");
    const answer = await answerOf(await send(received(product, 7, reference, "wh-2")));
    expect(answer).toEqual({
      status: "applied",
      results: [{ product_id: product, key: `received:${reference}:${product}:wh-2`, status: "applied", seq: 1 }],
    });
    const [row] = await transactionsOf(product);
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
    const rows = await transactionsOf(product);
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
    const rows = await transactionsOf(product);
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
    const rows = await transactionsOf(product);
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
    expect((await transactionsOf(a))[0]).toMatchObject({
      type: "RETURN",
      quantity: 2,
      location_id: "default",
      reason: `return:${returnId}`,
      created_by: "webhook:test-oms",
    });
    expect((await transactionsOf(b))[0]).toMatchObject({
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

describe("webhook redelivery", () => {
  it("answers the same webhook-id again with duplicate and the first results, writing nothing", async () => {
    const a = freshProductId("wh-redeliver-a");
    const b = freshProductId("wh-redeliver-b");
    const order = uid("ord");
    const id = uid("msg-redeliver");
    const event = placed(order, [
      { line_id: "l1", product_id: a, quantity: 1 },
      { line_id: "l2", product_id: b, quantity: 2 },
    ]);
    const first = await answerOf(await send(event, { id }));
    expect(first.status).toBe("applied");
    const before = [await rawState(a), await rawState(b)];

    const second = await answerOf(await send(event, { id }));
    expect(second).toEqual({ status: "duplicate", results: first.results });
    expect([await rawState(a), await rawState(b)]).toEqual(before);
    expect(before[0]!.rows).toHaveLength(1);
    expect(before[1]!.rows).toHaveLength(1);
  });

  /** A delivery row as a run that claimed it leaves it: `status`, claimed `ago_ms` ago, `attempts` claims so far. */
  async function deliveryRow(id: string, status: string, ago_ms: number, attempts = 1): Promise<void> {
    const at = new Date(Date.now() - ago_ms).toISOString();
    await env.AUDIT_DB.prepare(
      "INSERT INTO webhook_deliveries (source_id, webhook_id, type, status, attempts, received_at, updated_at) VALUES ('test-oms', ?, 'order.placed', ?, ?, ?, ?)",
    )
      .bind(id, status, attempts, at, at)
      .run();
  }

  /** Sends `copies` copies of one delivery at once; the answers, and how long the slowest took. */
  async function sendTogether(event: unknown, id: string, copies: number): Promise<{ answers: Answer[]; slowest_ms: number }> {
    const timestamp = nowSeconds();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: copies }, async () => await answerOf(await send(event, { id, timestamp }))));
    return { answers, slowest_ms: Date.now() - started };
  }

  /** Exactly one answer says applied (with every line applied); the others repeat its results as duplicate. */
  function expectAppliedOnce(answers: Answer[]): Answer {
    const applied = answers.filter((answer) => answer.status === "applied");
    expect(applied).toHaveLength(1);
    expect(applied[0]!.results.every((result) => result.status === "applied")).toBe(true);
    for (const answer of answers.filter((each) => each !== applied[0]))
      expect(answer).toEqual({ status: "duplicate", results: applied[0]!.results });
    return applied[0]!;
  }

  it("applies copies of one delivery arriving together once: one applied, the rest duplicate with its results, and the log keeps them", async () => {
    const a = freshProductId("wh-together-a");
    const b = freshProductId("wh-together-b");
    const id = uid("msg-together");
    const event = placed(uid("ord"), [
      { line_id: "l1", product_id: a, quantity: 1 },
      { line_id: "l2", product_id: b, quantity: 2 },
    ]);
    // The first copy is held inside product a for 600 ms, so the others surely arrive while it runs.
    const { reopened } = await closeProductFor(a, 600);
    const { answers, slowest_ms } = await sendTogether(event, id, 12);
    await reopened;
    const applied = expectAppliedOnce(answers);
    // The copies polled and answered soon after the first finished, not at the end of their 5 s wait.
    expect(slowest_ms).toBeLessThan(WEBHOOK_IN_PROGRESS_WAIT_MS - 1_000);
    expect((await rawState(a)).rows).toHaveLength(1);
    expect((await rawState(b)).rows).toHaveLength(1);
    expect(await deliveryById("test-oms", id)).toMatchObject({ status: "applied", attempts: 1, result: applied.results });
  });

  it("applies copies of a delivery that failed before once, when they arrive together", async () => {
    const product = freshProductId("wh-failed-again");
    const id = uid("msg-failed-again");
    await deliveryRow(id, "failed", 60_000);
    const { reopened } = await closeProductFor(product, 400);
    const { answers } = await sendTogether(placed(uid("ord"), [{ line_id: "l1", product_id: product, quantity: 1 }]), id, 12);
    await reopened;
    const applied = expectAppliedOnce(answers);
    expect((await rawState(product)).rows).toHaveLength(1);
    expect(await deliveryById("test-oms", id)).toMatchObject({ status: "applied", attempts: 2, result: applied.results });
  });

  it("takes over a delivery whose run died (processing past its lease), and waits out a lease that ends meanwhile", async () => {
    const product = freshProductId("wh-lease");
    const dead = uid("msg-dead");
    await deliveryRow(dead, "processing", WEBHOOK_PROCESSING_LEASE_MS + 1_000);
    expect(
      (await answerOf(await send(placed(uid("ord"), [{ line_id: "l1", product_id: product, quantity: 3 }]), { id: dead }))).status,
    ).toBe("applied");
    expect(await deliveryById("test-oms", dead)).toMatchObject({ status: "applied", attempts: 2 });

    const ending = uid("msg-ending");
    await deliveryRow(ending, "processing", WEBHOOK_PROCESSING_LEASE_MS - 2_000);
    const started = Date.now();
    expect(
      (await answerOf(await send(placed(uid("ord"), [{ line_id: "l1", product_id: product, quantity: 4 }]), { id: ending }))).status,
    ).toBe("applied");
    // Taken over when the lease ran out, about 2 s in, not at the end of the 5 s wait.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(Date.now() - started).toBeLessThan(WEBHOOK_IN_PROGRESS_WAIT_MS - 500);
    expect((await getStock(product)).body.on_hand).toBe(-7);
  });

  it("never lets a run taken for dead record its end over the run that took over, running or finished; only the holder renews the lease", async () => {
    const product = freshProductId("wh-late");
    const db = auditDb(env.AUDIT_DB);
    // Finished: the late run (attempt 1) finds the delivery applied by attempt 2.
    const finished = uid("msg-late-finished");
    await deliveryRow(finished, "processing", WEBHOOK_PROCESSING_LEASE_MS + 1_000);
    const first = await answerOf(await send(received(product, 2, uid("po")), { id: finished }));
    expect(await finishDelivery(db, { source_id: "test-oms", webhook_id: finished, attempt: 1 }, "failed", [{ late: true }])).toBe(false);
    expect(await deliveryById("test-oms", finished)).toMatchObject({ status: "applied", attempts: 2, result: first.results });
    // Running: attempt 2 holds the delivery; attempt 1 can neither end it nor renew its lease.
    const running = uid("msg-late-running");
    await deliveryRow(running, "processing", 20_000, 2);
    const before = (await deliveryById("test-oms", running))!.updated_at;
    expect(await finishDelivery(db, { source_id: "test-oms", webhook_id: running, attempt: 1 }, "failed", [{ late: true }])).toBe(false);
    expect(await renewLease(db, { source_id: "test-oms", webhook_id: running, attempt: 1 })).toBe(false);
    expect(await deliveryById("test-oms", running)).toMatchObject({ status: "processing", attempts: 2, result: null, updated_at: before });
    expect(await renewLease(db, { source_id: "test-oms", webhook_id: running, attempt: 2 })).toBe(true);
    expect((await deliveryById("test-oms", running))!.updated_at > before).toBe(true);
  });

  it("answers a run that lost its claim (taken for dead while it ran) with the outcome of the copy that took over, so one answer says applied", async () => {
    const product = freshProductId("wh-lost");
    const id = uid("msg-lost");
    const event = placed(uid("ord"), [{ line_id: "l1", product_id: product, quantity: 1 }]);
    const timestamp = nowSeconds();
    // Run A is held inside the product; meanwhile its lease is made to look run out, and copy B takes over.
    const { reopened } = await closeProductFor(product, 700);
    const a = send(event, { id, timestamp });
    await waitFor(async () => (await deliveryById("test-oms", id))?.status === "processing", 2_000, 10);
    await env.AUDIT_DB.prepare("UPDATE webhook_deliveries SET updated_at = ? WHERE source_id = 'test-oms' AND webhook_id = ?")
      .bind(new Date(Date.now() - WEBHOOK_PROCESSING_LEASE_MS - 1_000).toISOString(), id)
      .run();
    const b = send(event, { id, timestamp });
    await reopened;
    const [answerA, answerB] = [await a, await b];
    const bodyB = await answerOf(answerB);
    expect(bodyB.status).toBe("applied");
    // A applied the line but lost its claim: B speaks for the delivery (its finished results), or A is told to come back.
    if (answerA.status === 200) expect(await answerA.json()).toEqual({ status: "duplicate", results: bodyB.results });
    else await problemOf(answerA, 503, "delivery_in_progress");
    expect(await deliveryById("test-oms", id)).toMatchObject({ status: "applied", attempts: 2, result: bodyB.results });
    expect((await rawState(product)).rows).toHaveLength(1);
  });

  /** Makes D1 refuse the statement that records a run's end `times` times (a storage error), for the duration of `work`. */
  async function withFailingFinish<T>(times: number, work: () => Promise<T>): Promise<{ result: T; refused: number }> {
    const prototype = Object.getPrototypeOf(env.AUDIT_DB) as { prepare: (query: string) => D1PreparedStatement };
    const prepare = prototype.prepare;
    let refused = 0;
    prototype.prepare = function (this: D1Database, query: string) {
      const statement = prepare.call(this, query);
      if (!/^update "webhook_deliveries" set "status"/.test(query) || refused >= times) return statement;
      refused++;
      const failing = {
        bind: () => failing,
        run: () => Promise.reject(new Error("injected D1 failure")),
        all: () => Promise.reject(new Error("injected D1 failure")),
        raw: () => Promise.reject(new Error("injected D1 failure")),
        first: () => Promise.reject(new Error("injected D1 failure")),
      };
      return failing as unknown as D1PreparedStatement;
    };
    try {
      return { result: await work(), refused };
    } finally {
      prototype.prepare = prepare;
    }
  }

  it("records a run's end on a later try when D1 refuses it at first, and answers with the run's outcome when D1 keeps refusing", async () => {
    const product = freshProductId("wh-finish");
    const recovered = uid("msg-finish-recovered");
    const once = await withFailingFinish(2, async () => await answerOf(await send(received(product, 2, uid("po")), { id: recovered })));
    expect(once.refused).toBe(2);
    expect(once.result.status).toBe("applied");
    expect(await deliveryById("test-oms", recovered)).toMatchObject({ status: "applied", result: once.result.results });

    const unrecorded = uid("msg-finish-unrecorded");
    const never = await withFailingFinish(
      Number.POSITIVE_INFINITY,
      async () => await answerOf(await send(received(product, 3, uid("po")), { id: unrecorded })),
    );
    expect(never.refused).toBe(3);
    // The event was applied, so the answer says so; the log is left to the next copy after the lease.
    expect(never.result.status).toBe("applied");
    expect(never.result.results.map((result) => result.status)).toEqual(["applied"]);
    expect(await deliveryById("test-oms", unrecorded)).toMatchObject({ status: "processing", result: null });
    expect((await getStock(product)).body.on_hand).toBe(5);
  });

  it("answers 503 delivery_in_progress, with Retry-After, to a copy whose first run is still within its lease after the wait, writing nothing", async () => {
    const product = freshProductId("wh-busy");
    const id = uid("msg-busy");
    await deliveryRow(id, "processing", 0);
    const started = Date.now();
    const response = await send(received(product, 3, uid("po")), { id });
    await problemOf(response, 503, "delivery_in_progress");
    expect(response.headers.get("retry-after")).toBe(String(WEBHOOK_PROCESSING_LEASE_MS / 1000));
    expect(Date.now() - started).toBeGreaterThanOrEqual(WEBHOOK_IN_PROGRESS_WAIT_MS);
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toMatchObject({ status: "processing", attempts: 1 });
  });

  it("applies the same event under a new webhook-id with every line duplicate, writing nothing", async () => {
    const a = freshProductId("wh-newid-a");
    const b = freshProductId("wh-newid-b");
    const order = uid("ord");
    const event = placed(order, [
      { line_id: "l1", product_id: a, quantity: 1 },
      { line_id: "l2", product_id: b, quantity: 2 },
    ]);
    const first = await answerOf(await send(event));
    const before = [await rawState(a), await rawState(b)];

    const second = await answerOf(await send(event, { id: uid("msg-new") }));
    expect(second.status).toBe("applied");
    expect(second.results).toEqual(first.results.map((result) => ({ ...result, status: "duplicate" })));
    expect([await rawState(a), await rawState(b)]).toEqual(before);

    // The same holds for a receipt re-sent under a new id.
    const product = freshProductId("wh-newid-recv");
    const receipt = received(product, 4, uid("po"));
    const firstReceipt = await answerOf(await send(receipt));
    const receiptBefore = await rawState(product);
    const again = await answerOf(await send(receipt));
    expect(again).toEqual({ status: "applied", results: [{ ...firstReceipt.results[0], status: "duplicate" }] });
    expect(await rawState(product)).toEqual(receiptBefore);
    expect((await getStock(product)).body.on_hand).toBe(4);
  });

  it("remembers a cancel that arrives before its placement, skips the late placement, and treats the cancel again as duplicate", async () => {
    const product = freshProductId("wh-early-cancel");
    await answerOf(await send(received(product, 10, uid("po"))));
    const order = uid("ord");
    const line = { line_id: "l1", product_id: product, quantity: 4 };

    const cancel = await answerOf(await send(cancelled(order, [line])));
    expect(cancel).toEqual({
      status: "applied",
      results: [{ product_id: product, key: `order:${order}:l1:cancelled`, status: "cancel_remembered" }],
    });
    const afterCancel = await rawState(product);
    expect(afterCancel.rows).toHaveLength(1);

    const place = await answerOf(await send(placed(order, [line])));
    expect(place).toEqual({
      status: "applied",
      results: [{ product_id: product, key: `order:${order}:l1:placed`, status: "skipped_cancelled" }],
    });
    const afterPlace = await rawState(product);
    expect(afterPlace.rows.filter((row) => row.type === "REMOVE")).toEqual([]);
    expect(afterPlace.rows).toEqual(afterCancel.rows);
    expect((await getStock(product)).body).toMatchObject({ on_hand: 10, available: 10, version: 1 });

    const cancelAgain = await answerOf(await send(cancelled(order, [line])));
    expect(cancelAgain.results).toEqual([{ product_id: product, key: `order:${order}:l1:cancelled`, status: "duplicate" }]);
    const placeAgain = await answerOf(await send(placed(order, [line])));
    expect(placeAgain.results[0]!.status).toBe("skipped_cancelled");
    expect(await rawState(product)).toEqual(afterPlace);
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

describe("webhook request limits and validation", () => {
  it("answers 400 invalid_request with the path of an invalid field of a known type, writing nothing", async () => {
    const product = freshProductId("wh-invalid");
    const order = uid("ord");
    const problem = await problemOf(
      await send(
        placed(order, [
          { line_id: "l1", product_id: product, quantity: 1 },
          { line_id: "l2", product_id: product, quantity: 0 },
        ]),
      ),
      400,
      "invalid_request",
    );
    expect(problem.errors?.map((error) => error.path)).toContain("body.data.lines.1.quantity");
    expect((await rawState(product)).rows).toHaveLength(0);

    const negative = await problemOf(
      await send({ type: "stock.received", data: { product_id: product, quantity: -1, reference: uid("po") } }),
      400,
      "invalid_request",
    );
    expect(negative.errors?.map((error) => error.path)).toContain("body.data.quantity");
    const missing = await problemOf(
      await send({ type: "stock.counted", data: { product_id: product, reference: uid("c") } }),
      400,
      "invalid_request",
    );
    expect(missing.errors?.map((error) => error.path)).toContain("body.data.on_hand");
    expect((await rawState(product)).rows).toHaveLength(0);
  });

  it("refuses order, line, return and reference ids containing ':' while product ids may contain it", async () => {
    const product = freshProductId("wh:colon");
    const bad = [
      placed("ord:1", [{ line_id: "l1", product_id: product, quantity: 1 }]),
      placed(uid("ord"), [{ line_id: "l:1", product_id: product, quantity: 1 }]),
      cancelled("ord:1", [{ line_id: "l1", product_id: product, quantity: 1 }]),
      { type: "return.received", data: { return_id: "ret:1", lines: [{ line_id: "l1", product_id: product, quantity: 1 }] } },
      received(product, 1, "po:1"),
      { type: "stock.counted", data: { product_id: product, on_hand: 1, reference: "count:1" } },
      placed("-starts-with-dash", [{ line_id: "l1", product_id: product, quantity: 1 }]),
    ];
    for (const event of bad) await problemOf(await send(event), 400, "invalid_request");
    expect((await rawState(product)).rows).toHaveLength(0);

    expect((await answerOf(await send(received(product, 1, uid("po"))))).status).toBe("applied");
    expect((await rawState(product)).rows).toHaveLength(1);
  });

  it("accepts 1 to 500 lines with unique line ids and refuses none, 501, or a repeated line_id", async () => {
    const product = freshProductId("wh-lines");
    const lineList = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ line_id: `l${index}`, product_id: product, quantity: 1 }));

    await problemOf(await send(placed(uid("ord"), [])), 400, "invalid_request");
    await problemOf(await send(placed(uid("ord"), lineList(501))), 400, "invalid_request");
    await problemOf(
      await send(
        placed(uid("ord"), [
          { line_id: "same", product_id: product, quantity: 1 },
          { line_id: "same", product_id: product, quantity: 2 },
        ]),
      ),
      400,
      "invalid_request",
    );
    expect((await rawState(product)).rows).toHaveLength(0);

    const answer = await answerOf(await send(placed(uid("ord"), lineList(500))));
    expect(answer.results).toHaveLength(500);
    expect(answer.results.every((result) => result.status === "applied")).toBe(true);
    expect((await getStock(product)).body).toMatchObject({ on_hand: -500, version: 500, oversold: true });
  });

  it("answers 400 to a body that is not JSON even when its signature is valid, writing nothing", async () => {
    const id = uid("msg-notjson");
    const timestamp = nowSeconds();
    const body = '{"type":"stock.received","data":';
    const response = await sendRaw("test-oms", body, {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await sign(PRIMARY, id, timestamp, body),
    });
    await problemOf(response, 400, "invalid_request");
  });

  it("answers 413 payload_too_large to a signed body over 256 KiB, and accepts one of exactly 256 KiB", async () => {
    const product = freshProductId("wh-big");
    const reference = uid("po");
    const base = JSON.stringify({ type: "stock.received", data: { product_id: product, quantity: 1, reference }, pad: "" });
    const exact = {
      type: "stock.received",
      data: { product_id: product, quantity: 1, reference },
      pad: "x".repeat(256 * 1024 - base.length),
    };
    expect(JSON.stringify(exact).length).toBe(256 * 1024);
    const over = { ...exact, pad: `${exact.pad}x` };

    await problemOf(await send(over), 413, "payload_too_large");
    expect((await rawState(product)).rows).toHaveLength(0);

    expect((await answerOf(await send(exact))).status).toBe("applied");
    expect((await rawState(product)).rows).toHaveLength(1);
  });
});

describe("webhook delivery log", () => {
  it("lists deliveries newest first with their fields, pages by seq cursor, and ends with next_after null", async () => {
    const product = freshProductId("wh-log");
    const ids = [uid("msg-log-a"), uid("msg-log-b"), uid("msg-log-c")];
    const references = [uid("po"), uid("po"), uid("po")];
    const started = new Date(Date.now() - 1000).toISOString();
    for (const [index, id] of ids.entries()) {
      await answerOf(
        await send(received(product, index + 1, references[index]!), { id, source: "rotating-oms", secret: TEST_WEBHOOK_SECRETS.previous }),
      );
    }

    const first = await listDeliveries("?source_id=rotating-oms&limit=2");
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as DeliveryPage;
    expect(page1.data.map((delivery) => delivery.id)).toEqual([ids[2], ids[1]]);
    expect(page1.data[0]!.seq).toBeGreaterThan(page1.data[1]!.seq);
    expect(page1.next_after).toBe(page1.data[1]!.seq);
    const newest = page1.data[0]!;
    expect(Object.keys(newest).sort()).toEqual([
      "attempts",
      "id",
      "received_at",
      "result",
      "seq",
      "source_id",
      "status",
      "type",
      "updated_at",
    ]);
    expect(newest).toMatchObject({ id: ids[2], source_id: "rotating-oms", type: "stock.received", status: "applied", attempts: 1 });
    expect(newest.result).toEqual([
      { product_id: product, key: `received:${references[2]}:${product}:default`, status: "applied", seq: 3 },
    ]);
    expect(newest.received_at).toMatch(RFC3339_MS);
    expect(newest.updated_at).toMatch(RFC3339_MS);
    expect(newest.received_at >= started).toBe(true);

    const second = await listDeliveries(`?source_id=rotating-oms&limit=2&after=${page1.next_after}`);
    const page2 = (await second.json()) as DeliveryPage;
    expect(page2.data[0]!.id).toBe(ids[0]);
    expect(page2.data.every((delivery) => delivery.seq < page1.next_after!)).toBe(true);

    // Walking every page of a source gives the same deliveries as one big page, strictly newest first.
    const walked = await allDeliveries("test-oms", 3);
    const whole = await allDeliveries("test-oms", 200);
    expect(walked.map((delivery) => delivery.seq)).toEqual(whole.map((delivery) => delivery.seq));
    expect(walked.length).toBeGreaterThan(3);
    expect(walked.every((delivery) => delivery.source_id === "test-oms")).toBe(true);
    for (let i = 1; i < walked.length; i++) expect(walked[i]!.seq).toBeLessThan(walked[i - 1]!.seq);

    // Without a source filter, both sources appear, newest first.
    const all = (await (await listDeliveries("?limit=200")).json()) as DeliveryPage;
    expect(new Set(all.data.map((delivery) => delivery.source_id))).toEqual(new Set(["test-oms", "rotating-oms"]));
    expect(all.data[0]!.id).toBe(ids[2]);
  });

  it("is for admins only: writer and reader get 403, no token 401", async () => {
    await problemOf(await listDeliveries("", "writer"), 403, "forbidden");
    await problemOf(await listDeliveries("", "reader"), 403, "forbidden");
    await problemOf(await listDeliveries("", null), 401, "unauthorized");
    expect((await listDeliveries("", "admin")).status).toBe(200);
  });

  it("refuses a limit outside 1..200 or a bad cursor with 400", async () => {
    for (const query of ["?limit=0", "?limit=201", "?after=0", "?after=abc"]) {
      await problemOf(await listDeliveries(query), 400, "invalid_request");
    }
  });
});
