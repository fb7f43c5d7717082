// What the Subscription object's RPC methods take and answer (every answer a Result,
// src/ledger/result.ts). Kept apart from the class so callers import the shapes only.

import type { DeliveryStatus } from "../../ledger/deliveries";
import type { ChangeEvent, EventType } from "../../ledger/events";
import type { Ok, Result } from "../../ledger/result";

export interface SubscriptionConfig {
  id: string;
  url: string;
  event_types: EventType[];
  product_ids: string[] | null;
  description: string | null;
}

/** A subscription as clients see it (never with a secret, but in the answers that create one). */
export interface SubscriptionView extends SubscriptionConfig {
  status: "active" | "disabled";
  disabled_reason: string | null;
  created_at: string;
}

export type NotFound = { code: "subscription_not_found"; subscription_id: string };

export type CreateSubscriptionResult = Result<{ subscription: SubscriptionView }, { code: "subscription_exists"; subscription_id: string }>;
export type SubscriptionResult = Result<{ subscription: SubscriptionView }, NotFound>;
export type RotateResult = Result<{ subscription: SubscriptionView; secret: string }, NotFound>;
export type RemoveResult = Result<object, NotFound>;

/** An event handed over by a product object, with its place in that product's feed. */
export interface QueuedEvent {
  position: number;
  event: ChangeEvent;
}
/** Refused when the subscription no longer takes events (deleted or disabled): the product stops handing it any. */
export type EnqueueResult = Result<{ accepted: number }, { code: "subscription_gone"; subscription_id: string }>;

export interface DeliveryView {
  event_id: string;
  product_id: string;
  seq: number;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  last_attempt_at: string | null;
  last_status: number | null;
  next_attempt_at: string | null;
}

export interface DeliveryFilter {
  status?: DeliveryStatus | undefined;
  product_id?: string | undefined;
  /** The log position to continue after (the page's next_after). */
  after?: number | undefined;
  limit: number;
}

export type DeliveriesResult = Result<{ data: DeliveryView[]; next_after: number | null }, NotFound>;
export type RetryResult = Result<object, NotFound | { code: "delivery_not_found"; subscription_id: string; event_id: string }>;

/**
 * What the object takes from its surroundings, so tests can replace it: the clock, randomness
 * for the retry jitter, the retry schedule and the receiver timeout (tests shorten both).
 */
export interface SubscriptionDeps {
  now(): number;
  random(): number;
  retry_delays_ms: readonly number[];
  timeout_ms: number;
}

export type { Ok };
