// Load and save the reservations a Reservation object holds, and find the ones whose time has
// come. Synchronous SQLite via drizzle.
import { asc, eq, lte, min } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { ReservationLine, ReservationRecord } from "../ledger/reservations";
import { reservations, type reservationSchema } from "./reservation-tables";

export type ReservationDb = DrizzleSqliteDODatabase<typeof reservationSchema>;

export interface StoredReservation extends ReservationRecord {
  closed_by: string | null;
  closed_key: string | null;
}

export function loadReservation(db: ReservationDb, id: string): StoredReservation | undefined {
  const row = db.select().from(reservations).where(eq(reservations.id, id)).get();
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

/** Saves a reservation with the time it next needs work (null when it is finished). */
export function saveReservation(db: ReservationDb, record: StoredReservation, now: string, alarm_at: number | null): void {
  const values = {
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
    alarmAt: alarm_at,
  };
  db.insert(reservations).values({ id: record.id, ...values }).onConflictDoUpdate({ target: reservations.id, set: values }).run();
}

/** The earliest time any reservation here needs work: what the object's alarm is set to. */
export function earliestAlarmAt(db: ReservationDb): number | null {
  return db.select({ at: min(reservations.alarmAt) }).from(reservations).get()?.at ?? null;
}

/**
 * Reservations whose time has come, earliest first, at most `limit`. The earliest one is always
 * included: the alarm was set for it, and a platform alarm may fire a little early.
 */
export function dueReservationIds(db: ReservationDb, now_ms: number, limit: number): string[] {
  const earliest = earliestAlarmAt(db);
  if (earliest === null) return [];
  const until = Math.max(now_ms, earliest);
  return db
    .select({ id: reservations.id })
    .from(reservations)
    .where(lte(reservations.alarmAt, until))
    .orderBy(asc(reservations.alarmAt))
    .limit(limit)
    .all()
    .map((row) => row.id);
}
