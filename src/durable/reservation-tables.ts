// The Reservation Durable Object's SQLite schema: one reservation per object.
// drizzle-kit generates migrations/reservation from this file; docs/storage-schema.md explains it.

import { sql } from "drizzle-orm";
import { check, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const reservation = sqliteTable(
  "reservation",
  {
    singleton: integer("singleton").primaryKey(),
    id: text("id").notNull(),
    /** Lifecycle phase (src/ledger/reservations.ts); clients see only the decided status. */
    phase: text("phase", {
      enum: ["pending", "aborting", "failed", "held", "committing", "committed", "releasing", "released", "expiring", "expired"],
    }).notNull(),
    reason: text("reason").notNull(),
    ttlSeconds: integer("ttl_seconds").notNull(),
    expiresAt: text("expires_at").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    /** JSON array of { product_id, location_id, quantity }. */
    lines: text("lines").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    attempt: integer("attempt").notNull(),
    retries: integer("retries").notNull(),
    /** Who asked for the commit or release, stamped on those ledger rows as created_by. */
    closedBy: text("closed_by"),
    closedKey: text("closed_key"),
    updatedAt: text("updated_at").notNull(),
  },
  (table) => [check("reservation_single_row", sql`${table.singleton} = 1`)],
);

export const reservationSchema = { reservation };
