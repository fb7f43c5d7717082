// Load and save the reservations a Reservation object holds, and find the ones whose time has
// come. Synchronous SQLite via drizzle.
import { asc, eq, isNotNull, lte, min, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { ReservationLine, ReservationRecord } from "../ledger/reservations";
import { preparedOnce } from "../lib/prepared-once";
import { reservations, type reservationSchema } from "./reservation-tables";

export type ReservationDb = DrizzleSqliteDODatabase<typeof reservationSchema>;

export interface StoredReservation extends ReservationRecord {
  closed_by: string | null;
  closed_key: string | null;
}

const param = sql.placeholder;

/** Every query of a reservation step, built once per object. */
const statement = preparedOnce({
  load: (db: ReservationDb) =>
    db.select().from(reservations).where(eq(reservations.id, param("id"))).prepare(),
  save: (db: ReservationDb) =>
    db
      .insert(reservations)
      .values({
        id: param("id"),
        phase: param("phase"),
        reason: param("reason"),
        ttlSeconds: param("ttl_seconds"),
        expiresAt: param("expires_at"),
        createdBy: param("created_by"),
        createdAt: param("created_at"),
        lines: param("lines"),
        idempotencyKey: param("idempotency_key"),
        fingerprint: param("fingerprint"),
        attempt: param("attempt"),
        retries: param("retries"),
        closedBy: param("closed_by"),
        closedKey: param("closed_key"),
        updatedAt: param("updated_at"),
        alarmAt: param("alarm_at"),
      })
      .onConflictDoUpdate({
        target: reservations.id,
        // Everything but the id is replaced by the saved record.
        set: {
          phase: sql`excluded.phase`,
          reason: sql`excluded.reason`,
          ttlSeconds: sql`excluded.ttl_seconds`,
          expiresAt: sql`excluded.expires_at`,
          createdBy: sql`excluded.created_by`,
          createdAt: sql`excluded.created_at`,
          lines: sql`excluded.lines`,
          idempotencyKey: sql`excluded.idempotency_key`,
          fingerprint: sql`excluded.fingerprint`,
          attempt: sql`excluded.attempt`,
          retries: sql`excluded.retries`,
          closedBy: sql`excluded.closed_by`,
          closedKey: sql`excluded.closed_key`,
          updatedAt: sql`excluded.updated_at`,
          alarmAt: sql`excluded.alarm_at`,
        },
      })
      .prepare(),
  // The WHERE lets SQLite answer from the partial index instead of reading every finished row.
  earliest: (db: ReservationDb) =>
    db.select({ at: min(reservations.alarmAt) }).from(reservations).where(isNotNull(reservations.alarmAt)).prepare(),
  retries: (db: ReservationDb) =>
    db.select({ retries: reservations.retries }).from(reservations).where(eq(reservations.id, param("id"))).prepare(),
  defer: (db: ReservationDb) =>
    db
      .update(reservations)
      .set({ alarmAt: sql`${param("alarm_at")}`, retries: sql`${param("retries")}` })
      .where(eq(reservations.id, param("id")))
      .prepare(),
  due: (db: ReservationDb) =>
    db.select({ id: reservations.id }).from(reservations).where(lte(reservations.alarmAt, param("until"))).orderBy(asc(reservations.alarmAt)).limit(param("limit")).prepare(),
});

export function loadReservation(db: ReservationDb, id: string): StoredReservation | undefined {
  const row = statement(db, "load").get({ id });
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
  statement(db, "save").run({
    id: record.id,
    phase: record.phase,
    reason: record.reason,
    ttl_seconds: record.ttl_seconds,
    expires_at: record.expires_at,
    created_by: record.created_by,
    created_at: record.created_at,
    lines: JSON.stringify(record.lines),
    idempotency_key: record.idempotency_key,
    fingerprint: record.fingerprint,
    attempt: record.attempt,
    retries: record.retries,
    closed_by: record.closed_by,
    closed_key: record.closed_key,
    updated_at: now,
    alarm_at,
  });
}

/** The earliest time any reservation here needs work: what the object's alarm is set to. */
export function earliestAlarmAt(db: ReservationDb): number | null {
  return statement(db, "earliest").get()?.at ?? null;
}

/**
 * Reservations whose time has come, earliest first, at most `limit`. The earliest one is always
 * included: the alarm was set for it, and a platform alarm may fire a little early.
 */
export function dueReservationIds(db: ReservationDb, now_ms: number, limit: number): string[] {
  const earliest = earliestAlarmAt(db);
  if (earliest === null) return [];
  const until = Math.max(now_ms, earliest);
  return statement(db, "due").all({ until, limit }).map((row) => row.id);
}

/**
 * Postpones a reservation whose step failed in a way its phase does not cover (a bug, a storage
 * error): one more retry counted, and its next alarm time backed off by it. Reads only the
 * retry count, so it works even when the rest of the row cannot be read.
 */
export function deferReservation(db: ReservationDb, id: string, alarm_at: (retries: number) => number): void {
  const row = statement(db, "retries").get({ id });
  if (row === undefined) return;
  const retries = row.retries + 1;
  statement(db, "defer").run({ id, alarm_at: alarm_at(retries), retries });
}
