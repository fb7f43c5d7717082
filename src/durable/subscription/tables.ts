// The Subscription Durable Object's SQLite schema: one object per subscription to the change
// feed, holding its settings, its secrets, and one delivery per event it was handed.
// drizzle-kit generates migrations/subscription from this file; docs/storage-schema.md explains it.

import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const subscription = sqliteTable(
  "subscription",
  {
    singleton: integer("singleton").primaryKey(),
    id: text("id").notNull(),
    url: text("url").notNull(),
    /** JSON array of event types. */
    eventTypes: text("event_types").notNull(),
    /** JSON array of product ids, or null for every product. */
    productIds: text("product_ids"),
    description: text("description"),
    status: text("status", { enum: ["active", "disabled", "deleted"] }).notNull(),
    disabledReason: text("disabled_reason"),
    createdAt: text("created_at").notNull(),
    /** Events that failed for good in a row; at SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX the subscription is disabled. */
    consecutiveFailures: integer("consecutive_failures").notNull(),
    /** 1 while D1's registry row does not yet show this status (the alarm brings it up to date). */
    registryDirty: integer("registry_dirty").notNull(),
  },
  (table) => [check("subscription_single_row", sql`${table.singleton} = 1`)],
);

/** The signing secrets: the current one (expires_at null) and, after a rotation, the previous one until it expires. */
export const secrets = sqliteTable("secrets", {
  secret: text("secret").primaryKey(),
  createdAt: text("created_at").notNull(),
  /** Unix ms; null for the current secret. */
  expiresAt: integer("expires_at"),
});

/**
 * One row per event handed to this subscription, per product in feed order (`position`). The
 * delivery log, and the queue: a product's lowest pending position is the next to send.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    /** Log order, for the listing's cursor. */
    logSeq: integer("log_seq").primaryKey(),
    productId: text("product_id").notNull(),
    position: integer("position").notNull(),
    eventId: text("event_id").notNull(),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    /** JSON of the event: the body of every attempt. */
    body: text("body").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull(),
    lastAttemptAt: text("last_attempt_at"),
    /** The receiver's HTTP status on the last attempt, or null when it did not answer. */
    lastStatus: integer("last_status"),
    /** Why the last attempt failed when the receiver did not answer (timeout, network error). */
    lastError: text("last_error"),
    /** Unix ms of the next attempt, for a pending delivery. */
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: text("created_at").notNull(),
  },
  (table) => [
    uniqueIndex("deliveries_product_position").on(table.productId, table.position),
    index("deliveries_event").on(table.eventId),
    // A product's next pending event, and the listing by status.
    index("deliveries_pending").on(table.status, table.productId, table.position),
    index("deliveries_status_log").on(table.status, table.logSeq),
  ],
);
