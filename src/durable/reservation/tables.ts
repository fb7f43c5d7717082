// The Reservation Durable Object's SQLite schema. Reservations are spread over a fixed number of
// objects by a hash of their id (src/ledger/reservations.ts, reservationShard), so each object
// holds many, one row each. drizzle-kit generates migrations/reservation from this file;
// docs/storage-schema.md explains it.

import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const reservations = sqliteTable(
  "reservations",
  {
    id: text("id").primaryKey(),
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
    /**
     * When this reservation next needs work (expiry, a retry, a crashed creation), in Unix ms;
     * null when it is finished. The object's one alarm is set to the smallest of these.
     */
    alarmAt: integer("alarm_at"),
  },
  (table) => [index("reservations_alarm_at").on(table.alarmAt).where(sql`${table.alarmAt} IS NOT NULL`)],
);
