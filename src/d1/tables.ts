// The D1 audit database's schema: every D1 table the service has. drizzle-kit generates
// migrations/d1 from this file, which `wrangler d1 migrations apply` applies (npm run dev does it
// locally, the tests per file). docs/storage-schema.md explains every table.

import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * Every product that has ledger rows: what the export enumerates, so it never has to list
 * Durable Objects. Each product object registers itself from its alarm after its first write.
 */
export const products = sqliteTable("products", {
  productId: text("product_id").primaryKey(),
  registeredAt: text("registered_at").notNull(),
});

/** Ledger rows copied from the product objects: each (product_id, seq) exactly once. */
export const ledgerTransactions = sqliteTable(
  "ledger_transactions",
  {
    productId: text("product_id").notNull(),
    seq: integer("seq").notNull(),
    id: text("id").notNull(),
    type: text("type").notNull(),
    quantity: integer("quantity").notNull(),
    delta: integer("delta").notNull(),
    locationId: text("location_id").notNull(),
    reason: text("reason").notNull(),
    createdBy: text("created_by").notNull(),
    actor: text("actor"),
    metadata: text("metadata"),
    reservationId: text("reservation_id"),
    idempotencyKey: text("idempotency_key").notNull(),
    createdAt: text("created_at").notNull(),
    /** The hash chain, copied as is; reconciliation checks that it links in D1 too. */
    prevHash: text("prev_hash"),
    hash: text("hash"),
  },
  (table) => [
    primaryKey({ columns: [table.productId, table.seq] }),
    // The audit listing pages by (created_at, product_id, seq); the filters narrow it first.
    index("ledger_transactions_time").on(table.createdAt, table.productId, table.seq),
    index("ledger_transactions_reason").on(table.reason, table.createdAt),
    index("ledger_transactions_created_by").on(table.createdBy, table.createdAt),
    index("ledger_transactions_reservation").on(table.reservationId).where(sql`${table.reservationId} IS NOT NULL`),
  ],
);

/**
 * One row per run of a product-by-product job: an export (cron or POST /v1/admin/exports) or a
 * reconciliation (after each export, or POST /v1/admin/reconciliations). Counts are derived
 * from run_products, never kept as counters, so a redelivered message cannot count twice.
 */
export const runs = sqliteTable(
  "runs",
  {
    runId: text("run_id").primaryKey(),
    kind: text("kind", { enum: ["export", "reconciliation"] }).notNull(),
    trigger: text("trigger", { enum: ["cron", "admin", "export"] }).notNull(),
    status: text("status", { enum: ["running", "succeeded", "failed"] }).notNull(),
    /** 1 once the planner has queued every registered product. */
    planningDone: integer("planning_done").notNull(),
    startedAt: text("started_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (table) => [index("runs_kind_started").on(table.kind, table.startedAt)],
);

/** Each product of a run and its outcome. Keyed by both ids: idempotent under redelivery. */
export const runProducts = sqliteTable(
  "run_products",
  {
    runId: text("run_id").notNull(),
    productId: text("product_id").notNull(),
    status: text("status", { enum: ["queued", "done", "failed"] }).notNull(),
    attempts: integer("attempts").notNull(),
    /** Export: rows whose watermark this run advanced past (never counted twice). */
    rowsExported: integer("rows_exported").notNull(),
    /** Reconciliation: JSON stock before and after, when the cache disagreed and was rebuilt. */
    cacheBefore: text("cache_before"),
    cacheAfter: text("cache_after"),
    /** Reconciliation: JSON { from_seq, to_seq, detail } when D1 disagreed with the ledger. */
    divergence: text("divergence"),
    error: text("error"),
  },
  (table) => [primaryKey({ columns: [table.runId, table.productId] }), index("run_products_status").on(table.runId, table.status)],
);

/**
 * Every webhook delivery received with a valid signature: what it was and what it did. Keyed by
 * (source_id, webhook_id), so an exact redelivery is recognised; delivery_seq orders the log.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    deliverySeq: integer("delivery_seq").primaryKey({ autoIncrement: true }),
    sourceId: text("source_id").notNull(),
    webhookId: text("webhook_id").notNull(),
    type: text("type").notNull(),
    /** processing while being applied; failed when a retry can finish it; applied, ignored or rejected when done. */
    status: text("status", { enum: ["processing", "applied", "ignored", "rejected", "failed"] }).notNull(),
    /** JSON: the per-line results, or the problem that rejected or failed it. */
    result: text("result"),
    attempts: integer("attempts").notNull(),
    receivedAt: text("received_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (table) => [
    uniqueIndex("webhook_deliveries_source_id").on(table.sourceId, table.webhookId),
    index("webhook_deliveries_source_seq").on(table.sourceId, table.deliverySeq),
  ],
);

/**
 * The subscription registry: every subscription to the change feed, without its secret (that
 * lives only in the subscription's own object, src/durable/subscription/). Product objects read
 * the active ones, at most once per SUBSCRIPTION_REGISTRY_TTL_MS each, to know whom to hand
 * their events; the listing reads it too. Each subscription's object is its only writer.
 */
export const subscriptions = sqliteTable(
  "subscriptions",
  {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    /** JSON array of event types. */
    eventTypes: text("event_types").notNull(),
    /** JSON array of product ids, or null for every product. */
    productIds: text("product_ids"),
    description: text("description"),
    status: text("status", { enum: ["active", "disabled"] }).notNull(),
    disabledReason: text("disabled_reason"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (table) => [index("subscriptions_status").on(table.status, table.id)],
);
