// The tests' webhook receiver (test/helpers/receiver-server.ts), as the workerd tests drive it:
// a fresh path per test, its behaviour, what it received, and subscriptions that point at it.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { Subscription } from "../../src/durable/subscription/object";
import { call } from "./http";
import { waitFor } from "./wait";

declare module "vitest" {
  interface ProvidedContext {
    receiverUrl: string;
  }
}

/** One delivery as the receiver recorded it. */
export interface ReceivedDelivery {
  webhook_id: string;
  timestamp: string;
  /** Indexes of the registered secrets whose signature verified (standardwebhooks). */
  verified_with: number[];
  /** Entries in the webhook-signature header: one per secret that signs. */
  signature_count: number;
  answered: number;
  body: unknown;
  received_at: number;
}

export interface Behaviour {
  secrets: string[];
  fail_first?: number;
  fail_status?: number;
  hang_ms?: number;
  gone?: boolean;
}

export interface CreatedSubscription {
  id: string;
  url: string;
  secret: string;
  status: string;
  [field: string]: unknown;
}

/** A fresh receiver path, and its URL. */
export function newReceiver(): { name: string; url: string } {
  const name = `r-${crypto.randomUUID()}`;
  return { name, url: `${inject("receiverUrl")}/hooks/${name}` };
}

export async function behave(name: string, behaviour: Behaviour): Promise<void> {
  const response = await fetch(`${inject("receiverUrl")}/control/${name}`, { method: "PUT", body: JSON.stringify(behaviour) });
  if (response.status !== 204) throw new Error(`receiver control answered ${response.status}`);
}

export async function received(name: string): Promise<ReceivedDelivery[]> {
  return ((await (await fetch(`${inject("receiverUrl")}/control/${name}`)).json()) as { deliveries: ReceivedDelivery[] }).deliveries;
}

/** The deliveries a receiver answered 2xx, each event once (receivers dedupe on webhook-id), in arrival order. */
export async function acceptedOnce(name: string): Promise<ReceivedDelivery[]> {
  const seen = new Set<string>();
  return (await received(name)).filter((delivery) => {
    if (delivery.answered >= 300 || seen.has(delivery.webhook_id)) return false;
    seen.add(delivery.webhook_id);
    return true;
  });
}

export async function waitForAccepted(name: string, count: number, timeout_ms = 20_000): Promise<ReceivedDelivery[]> {
  let accepted: ReceivedDelivery[] = [];
  await waitFor(
    async () => {
      accepted = await acceptedOnce(name);
      return accepted.length >= count;
    },
    timeout_ms,
    50,
  );
  return accepted;
}

/**
 * Subscribes a fresh receiver to the given products' events, registers the secret with the
 * receiver, and shortens the subscription's retry schedule and timeout for the test.
 */
export async function subscribe(
  product_ids: string[] | null,
  options: { event_types?: string[]; behaviour?: Omit<Behaviour, "secrets">; retry_delays_ms?: number[]; timeout_ms?: number } = {},
): Promise<{ subscription: CreatedSubscription; receiver: string }> {
  const { name, url } = newReceiver();
  const response = await call("POST", "/v1/subscriptions", {
    body: {
      url,
      event_types: options.event_types ?? [
        "stock.changed",
        "stock.low",
        "stock.out",
        "stock.back_in",
        "stock.oversold",
        "product.settings_changed",
      ],
      product_ids,
    },
  });
  if (response.status !== 201) throw new Error(`subscription not created: ${response.status} ${await response.text()}`);
  const subscription = (await response.json()) as CreatedSubscription;
  await behave(name, { secrets: [subscription.secret], ...options.behaviour });
  await tune(subscription.id, options.retry_delays_ms ?? [50, 50, 50, 50, 50, 50, 50], options.timeout_ms ?? 2_000);
  return { subscription, receiver: name };
}

/** Sets a subscription object's retry schedule and timeout (lost if the object restarts). */
export function tune(subscription_id: string, retry_delays_ms: number[], timeout_ms: number): Promise<void> {
  return runInDurableObject<Subscription, void>(env.SUBSCRIPTION.getByName(subscription_id), (instance) => {
    instance.deps.retry_delays_ms = retry_delays_ms;
    instance.deps.timeout_ms = timeout_ms;
  });
}

/** The events the receiver got, as the seqs and types they name. */
export function seqsOf(deliveries: readonly ReceivedDelivery[]): { seq: number; type: string }[] {
  return deliveries.map((delivery) => {
    const event = delivery.body as { seq: number; type: string };
    return { seq: event.seq, type: event.type };
  });
}

/** A subscription's delivery log page (`query` as the API takes it). */
export async function deliveriesOf(subscription_id: string, query = ""): Promise<{ data: DeliveryRow[]; next_after: number | null }> {
  const response = await call("GET", `/v1/subscriptions/${subscription_id}/deliveries${query}`);
  if (response.status !== 200) throw new Error(`deliveries answered ${response.status}`);
  return (await response.json()) as { data: DeliveryRow[]; next_after: number | null };
}

export interface DeliveryRow {
  event_id: string;
  product_id: string;
  seq: number;
  type: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  last_attempt_at: string | null;
  last_status: number | null;
  next_attempt_at: string | null;
}

export async function subscriptionOf(id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await call("GET", `/v1/subscriptions/${id}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
