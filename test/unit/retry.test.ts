// Backoff schedules and bounded retries (src/lib/retry.ts), which every retry in the service uses.
import { describe, expect, it } from "vitest";
import { backoffDelay, retried } from "../../src/lib/retry";
import { RESERVATION_RETRY_BACKOFF_MS, RUN_PRODUCT_RETRY_BACKOFF_SECONDS, WEBHOOK_FINISH_RETRY_BACKOFF_MS } from "../../src/limits";

describe("backoffDelay", () => {
  it("starts at base and grows by factor per retry, never past max", () => {
    const schedule = { base: 100, factor: 3, max: 1_000 };
    expect([0, 1, 2, 3, 4].map((exponent) => backoffDelay(exponent, schedule))).toEqual([100, 300, 900, 1_000, 1_000]);
  });

  it("stays finite and at max after any number of failures, and treats a negative exponent as the first", () => {
    expect(backoffDelay(10_000, RESERVATION_RETRY_BACKOFF_MS)).toBe(RESERVATION_RETRY_BACKOFF_MS.max);
    expect(backoffDelay(-3, RESERVATION_RETRY_BACKOFF_MS)).toBe(RESERVATION_RETRY_BACKOFF_MS.base);
  });

  it("gives the documented schedules: reservations 1 s doubling to 5 min, a failing export product 2 s then 4 s", () => {
    expect([0, 1, 2, 8, 9].map((n) => backoffDelay(n, RESERVATION_RETRY_BACKOFF_MS))).toEqual([1_000, 2_000, 4_000, 256_000, 300_000]);
    expect([0, 1].map((n) => backoffDelay(n, RUN_PRODUCT_RETRY_BACKOFF_SECONDS))).toEqual([2, 4]);
    expect([0, 1, 2].map((n) => backoffDelay(n, WEBHOOK_FINISH_RETRY_BACKOFF_MS))).toEqual([100, 300, 900]);
  });
});

describe("retried", () => {
  const quick = { base: 1, factor: 2, max: 4 };

  it("returns the first success, after as many failures as tries allow", async () => {
    let calls = 0;
    const value = await retried(3, quick, async () => {
      calls += 1;
      if (calls < 3) throw new Error(`failure ${calls}`);
      return "done";
    });
    expect({ value, calls }).toEqual({ value: "done", calls: 3 });
  });

  it("throws the last failure once the tries are used up, and never calls more often", async () => {
    let calls = 0;
    await expect(
      retried(2, quick, async () => {
        calls += 1;
        throw new Error(`failure ${calls}`);
      }),
    ).rejects.toThrow("failure 2");
    expect(calls).toBe(2);
  });

  it("calls once when the first try succeeds", async () => {
    let calls = 0;
    await retried(5, quick, async () => {
      calls += 1;
    });
    expect(calls).toBe(1);
  });
});
