// One attempt at delivering one event: signed by Standard Webhooks with every secret that signs
// now, POSTed to the receiver, and judged only by its status (the body is not read). A
// redirect is an answer like any other (not followed), so a receiver cannot send the request on.

import type { AttemptOutcome } from "../../ledger/deliveries";
import { signatureHeader } from "../../lib/standard-webhooks";
import { DELIVERY_RESPONSE_LOGGED_LENGTH_MAX } from "../../limits";
import type { SubscriptionDeps } from "./rpc";
import type { DueDelivery } from "./store";

export async function attempt(
  url: string,
  secrets: readonly string[],
  delivery: DueDelivery,
  deps: Pick<SubscriptionDeps, "now" | "timeout_ms">,
  abort: AbortSignal,
): Promise<AttemptOutcome> {
  const timestamp = Math.floor(deps.now() / 1000);
  const signature = await signatureHeader(secrets, delivery.event_id, timestamp, delivery.body);
  const signal = AbortSignal.any([abort, AbortSignal.timeout(deps.timeout_ms)]);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "inventory-ledger-webhooks",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature,
      },
      body: delivery.body,
      redirect: "manual",
      signal,
    });
    // Not read: only the status counts, and a receiver's body could be of any size.
    await response.body?.cancel();
    return { kind: "answered", status: response.status };
  } catch (error) {
    const reason = signal.aborted && !abort.aborted ? `no answer within ${deps.timeout_ms} ms` : String(error);
    return { kind: "no_answer", error: reason.slice(0, DELIVERY_RESPONSE_LOGGED_LENGTH_MAX) };
  }
}
