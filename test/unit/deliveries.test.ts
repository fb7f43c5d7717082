// The rules of webhooks out (src/ledger/deliveries.ts): the retry schedule (at least 8 attempts
// over at least 24 hours, with jitter), 2xx and 410, and failures in a row.
import { describe, expect, it } from "vitest";
import { afterAttempt, afterEventEnded, DELIVERY_ATTEMPTS_MAX, wantsProduct, wantsType } from "../../src/ledger/deliveries";
import { DELIVERY_RETRY_DELAYS_MS, DELIVERY_RETRY_JITTER_RATIO, SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX } from "../../src/limits";

const failed = { kind: "answered" as const, status: 500 };

describe("afterAttempt", () => {
  it("keeps trying for at least 8 attempts spread over at least 24 hours, even with the jitter shrinking every pause", () => {
    expect(DELIVERY_ATTEMPTS_MAX).toBeGreaterThanOrEqual(8);
    let now = 0;
    for (let attempts = 1; attempts < DELIVERY_ATTEMPTS_MAX; attempts++) {
      const verdict = afterAttempt(attempts, failed, now, 0);
      expect(verdict.status).toBe("pending");
      now = verdict.next_attempt_at!;
    }
    expect(now).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
    expect(afterAttempt(DELIVERY_ATTEMPTS_MAX, failed, now, 0)).toEqual({ status: "failed", next_attempt_at: null, gone: false });
  });

  it("spreads each pause by at most the jitter ratio either way", () => {
    const delay = DELIVERY_RETRY_DELAYS_MS[0];
    expect(afterAttempt(1, failed, 0, 0).next_attempt_at).toBe(Math.round(delay * (1 - DELIVERY_RETRY_JITTER_RATIO)));
    expect(afterAttempt(1, failed, 0, 0.5).next_attempt_at).toBe(delay);
    expect(afterAttempt(1, failed, 0, 0.999_999).next_attempt_at).toBeLessThanOrEqual(
      Math.round(delay * (1 + DELIVERY_RETRY_JITTER_RATIO)),
    );
  });

  it("is delivered on any 2xx, gone on 410, and a failure on anything else or no answer", () => {
    for (const status of [200, 201, 204, 299]) expect(afterAttempt(1, { kind: "answered", status }, 0, 0.5).status).toBe("delivered");
    expect(afterAttempt(1, { kind: "answered", status: 410 }, 0, 0.5)).toMatchObject({ gone: true });
    for (const status of [301, 400, 404, 429, 500, 503])
      expect(afterAttempt(1, { kind: "answered", status }, 0, 0.5)).toMatchObject({ status: "pending", gone: false });
    expect(afterAttempt(1, { kind: "no_answer", error: "timeout" }, 0, 0.5).status).toBe("pending");
  });
});

describe("afterEventEnded", () => {
  it(`disables at ${SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX} failed events in a row, and a delivered one starts the count again`, () => {
    expect(afterEventEnded(SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX - 2, "failed")).toEqual({
      consecutive_failures: SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX - 1,
      disable: false,
    });
    expect(afterEventEnded(SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX - 1, "failed")).toEqual({
      consecutive_failures: SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX,
      disable: true,
    });
    expect(afterEventEnded(99, "delivered")).toEqual({ consecutive_failures: 0, disable: false });
  });
});

describe("filters", () => {
  it("takes every product when product_ids is null, and only the types named", () => {
    const all = { id: "s", event_types: ["stock.out" as const], product_ids: null, created_at: "" };
    expect(wantsProduct(all, "anything")).toBe(true);
    expect(wantsProduct({ ...all, product_ids: ["a"] }, "b")).toBe(false);
    expect(wantsType(all, "stock.out")).toBe(true);
    expect(wantsType(all, "stock.changed")).toBe(false);
  });
});
