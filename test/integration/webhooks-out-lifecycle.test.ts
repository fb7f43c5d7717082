// A subscription's life (API.md, "Subscriptions"): secret rotation with both signatures during
// the overlap, 410 Gone and 100 failed events in a row disabling it, the delivery log, and a
// manual retry.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Subscription } from "../../src/durable/subscription/object";
import { SECRET_ROTATION_OVERLAP_MS, SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX } from "../../src/limits";
import { call, freshProductId, postTransaction } from "../helpers/http";
import { behave, deliveriesOf, received, subscribe, subscriptionOf, waitForAccepted } from "../helpers/receiver";
import { waitFor } from "../helpers/wait";
import { expectProblem } from "../helpers/wire";

const add = async (product: string, quantity = 1) => expect((await postTransaction(product, { type: "ADD", quantity })).status).toBe(201);

describe("secret rotation", () => {
  it("signs with both secrets during the overlap, each verifying, and with the new one alone after it", async () => {
    const product = freshProductId("life");
    const { subscription, receiver } = await subscribe([product], { event_types: ["stock.changed"] });
    const rotated = await call("POST", `/v1/subscriptions/${subscription.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const { secret } = (await rotated.json()) as { secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(secret).not.toBe(subscription.secret);
    await behave(receiver, { secrets: [subscription.secret, secret] });
    await add(product);
    const [during] = await waitForAccepted(receiver, 1);
    expect(during).toMatchObject({ signature_count: 2, verified_with: [0, 1] });

    // The old secret is kept for the overlap, then no longer signs: move its end to a moment ago.
    await runInDurableObject<Subscription, void>(env.SUBSCRIPTION.getByName(subscription.id), (_instance, state) => {
      const row = state.storage.sql.exec("SELECT expires_at FROM secrets WHERE expires_at IS NOT NULL").one();
      expect(Number(row.expires_at) - Date.now()).toBeGreaterThan(SECRET_ROTATION_OVERLAP_MS - 60_000);
      state.storage.sql.exec("UPDATE secrets SET expires_at = ? WHERE expires_at IS NOT NULL", Date.now() - 1);
    });
    await add(product);
    await waitFor(async () => (await received(receiver)).length >= 2);
    expect((await received(receiver))[1]).toMatchObject({ signature_count: 1, verified_with: [1] });
  });
});

describe("disabling", () => {
  it("disables the subscription at once when the receiver answers 410 Gone, and sends it nothing more", async () => {
    const product = freshProductId("life");
    const { subscription, receiver } = await subscribe([product], { event_types: ["stock.changed"], behaviour: { gone: true } });
    await add(product);
    await waitFor(async () => (await subscriptionOf(subscription.id)).body.status === "disabled");
    expect((await subscriptionOf(subscription.id)).body).toMatchObject({
      status: "disabled",
      disabled_reason: "the receiver answered 410 Gone",
    });
    const listed = (await (await call("GET", "/v1/subscriptions")).json()) as { data: { id: string; status: string }[] };
    expect(listed.data.find((row) => row.id === subscription.id)?.status).toBe("disabled");
    await add(product);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await received(receiver)).toHaveLength(1);
  });

  it(`disables the subscription after ${SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX} events failed in a row, each after its last attempt`, async () => {
    const product = freshProductId("life");
    // No retries: each event fails for good at its first attempt.
    const { subscription } = await subscribe([product], {
      event_types: ["stock.changed"],
      behaviour: { fail_first: 10_000 },
      retry_delays_ms: [],
    });
    const items = Array.from({ length: SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX }, () => ({
      product_id: product,
      type: "ADD",
      quantity: 1,
      reason: "fill",
    }));
    expect(
      (
        await call("POST", "/v1/transactions/batch", {
          role: "writer",
          headers: { "idempotency-key": crypto.randomUUID() },
          body: { transactions: items },
        })
      ).status,
    ).toBe(200);
    await waitFor(async () => (await subscriptionOf(subscription.id)).body.status === "disabled", 30_000, 200);
    expect((await subscriptionOf(subscription.id)).body.disabled_reason).toBe(
      `${SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX} consecutive events failed`,
    );
    const failed = await deliveriesOf(subscription.id, "?status=failed&limit=500");
    expect(failed.data).toHaveLength(SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX);
  });

  it("counts failures in a row only: a delivered event starts the count again", async () => {
    const product = freshProductId("life");
    const { subscription, receiver } = await subscribe([product], {
      event_types: ["stock.changed"],
      behaviour: { fail_first: 2 },
      retry_delays_ms: [],
    });
    for (let n = 0; n < 3; n++) await add(product);
    await waitForAccepted(receiver, 1);
    const stored = await runInDurableObject<Subscription, number>(env.SUBSCRIPTION.getByName(subscription.id), (_instance, state) =>
      Number(state.storage.sql.exec("SELECT consecutive_failures FROM subscription").one().consecutive_failures),
    );
    expect(stored).toBe(0);
    expect((await deliveriesOf(subscription.id)).data.map((row) => row.status)).toEqual(["delivered", "failed", "failed"]);
  });
});

describe("the delivery log and a manual retry", () => {
  it("lists deliveries newest first with their attempts, filters by status and product, and pages", async () => {
    const product = freshProductId("life");
    const { subscription, receiver } = await subscribe([product], { event_types: ["stock.changed"] });
    for (let n = 0; n < 3; n++) await add(product);
    await waitForAccepted(receiver, 3);
    const page = await deliveriesOf(subscription.id, "?limit=2");
    expect(page.data.map((row) => row.seq)).toEqual([3, 2]);
    expect(page.data[0]).toMatchObject({
      product_id: product,
      type: "stock.changed",
      status: "delivered",
      attempts: 1,
      last_status: 204,
      next_attempt_at: null,
    });
    expect(page.next_after).not.toBeNull();
    const rest = await deliveriesOf(subscription.id, `?limit=2&after=${page.next_after}`);
    expect(rest).toMatchObject({ data: [{ seq: 1 }], next_after: null });
    expect((await deliveriesOf(subscription.id, "?status=failed")).data).toEqual([]);
    expect((await deliveriesOf(subscription.id, `?product_id=${freshProductId("none")}`)).data).toEqual([]);
    await expectProblem(await call("GET", `/v1/subscriptions/${subscription.id}/deliveries?status=lost`), 400, "invalid_request");
  });

  it("sends a failed event again on a retry, with a fresh schedule, and answers 404 for an event it never had", async () => {
    const product = freshProductId("life");
    const { subscription, receiver } = await subscribe([product], {
      event_types: ["stock.changed"],
      behaviour: { fail_first: 1 },
      retry_delays_ms: [],
    });
    await add(product);
    await waitFor(async () => (await deliveriesOf(subscription.id)).data[0]?.status === "failed");
    const [failed] = (await deliveriesOf(subscription.id)).data;
    const retried = await call("POST", `/v1/subscriptions/${subscription.id}/deliveries/${failed!.event_id}/retry`);
    expect(retried.status).toBe(202);
    expect(await retried.json()).toEqual({ event_id: failed!.event_id, status: "pending" });
    await waitForAccepted(receiver, 1);
    expect((await deliveriesOf(subscription.id)).data[0]).toMatchObject({ status: "delivered", attempts: 1 });
    await expectProblem(
      await call("POST", `/v1/subscriptions/${subscription.id}/deliveries/evt_0000000000000000_9/retry`),
      404,
      "not_found",
    );
  });
});
