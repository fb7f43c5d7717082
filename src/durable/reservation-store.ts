// Load and save the one reservation a Reservation object holds. Synchronous SQLite via drizzle.
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { ReservationLine, ReservationRecord } from "../ledger/reservations";
import { reservation, type reservationSchema } from "./reservation-tables";

export type ReservationDb = DrizzleSqliteDODatabase<typeof reservationSchema>;

export interface StoredReservation extends ReservationRecord {
  closed_by: string | null;
  closed_key: string | null;
}

export function loadReservation(db: ReservationDb): StoredReservation | undefined {
  const row = db.select().from(reservation).get();
  if (!row) return undefined;
  return {
    id: row.id,
    phase: row.phase,
    reason: row.reason,
    ttl_seconds: row.ttlSeconds,
    expires_at: row.expiresAt,
    created_by: row.createdBy,
    created_at: row.createdAt,
    lines: JSON.parse(row.lines) as ReservationLine[],
    idempotency_key: row.idempotencyKey,
    fingerprint: row.fingerprint,
    attempt: row.attempt,
    retries: row.retries,
    closed_by: row.closedBy,
    closed_key: row.closedKey,
  };
}

export function saveReservation(db: ReservationDb, record: StoredReservation, now: string): void {
  const values = {
    id: record.id,
    phase: record.phase,
    reason: record.reason,
    ttlSeconds: record.ttl_seconds,
    expiresAt: record.expires_at,
    createdBy: record.created_by,
    createdAt: record.created_at,
    lines: JSON.stringify(record.lines),
    idempotencyKey: record.idempotency_key,
    fingerprint: record.fingerprint,
    attempt: record.attempt,
    retries: record.retries,
    closedBy: record.closed_by,
    closedKey: record.closed_key,
    updatedAt: now,
  };
  db.insert(reservation).values({ singleton: 1, ...values }).onConflictDoUpdate({ target: reservation.singleton, set: values }).run();
}
