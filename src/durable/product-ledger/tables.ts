// The Durable Object's SQLite schema, one product per database. drizzle-kit generates the
// migrations under migrations/product-ledger from this file; docs/storage-schema.md explains it.

import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The ledger: append-only, one row per transaction, seq 1, 2, 3… with no gaps. */
export const ledgerRows = sqliteTable(
  "ledger_rows",
  {
    seq: integer("seq").primaryKey(),
    id: text("id").notNull(),
    type: text("type", { enum: ["ADD", "REMOVE", "RETURN", "RESERVE", "RELEASE", "ADJUST"] }).notNull(),
    quantity: integer("quantity").notNull(),
    delta: integer("delta").notNull(),
    locationId: text("location_id").notNull(),
    reason: text("reason").notNull(),
    createdBy: text("created_by").notNull(),
    actor: text("actor"),
    /** JSON text of the client's metadata object. */
    metadata: text("metadata"),
    reservationId: text("reservation_id"),
    idempotencyKey: text("idempotency_key").notNull(),
    createdAt: text("created_at").notNull(),
    /**
     * The hash chain (src/ledger/hash-chain.ts). Nullable only because rows written before
     * migration 0003 existed get theirs from the backfill that runs when the object starts.
     */
    prevHash: text("prev_hash"),
    hash: text("hash"),
  },
  (table) => [
    // The history filters page by (filter, seq); without these a rare filter would scan the ledger.
    index("ledger_rows_reason_seq").on(table.reason, table.seq),
    index("ledger_rows_type_seq").on(table.type, table.seq),
    index("ledger_rows_location_seq").on(table.locationId, table.seq),
    // Rows still waiting for the hash backfill. Partial, so it stays empty once they are linked,
    // and an object's start-up check for them costs one lookup instead of a scan of the ledger.
    index("ledger_rows_unhashed").on(table.seq).where(sql`${table.hash} IS NULL`),
  ],
);

/** Cached level per location: the read model, written in the same transaction as each row. */
export const locationStock = sqliteTable("location_stock", {
  locationId: text("location_id").primaryKey(),
  onHand: integer("on_hand").notNull(),
  reserved: integer("reserved").notNull(),
  /** seq of the last row that touched this location. */
  lastSeq: integer("last_seq").notNull(),
});

/** Cached product totals: one row, so a stock read costs the same at any ledger length. */
export const productStock = sqliteTable(
  "product_stock",
  {
    singleton: integer("singleton").primaryKey(),
    productId: text("product_id").notNull(),
    onHand: integer("on_hand").notNull(),
    reserved: integer("reserved").notNull(),
    version: integer("version").notNull(),
    oversoldLocations: integer("oversold_locations").notNull(),
    locationCount: integer("location_count").notNull(),
    updatedAt: text("updated_at").notNull(),
    /**
     * The last ledger row's hash, so a write links onto the chain without reading the ledger.
     * Null until the first write after migration 0004; then the ledger's last row is read instead.
     */
    headHash: text("head_hash"),
  },
  (table) => [check("product_stock_single_row", sql`${table.singleton} = 1`)],
);

/** One row per accepted write: what was asked (fingerprint) and what was answered. Never expires. */
export const idempotencyKeys = sqliteTable("idempotency_keys", {
  key: text("key").primaryKey(),
  fingerprint: text("fingerprint").notNull(),
  /** JSON of the stock the first success answered with; a replay reads its rows back from the ledger. */
  response: text("response").notNull(),
  firstSeq: integer("first_seq").notNull(),
  lastSeq: integer("last_seq").notNull(),
  createdAt: text("created_at").notNull(),
});

/**
 * Stock this product holds for reservations, per (reservation, location). Its status makes
 * hold, commit and release idempotent; the sum of `held` rows per location is the part of
 * `reserved` that a plain RELEASE may not take.
 */
export const reservationHolds = sqliteTable(
  "reservation_holds",
  {
    reservationId: text("reservation_id").notNull(),
    locationId: text("location_id").notNull(),
    quantity: integer("quantity").notNull(),
    status: text("status", { enum: ["held", "committed", "released"] }).notNull(),
    attempt: integer("attempt").notNull(),
    expiresAt: text("expires_at").notNull(),
    /** seq of the last ledger row that changed this hold. */
    lastSeq: integer("last_seq").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.reservationId, table.locationId] }),
    index("reservation_holds_location_status").on(table.locationId, table.status),
  ],
);

/**
 * The highest creation attempt of a reservation that was released here: a hold of that attempt
 * or an older one that arrives late (it was in flight during a crash) is refused.
 */
export const reservationFences = sqliteTable("reservation_fences", {
  reservationId: text("reservation_id").primaryKey(),
  attempt: integer("attempt").notNull(),
});

/**
 * The product's side of the nightly export: how far D1 is known to hold its rows, and whether
 * the D1 registry knows the product. One row, created with the first ledger row.
 */
export const exportState = sqliteTable(
  "export_state",
  {
    singleton: integer("singleton").primaryKey(),
    /** Every row with seq <= this is confirmed in D1. Advanced only after D1 confirmed the insert. */
    watermarkSeq: integer("watermark_seq").notNull(),
    /** Null until the product is in D1's products table; the alarm retries until it is. */
    registeredAt: text("registered_at"),
    registrationAttempts: integer("registration_attempts").notNull(),
  },
  (table) => [check("export_state_single_row", sql`${table.singleton} = 1`)],
);

/**
 * Order lines cancelled (by webhook) before their placement arrived. A placement that arrives
 * later finds its line here and is acknowledged without being applied.
 */
export const orderLineCancellations = sqliteTable("order_line_cancellations", {
  /** The cancellation's key, order:{order_id}:{line_id}:cancelled. */
  key: text("key").primaryKey(),
  createdAt: text("created_at").notNull(),
});

/**
 * The change feed (docs/events.md): events written in the same transaction as the rows that
 * cause them. `position` orders them (1, 2, 3…, never reused) and makes the public id; the
 * transaction of a stock event is the ledger row at `seq`, read back with it.
 */
export const events = sqliteTable(
  "events",
  {
    position: integer("position").primaryKey(),
    type: text("type").notNull(),
    seq: integer("seq").notNull(),
    occurredAt: text("occurred_at").notNull(),
    /** JSON of the stock after the change. */
    stock: text("stock").notNull(),
    /** 1 when the event carries the row at `seq` (every stock event but a repair's). */
    withTransaction: integer("with_transaction").notNull(),
    /** JSON of the settings, for product.settings_changed. */
    settings: text("settings"),
  },
  // A feed filtered by a rare type (stock.out) pages by (type, position), not over every event.
  (table) => [index("events_type_position").on(table.type, table.position)],
);

/** The product's settings (one row once a PUT changed them; defaults until then). */
export const productSettings = sqliteTable(
  "product_settings",
  {
    singleton: integer("singleton").primaryKey(),
    lowStockThreshold: integer("low_stock_threshold"),
    shards: integer("shards").notNull(),
    updatedBy: text("updated_by").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (table) => [check("product_settings_single_row", sql`${table.singleton} = 1`)],
);

/**
 * How far each subscription has been handed this product's events: every event up to
 * `position` is in the subscription's own object (or was not for it). A row per subscription
 * this product has seen in the registry.
 */
export const subscriptionCursors = sqliteTable("subscription_cursors", {
  subscriptionId: text("subscription_id").primaryKey(),
  position: integer("position").notNull(),
});

/**
 * How far the feed has been checked against the subscription registry: every event up to
 * `checked_position` was handed to every subscription that wanted it (or none did). Events
 * past it make the object's alarm run.
 */
export const feedState = sqliteTable(
  "feed_state",
  {
    singleton: integer("singleton").primaryKey(),
    checkedPosition: integer("checked_position").notNull(),
  },
  (table) => [check("feed_state_single_row", sql`${table.singleton} = 1`)],
);
