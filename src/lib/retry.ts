// Exponential backoff and bounded retries: every retry in the service goes through these, with
// its schedule named in src/limits.ts.

/** An exponential schedule: `base` for the first retry, times `factor` for each one after, at most `max`. */
export interface Backoff {
  readonly base: number;
  readonly factor: number;
  readonly max: number;
}

/** The delay before retry number `exponent` + 1 (0 for the first), in the schedule's unit. */
export function backoffDelay(exponent: number, backoff: Backoff): number {
  // Capped before the power, so a long run of failures never overflows to Infinity.
  return Math.min(backoff.max, backoff.base * backoff.factor ** Math.min(Math.max(0, exponent), 64));
}

/**
 * Runs `work` up to `tries` times, pausing by the schedule (milliseconds) between tries; the
 * last failure is thrown.
 */
export async function retried<T>(tries: number, backoff_ms: Backoff, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt - 1, backoff_ms)));
    }
  }
}
