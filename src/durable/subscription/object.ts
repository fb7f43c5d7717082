// Subscription: one Durable Object per subscription to the change feed (named by its id). It
// keeps the secrets, takes the events the product objects hand it (each once), and delivers
// them by its alarm: per product in feed order, one at a time, each retried on the schedule of
// src/limits.ts until it is delivered or has failed for good. It alone writes its row of D1's
// registry (docs/decisions/0011-change-feed-delivery.md).

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../../migrations/subscription/migrations.js";
import { auditDb } from "../../d1/db";
import { registerSubscription, unregisterSubscription } from "../../d1/subscriptions";
import { type AttemptOutcome, afterAttempt, afterEventEnded } from "../../ledger/deliveries";
import { err, ok } from "../../ledger/result";
import { settleBounded } from "../../lib/map-bounded";
import {
  DELIVERIES_PER_ALARM_MAX,
  DELIVERY_CONCURRENCY_MAX,
  DELIVERY_RETRY_DELAYS_MS,
  DELIVERY_TIMEOUT_MS,
  SECRET_ROTATION_OVERLAP_MS,
  SUBSCRIPTION_REGISTRY_RETRY_MS,
} from "../../limits";
import type { Sql } from "../sql";
import { attempt } from "./attempt";
import type {
  CreateSubscriptionResult,
  DeliveriesResult,
  DeliveryFilter,
  EnqueueResult,
  QueuedEvent,
  RemoveResult,
  RetryResult,
  RotateResult,
  SubscriptionConfig,
  SubscriptionDeps,
  SubscriptionResult,
  SubscriptionView,
} from "./rpc";
import * as store from "./store";

export class Subscription extends DurableObject<Env> {
  /** The clock, the jitter, the retry schedule and the timeout; tests replace them through runInDurableObject. */
  readonly deps: SubscriptionDeps = {
    now: () => Date.now(),
    random: () => Math.random(),
    retry_delays_ms: DELIVERY_RETRY_DELAYS_MS,
    timeout_ms: DELIVERY_TIMEOUT_MS,
  };
  private readonly sql: Sql;
  /** Attempts under way, aborted when the subscription is deleted. */
  private readonly inFlight = new Set<AbortController>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(drizzle(ctx.storage), migrations);
    });
  }

  /**
   * Creates the subscription with its first secret, then adds it to D1's registry. If D1 refuses,
   * the subscription is abandoned (deleted here) and the error goes to the caller, who never saw
   * the secret: a retry creates a new one, and no half-made subscription takes events.
   */
  async create(config: SubscriptionConfig, secret: string): Promise<CreateSubscriptionResult> {
    if (store.loadSubscription(this.sql) !== undefined) return err({ code: "subscription_exists", subscription_id: config.id });
    const created_at = this.nowIso();
    const stored: store.StoredSubscription = {
      ...config,
      status: "active",
      disabled_reason: null,
      created_at,
      consecutive_failures: 0,
      registry_dirty: false,
    };
    this.ctx.storage.transactionSync(() => {
      store.saveSubscription(this.sql, stored);
      store.addSecret(this.sql, secret, created_at);
    });
    try {
      await registerSubscription(auditDb(this.env.AUDIT_DB), { ...viewOf(stored), status: "active" }, created_at);
    } catch (error) {
      store.saveSubscription(this.sql, { ...stored, status: "deleted" });
      throw error;
    }
    return ok({ subscription: viewOf(stored) });
  }

  view(id: string): SubscriptionResult {
    const stored = this.live(id);
    return stored === undefined ? notFound(id) : ok({ subscription: viewOf(stored) });
  }

  /** A new current secret; the previous one keeps signing beside it for SECRET_ROTATION_OVERLAP_MS. */
  rotateSecret(id: string, secret: string): RotateResult {
    const stored = this.live(id);
    if (stored === undefined) return notFound(id);
    this.ctx.storage.transactionSync(() =>
      store.rotateSecret(this.sql, secret, this.nowIso(), this.deps.now() + SECRET_ROTATION_OVERLAP_MS),
    );
    return ok({ subscription: viewOf(stored), secret });
  }

  /**
   * Deletes the subscription: no attempt starts after this answers, attempts under way are
   * aborted, pending events are dropped (delivered and failed ones stay in the log until the
   * object is gone), and the registry row is removed (retried by the alarm if D1 refuses).
   */
  async remove(id: string): Promise<RemoveResult> {
    const stored = this.live(id);
    if (stored === undefined) return notFound(id);
    this.ctx.storage.transactionSync(() => {
      store.saveSubscription(this.sql, { ...stored, status: "deleted", registry_dirty: true });
      store.dropPending(this.sql);
    });
    for (const controller of this.inFlight) controller.abort("the subscription was deleted");
    await this.syncRegistry();
    return ok({});
  }

  /** Takes a product's events in feed order (each once); refused once the subscription takes none. */
  async enqueue(product_id: string, events: QueuedEvent[]): Promise<EnqueueResult> {
    const stored = store.loadSubscription(this.sql);
    if (stored === undefined || stored.status !== "active") return err({ code: "subscription_gone", subscription_id: stored?.id ?? "" });
    const accepted = store.enqueue(this.sql, product_id, events, this.deps.now(), this.nowIso());
    if (accepted > 0) await this.wakeAt(this.deps.now());
    return ok({ accepted });
  }

  deliveries(id: string, filter: DeliveryFilter): DeliveriesResult {
    if (this.live(id) === undefined) return notFound(id);
    return ok(store.listDeliveries(this.sql, filter));
  }

  /** Sends one event again now: a pending one without waiting for its retry, a failed one with a fresh schedule. */
  async retry(id: string, event_id: string): Promise<RetryResult> {
    if (this.live(id) === undefined) return notFound(id);
    if (!store.retryNow(this.sql, event_id, this.deps.now())) return err({ code: "delivery_not_found", subscription_id: id, event_id });
    await this.wakeAt(this.deps.now());
    return ok({});
  }

  /** Delivers what is due, a bounded number per run, then sets the alarm for the next due event. */
  override async alarm(): Promise<void> {
    await this.syncRegistry();
    const stored = store.loadSubscription(this.sql);
    if (stored?.status === "active") {
      const secrets = store.signingSecrets(this.sql, this.deps.now());
      const budget = { left: DELIVERIES_PER_ALARM_MAX };
      // Different products in parallel; within one product, one event after the other.
      await settleBounded(store.pendingProducts(this.sql), DELIVERY_CONCURRENCY_MAX, (product_id) =>
        this.drain(stored.url, secrets, product_id, budget),
      );
    }
    await this.syncRegistry();
    const next = store.nextDueAt(this.sql);
    if (next !== null && store.loadSubscription(this.sql)?.status === "active") await this.ctx.storage.setAlarm(next);
  }

  /** Sends one product's due events in feed order until one must wait for its retry, or the run's budget is spent. */
  private async drain(url: string, secrets: readonly string[], product_id: string, budget: { left: number }): Promise<void> {
    while (budget.left > 0) {
      const head = store.headOf(this.sql, product_id);
      if (head === undefined || head.next_attempt_at > this.deps.now()) return;
      budget.left -= 1;
      const outcome = await this.tracked((signal) => attempt(url, secrets, head, this.deps, signal)).then(
        (value) => value,
        (error: unknown) => ({ kind: "no_answer" as const, error: String(error) }),
      );
      if (!this.record(head, outcome)) return;
    }
  }

  /** Applies one attempt's verdict in one transaction. False when the subscription stopped taking events. */
  private record(delivery: store.DueDelivery, outcome: AttemptOutcome): boolean {
    return this.ctx.storage.transactionSync(() => {
      let stored = store.loadSubscription(this.sql);
      // Deleted or disabled while the attempt ran: its outcome changes nothing.
      if (stored?.status !== "active") return false;
      const verdict = afterAttempt(delivery.attempts + 1, outcome, this.deps.now(), this.deps.random(), this.deps.retry_delays_ms);
      store.recordAttempt(this.sql, delivery.log_seq, {
        status: verdict.status,
        at: this.nowIso(),
        last_status: outcome.kind === "answered" ? outcome.status : null,
        last_error: outcome.kind === "no_answer" ? outcome.error : null,
        next_attempt_at: verdict.next_attempt_at,
      });
      if (verdict.gone) {
        stored = { ...stored, status: "disabled", disabled_reason: "the receiver answered 410 Gone", registry_dirty: true };
      } else if (verdict.status !== "pending") {
        const ended = afterEventEnded(stored.consecutive_failures, verdict.status);
        // Saved only when it changes: most deliveries leave the count at zero.
        if (ended.consecutive_failures === stored.consecutive_failures && !ended.disable) return true;
        stored = { ...stored, consecutive_failures: ended.consecutive_failures };
        if (ended.disable)
          stored = {
            ...stored,
            status: "disabled",
            disabled_reason: `${ended.consecutive_failures} consecutive events failed`,
            registry_dirty: true,
          };
      } else {
        return true;
      }
      store.saveSubscription(this.sql, stored);
      return stored.status === "active";
    });
  }

  /** Brings D1's registry row up to date with this object's status; left dirty (and retried by the alarm) if D1 refuses. */
  private async syncRegistry(): Promise<void> {
    const stored = store.loadSubscription(this.sql);
    if (stored === undefined || !stored.registry_dirty) return;
    try {
      const db = auditDb(this.env.AUDIT_DB);
      if (stored.status === "deleted") await unregisterSubscription(db, stored.id);
      else await registerSubscription(db, { ...viewOf(stored), status: stored.status }, this.nowIso());
      store.saveSubscription(this.sql, { ...store.loadSubscription(this.sql)!, registry_dirty: false });
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "warn",
          message: "updating the subscription registry in D1 failed; retrying",
          subscription_id: stored.id,
          error: String(error),
        }),
      );
      await this.wakeAt(this.deps.now() + SUBSCRIPTION_REGISTRY_RETRY_MS);
    }
  }

  /** The stored subscription unless it is deleted or another id's. */
  private live(id: string): store.StoredSubscription | undefined {
    const stored = store.loadSubscription(this.sql);
    return stored !== undefined && stored.id === id && stored.status !== "deleted" ? stored : undefined;
  }

  private async tracked<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      return await work(controller.signal);
    } finally {
      this.inFlight.delete(controller);
    }
  }

  /** Sets the alarm to `at` unless it is already set earlier. */
  private async wakeAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private nowIso(): string {
    return new Date(this.deps.now()).toISOString();
  }
}

function viewOf(stored: store.StoredSubscription): SubscriptionView {
  return {
    id: stored.id,
    url: stored.url,
    event_types: stored.event_types,
    product_ids: stored.product_ids,
    description: stored.description,
    status: stored.status === "disabled" ? "disabled" : "active",
    disabled_reason: stored.disabled_reason,
    created_at: stored.created_at,
  };
}

function notFound(subscription_id: string) {
  return err({ code: "subscription_not_found" as const, subscription_id });
}
