// Webhooks out under faults (API.md, "Subscriptions"): a receiver that fails and recovers, one
// that hangs past the timeout, objects restarted between the commit and the delivery, a
// subscription deleted with deliveries pending. Nothing is lost and nothing is reordered.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import type { Subscription } from "../../src/durable/subscription/object";
import { feedOf } from "../helpers/feed";
import { call, freshProductId, postTransaction } from "../helpers/http";
import { ledgerStub } from "../helpers/ledger-object";
import { deliveriesOf, received, seqsOf, subscribe, waitForAccepted } from "../helpers/receiver";
import { waitFor } from "../helpers/wait";

/** Resets a Durable Object as a crash would: its memory is gone, its storage (and alarm) stay. */
async function restart(stub: DurableObjectStub<ProductLedger> | DurableObjectStub<Subscription>): Promise<void> {
  await runInDurableObject(stub as DurableObjectStub<ProductLedger>, (_instance, state) => {
    state.abort("restarted by the test");
  }).catch(() => undefined);
}

describe("a receiver that fails", () => {
  it("gets the first event again after each failure, and nothing after it until it is delivered; then every event in order", async () => {
    const product = freshProductId("fault");
    const { subscription, receiver } = await subscribe([product], { event_types: ["stock.changed"], behaviour: { fail_first: 3 } });
    for (let n = 0; n < 3; n++) expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    const accepted = await waitForAccepted(receiver, 3);
    expect(seqsOf(accepted).map((event) => event.seq)).toEqual([1, 2, 3]);
    const arrivals = (await received(receiver)).map((delivery) => (delivery.body as { seq: number }).seq);
    expect(arrivals).toEqual([1, 1, 1, 1, 2, 3]);
    const log = await deliveriesOf(subscription.id);
    expect(log.data.find((row) => row.seq === 1)).toMatchObject({ status: "delivered", attempts: 4, last_status: 204 });
  });

  it("retries a receiver that does not answer within the timeout, as a failure", async () => {
    const product = freshProductId("fault");
    const { subscription, receiver } = await subscribe([product], {
      event_types: ["stock.changed"],
      behaviour: { fail_first: 1, hang_ms: 3_000 },
      timeout_ms: 300,
    });
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    const [delivered] = await waitForAccepted(receiver, 1, 10_000);
    expect((await received(receiver)).map((delivery) => delivery.webhook_id)).toEqual([delivered!.webhook_id, delivered!.webhook_id]);
    expect((await deliveriesOf(subscription.id)).data[0]).toMatchObject({ status: "delivered", attempts: 2 });
  });
});

describe("restarts between the commit and the delivery", () => {
  it("hands on the events of a product object that restarted before it could, with its alarm lost", async () => {
    const product = freshProductId("fault");
    const { receiver } = await subscribe([product], { event_types: ["stock.changed"] });
    const stub = ledgerStub(product);
    await runInDurableObject<ProductLedger, void>(stub, (instance) => {
      instance.deps.faults.beforeForward = () => {
        throw new Error("crash before handing events on");
      };
    });
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await received(receiver)).toEqual([]);
    // The crash takes the alarm with it; only the events (committed with the row) survive.
    await runInDurableObject<ProductLedger, void>(stub, async (_instance, state) => {
      await state.storage.deleteAlarm();
    });
    await restart(stub);
    // Any request wakes the object again; its start finds the events not yet handed on.
    expect((await call("GET", `/v1/products/${product}/stock`, { role: "reader" })).status).toBe(200);
    const [delivered] = await waitForAccepted(receiver, 1);
    expect(delivered!.webhook_id).toBe((await feedOf(product))[0]!.id);
  });

  it("delivers the queued events of a subscription object that restarted while they waited for a retry", async () => {
    const product = freshProductId("fault");
    const { subscription, receiver } = await subscribe([product], {
      event_types: ["stock.changed"],
      behaviour: { fail_first: 1 },
      retry_delays_ms: [300],
    });
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    await waitFor(async () => (await received(receiver)).length === 1);
    await restart(env.SUBSCRIPTION.getByName(subscription.id));
    // The retry is in storage (its row and its alarm): the restart loses nothing of it.
    const [delivered] = await waitForAccepted(receiver, 1, 15_000);
    expect((delivered!.body as { seq: number }).seq).toBe(1);
  });
});

describe("a subscription deleted with deliveries pending", () => {
  it("answers 204, then no delivery starts, its pending events are dropped, and it is 404", async () => {
    const product = freshProductId("fault");
    const { subscription, receiver } = await subscribe([product], {
      event_types: ["stock.changed"],
      behaviour: { fail_first: 1_000 },
      retry_delays_ms: [100, 100, 100, 100, 100, 100, 100],
    });
    for (let n = 0; n < 3; n++) expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    await waitFor(async () => (await received(receiver)).length >= 2);
    expect((await call("DELETE", `/v1/subscriptions/${subscription.id}`)).status).toBe(204);
    const seen = (await received(receiver)).length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await received(receiver)).length).toBe(seen);
    expect((await call("GET", `/v1/subscriptions/${subscription.id}`)).status).toBe(404);
    expect((await call("GET", `/v1/subscriptions/${subscription.id}/deliveries`)).status).toBe(404);
    // New events of the product go nowhere.
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await received(receiver)).length).toBe(seen);
  });
});
