// The subscription registry in D1 (src/d1/tables.ts, `subscriptions`): written by each
// subscription's own object, read by the product objects (whom to hand events) and the listing.

import { and, asc, eq, gt } from "drizzle-orm";
import type { SubscriptionFilter } from "../ledger/deliveries";
import type { EventType } from "../ledger/events";
import type { AuditDb } from "./db";
import { subscriptions } from "./tables";

export interface RegistryEntry extends SubscriptionFilter {
  url: string;
  description: string | null;
  status: "active" | "disabled";
  disabled_reason: string | null;
}

type Row = typeof subscriptions.$inferSelect;

function entryOf(row: Row): RegistryEntry {
  return {
    id: row.id,
    url: row.url,
    event_types: JSON.parse(row.eventTypes) as EventType[],
    product_ids: row.productIds === null ? null : (JSON.parse(row.productIds) as string[]),
    description: row.description,
    status: row.status,
    disabled_reason: row.disabledReason,
    created_at: row.createdAt,
  };
}

export async function registerSubscription(db: AuditDb, entry: RegistryEntry, now: string): Promise<void> {
  await db
    .insert(subscriptions)
    .values({
      id: entry.id,
      url: entry.url,
      eventTypes: JSON.stringify(entry.event_types),
      productIds: entry.product_ids === null ? null : JSON.stringify(entry.product_ids),
      description: entry.description,
      status: entry.status,
      disabledReason: entry.disabled_reason,
      createdAt: entry.created_at,
      updatedAt: now,
    })
    .onConflictDoUpdate({ target: subscriptions.id, set: { status: entry.status, disabledReason: entry.disabled_reason, updatedAt: now } })
    .run();
}

export async function unregisterSubscription(db: AuditDb, id: string): Promise<void> {
  await db.delete(subscriptions).where(eq(subscriptions.id, id)).run();
}

/** The active subscriptions, for a product object to know whom to hand its events. */
export async function activeSubscriptions(db: AuditDb): Promise<SubscriptionFilter[]> {
  const rows = await db.select().from(subscriptions).where(eq(subscriptions.status, "active")).orderBy(asc(subscriptions.id)).all();
  return rows.map((row) => {
    const { id, event_types, product_ids, created_at } = entryOf(row);
    return { id, event_types, product_ids, created_at };
  });
}

export async function countActiveSubscriptions(db: AuditDb): Promise<number> {
  return (await db.$count(subscriptions, eq(subscriptions.status, "active"))) ?? 0;
}

/** One page of every subscription, by id. */
export async function listSubscriptions(
  db: AuditDb,
  after: string | undefined,
  limit: number,
): Promise<{ data: RegistryEntry[]; next_after: string | null }> {
  const rows = await db
    .select()
    .from(subscriptions)
    .where(after === undefined ? undefined : and(gt(subscriptions.id, after)))
    .orderBy(asc(subscriptions.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit).map(entryOf);
  return { data: page, next_after: rows.length > limit ? page[page.length - 1]!.id : null };
}
