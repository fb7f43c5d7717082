// Waiting on time: polling for effects that happen asynchronously (alarms, queue consumers), and sleeping.
export async function waitFor(condition: () => Promise<boolean>, timeout_ms = 10_000, interval_ms = 50): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, interval_ms));
  }
  throw new Error(`condition not met within ${timeout_ms} ms`);
}

/** Waits out a span of real time: a TTL running out, or a clock that must move between two writes. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
