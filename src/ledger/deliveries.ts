// Webhooks out, the rules: which subscriptions want an event, what an attempt's outcome does to
// an event's delivery and to its subscription. Pure; the subscription's object applies them
// (docs/decisions/0011-change-feed-delivery.md).

import { DELIVERY_RETRY_DELAYS_MS, DELIVERY_RETRY_JITTER_RATIO, SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX } from "../limits";
import type { EventType } from "./events";

/** What a product object knows of a subscription from the registry. */
export interface SubscriptionFilter {
  id: string;
  event_types: EventType[];
  /** null: every product. */
  product_ids: string[] | null;
  created_at: string;
}

export function wantsProduct(subscription: SubscriptionFilter, product_id: string): boolean {
  return subscription.product_ids === null || subscription.product_ids.includes(product_id);
}

export function wantsType(subscription: Pick<SubscriptionFilter, "event_types">, type: EventType): boolean {
  return subscription.event_types.includes(type);
}

/** How one attempt ended: the receiver's status, or no answer (network error, timeout). */
export type AttemptOutcome = { kind: "answered"; status: number } | { kind: "no_answer"; error: string };

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface AttemptVerdict {
  status: DeliveryStatus;
  /** When to try again (ms), for a pending event. */
  next_attempt_at: number | null;
  /** 410 Gone: the receiver asks to stop; the subscription is disabled at once. */
  gone: boolean;
}

/** Attempts an event gets before it has failed for good: one, then one after each delay. */
export const DELIVERY_ATTEMPTS_MAX = DELIVERY_RETRY_DELAYS_MS.length + 1;

/**
 * The verdict on an event after its `attempts`-th attempt. `random` is in [0, 1) and spreads
 * the retry by up to DELIVERY_RETRY_JITTER_RATIO either way; `delays_ms` is the schedule
 * (tests pass a short one).
 */
export function afterAttempt(
  attempts: number,
  outcome: AttemptOutcome,
  now_ms: number,
  random: number,
  delays_ms: readonly number[] = DELIVERY_RETRY_DELAYS_MS,
): AttemptVerdict {
  if (outcome.kind === "answered" && outcome.status >= 200 && outcome.status < 300)
    return { status: "delivered", next_attempt_at: null, gone: false };
  if (outcome.kind === "answered" && outcome.status === 410) return { status: "pending", next_attempt_at: null, gone: true };
  const delay = delays_ms[attempts - 1];
  if (delay === undefined) return { status: "failed", next_attempt_at: null, gone: false };
  const jitter = 1 + DELIVERY_RETRY_JITTER_RATIO * (2 * random - 1);
  return { status: "pending", next_attempt_at: now_ms + Math.round(delay * jitter), gone: false };
}

/** Consecutive failed events after one more event ended `delivered` or `failed`, and whether that disables the subscription. */
export function afterEventEnded(
  consecutive_failures: number,
  status: "delivered" | "failed",
): { consecutive_failures: number; disable: boolean } {
  if (status === "delivered") return { consecutive_failures: 0, disable: false };
  const failures = consecutive_failures + 1;
  return { consecutive_failures: failures, disable: failures >= SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX };
}
