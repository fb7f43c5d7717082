// Hands a product's new events to the subscriptions that want them: by the object's alarm, never
// on the write path. Each subscription has a cursor here; its events go to its own object in
// feed order, in batches, and the cursor moves only once that object has taken them (it takes
// each event once, so a batch handed twice after a crash changes nothing). The registry of
// subscriptions is read from D1 at most once per SUBSCRIPTION_REGISTRY_TTL_MS; a subscription
// seen for the first time starts at the first event after its creation, so a registry read
// late delays its events but never loses them (docs/decisions/0011-change-feed-delivery.md).

import { auditDb } from "../../d1/db";
import { activeSubscriptions } from "../../d1/subscriptions";
import { type SubscriptionFilter, wantsProduct, wantsType } from "../../ledger/deliveries";
import { settleBounded } from "../../lib/map-bounded";
import { EVENT_FORWARD_BATCH_MAX, PRODUCT_FANOUT_MAX, SUBSCRIPTION_REGISTRY_TTL_MS } from "../../limits";
import type { Sql } from "../sql";
import * as eventsStore from "./events-store";
import type { ProductLedgerDeps } from "./rpc";

export class EventForwarder {
  private registry: { subscriptions: SubscriptionFilter[]; read_at: number } | null = null;

  constructor(
    private readonly env: Env,
    private readonly sql: Sql,
    private readonly product_id: string,
    private readonly product_hash: string,
    private readonly deps: ProductLedgerDeps,
  ) {}

  /** Whether events wait to be handed on. */
  pending(): boolean {
    return eventsStore.checkedPosition(this.sql) < eventsStore.headPosition(this.sql);
  }

  /**
   * When the alarm should run for events just written: now, unless the registry was read a
   * moment ago and no subscription wanted this product; then when it must be read again.
   */
  dueAt(): number {
    const now = this.deps.now();
    const registry = this.registry;
    if (registry !== null && now - registry.read_at < SUBSCRIPTION_REGISTRY_TTL_MS && registry.subscriptions.length === 0) {
      return registry.read_at + SUBSCRIPTION_REGISTRY_TTL_MS;
    }
    return now;
  }

  /** One round: every wanting subscription gets up to EVENT_FORWARD_BATCH_MAX more events. Throws if D1 cannot be read. */
  async forward(): Promise<void> {
    const head = eventsStore.headPosition(this.sql);
    const subscriptions = await this.subscriptions();
    const cursors = eventsStore.readCursors(this.sql);
    for (const id of cursors.keys()) {
      if (!subscriptions.some((subscription) => subscription.id === id)) eventsStore.deleteCursor(this.sql, id);
    }
    const reached = await settleBounded(subscriptions, PRODUCT_FANOUT_MAX, (subscription) =>
      this.forwardTo(subscription, cursors.get(subscription.id) ?? eventsStore.positionBefore(this.sql, subscription.created_at), head),
    );
    // Checked as far as the slowest subscription got; one that could not be reached holds it back.
    let checked = head;
    reached.forEach((result, index) => {
      const subscription = subscriptions[index]!;
      const position = result.status === "fulfilled" ? result.value : (eventsStore.readCursors(this.sql).get(subscription.id) ?? 0);
      if (result.status === "rejected") {
        console.error(
          JSON.stringify({
            level: "warn",
            message: "handing events to a subscription failed; retrying",
            product_id: this.product_id,
            subscription_id: subscription.id,
            error: String(result.reason),
          }),
        );
      }
      checked = Math.min(checked, position);
    });
    eventsStore.saveCheckedPosition(this.sql, checked);
    if (reached.some((result) => result.status === "rejected")) throw new Error("some subscriptions could not take their events");
  }

  /** Hands one subscription the batch after its cursor; answers where its cursor is now. */
  private async forwardTo(subscription: SubscriptionFilter, cursor: number, head: number): Promise<number> {
    eventsStore.saveCursor(this.sql, subscription.id, cursor);
    if (cursor >= head) return head;
    // Read whole before the await: a cursor must not cross it.
    const batch = eventsStore.eventsAfter(this.sql, this.product_id, this.product_hash, cursor, EVENT_FORWARD_BATCH_MAX);
    const through = batch[batch.length - 1]?.position ?? cursor;
    const wanted = batch.filter(({ event }) => wantsType(subscription, event.type));
    if (wanted.length > 0) {
      this.deps.faults.beforeForward?.();
      const result = await this.env.SUBSCRIPTION.getByName(subscription.id).enqueue(this.product_id, wanted);
      if (!result.ok) {
        // Deleted or disabled: it takes no more events, from this product or any.
        eventsStore.deleteCursor(this.sql, subscription.id);
        this.registry = this.registry && {
          ...this.registry,
          subscriptions: this.registry.subscriptions.filter((known) => known.id !== subscription.id),
        };
        return head;
      }
    }
    eventsStore.saveCursor(this.sql, subscription.id, through);
    return through;
  }

  /** The active subscriptions that want this product, from D1 when the copy here is older than the TTL. */
  private async subscriptions(): Promise<SubscriptionFilter[]> {
    const now = this.deps.now();
    if (this.registry === null || now - this.registry.read_at >= SUBSCRIPTION_REGISTRY_TTL_MS) {
      const all = await activeSubscriptions(auditDb(this.env.AUDIT_DB));
      this.registry = { subscriptions: all.filter((subscription) => wantsProduct(subscription, this.product_id)), read_at: now };
    }
    return this.registry.subscriptions;
  }
}
