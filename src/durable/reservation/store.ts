// Load and save the reservations a Reservation object holds, and find the ones whose time has
// come. Constant SQL on the object's SQLite (src/durable/sql.ts), synchronous.

import type { ReservationLine, ReservationPhase } from "../../ledger/reservations";
import { allRows, firstRow, run, type Sql } from "../sql";
import type { StoredReservation } from "./rpc";

type ReservationRow = {
  id: string;
  phase: ReservationPhase;
  reason: string;
  ttl_seconds: number;
  expires_at: string;
  created_by: string;
  created_at: string;
  lines: string;
  idempotency_key: string;
  fingerprint: string;
  attempt: number;
  retries: number;
  closed_by: string | null;
  closed_key: string | null;
};

const LOAD = `SELECT id, phase, reason, ttl_seconds, expires_at, created_by, created_at, lines, idempotency_key, fingerprint,
    attempt, retries, closed_by, closed_key FROM reservations WHERE id = ?`;
// Everything but the id is replaced by the saved record.
const SAVE = `INSERT INTO reservations (id, phase, reason, ttl_seconds, expires_at, created_by, created_at, lines, idempotency_key,
    fingerprint, attempt, retries, closed_by, closed_key, updated_at, alarm_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, reason = excluded.reason, ttl_seconds = excluded.ttl_seconds,
    expires_at = excluded.expires_at, created_by = excluded.created_by, created_at = excluded.created_at, lines = excluded.lines,
    idempotency_key = excluded.idempotency_key, fingerprint = excluded.fingerprint, attempt = excluded.attempt,
    retries = excluded.retries, closed_by = excluded.closed_by, closed_key = excluded.closed_key,
    updated_at = excluded.updated_at, alarm_at = excluded.alarm_at`;
// The WHERE lets SQLite answer from the partial index instead of reading every finished row.
const EARLIEST = "SELECT min(alarm_at) AS at FROM reservations WHERE alarm_at IS NOT NULL";
const DUE = "SELECT id FROM reservations WHERE alarm_at <= ? ORDER BY alarm_at LIMIT ?";
const RETRIES = "SELECT retries FROM reservations WHERE id = ?";
const DEFER = "UPDATE reservations SET alarm_at = ?, retries = ? WHERE id = ?";

export function loadReservation(sql: Sql, id: string): StoredReservation | undefined {
  const row = firstRow<ReservationRow>(sql, LOAD, id);
  if (row === undefined) return undefined;
  return { ...row, lines: JSON.parse(row.lines) as ReservationLine[] };
}

/** Saves a reservation with the time it next needs work (null when it is finished). */
export function saveReservation(sql: Sql, record: StoredReservation, now: string, alarm_at: number | null): void {
  run(
    sql,
    SAVE,
    record.id,
    record.phase,
    record.reason,
    record.ttl_seconds,
    record.expires_at,
    record.created_by,
    record.created_at,
    JSON.stringify(record.lines),
    record.idempotency_key,
    record.fingerprint,
    record.attempt,
    record.retries,
    record.closed_by,
    record.closed_key,
    now,
    alarm_at,
  );
}

/** The earliest time any reservation here needs work: what the object's alarm is set to. */
export function earliestAlarmAt(sql: Sql): number | null {
  return firstRow<{ at: number | null }>(sql, EARLIEST)?.at ?? null;
}

/**
 * Reservations whose time has come, earliest first, at most `limit`. The earliest one is always
 * included: the alarm was set for it, and a platform alarm may fire a little early.
 */
export function dueReservationIds(sql: Sql, now_ms: number, limit: number): string[] {
  const earliest = earliestAlarmAt(sql);
  if (earliest === null) return [];
  return allRows<{ id: string }>(sql, DUE, Math.max(now_ms, earliest), limit).map((row) => row.id);
}

/**
 * Postpones a reservation whose step failed in a way its phase does not cover (a bug, a storage
 * error): one more retry counted, and its next alarm time backed off by it. Reads only the
 * retry count, so it works even when the rest of the row cannot be read.
 */
export function deferReservation(sql: Sql, id: string, alarm_at: (retries: number) => number): void {
  const row = firstRow<{ retries: number }>(sql, RETRIES, id);
  if (row === undefined) return;
  const retries = row.retries + 1;
  run(sql, DEFER, alarm_at(retries), retries, id);
}
