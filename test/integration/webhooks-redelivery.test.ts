// Webhook redelivery: copies under the same or a new webhook-id apply once, runs that die or lose their claim, and the delivery log.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditDb } from "../../src/d1/db";
import { WEBHOOK_IN_PROGRESS_WAIT_MS, WEBHOOK_PROCESSING_LEASE_MS } from "../../src/limits";
import { finishDelivery, renewLease } from "../../src/webhooks/deliveries";
import { freshProductId, getStock } from "../helpers/http";
import { closeProductFor, rawState } from "../helpers/ledger-object";
import { TEST_WEBHOOK_SECRETS } from "../helpers/tokens";
import { waitFor } from "../helpers/wait";
import {
  type Answer,
  allDeliveries,
  answerOf,
  cancelled,
  type DeliveryPage,
  deliveryById,
  listDeliveries,
  nowSeconds,
  placed,
  received,
  send,
  uid,
} from "../helpers/webhooks";
import { expectProblem as problemOf, RFC3339_MS } from "../helpers/wire";

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

// Last in this file on purpose: its paging check walks the deliveries that the tests above left
// under test-oms (D1 is shared by the tests of one file, and they run in order).
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
