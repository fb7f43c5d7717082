// The product object's side of reservations and of order lines reported by webhooks: holds per
// (reservation, location), the fences that refuse late holds, and cancellations remembered
// before their placement. Constant SQL (src/durable/sql.ts), synchronous.

import type { Hold, HoldStatus } from "../../ledger/holds";
import { allRows, firstRow, run, type Sql } from "../sql";

const HOLDS = "SELECT reservation_id, location_id, quantity, status, attempt FROM reservation_holds WHERE reservation_id = ?";
const SAVE_HOLD = `INSERT INTO reservation_holds (reservation_id, location_id, quantity, status, attempt, expires_at, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (reservation_id, location_id) DO UPDATE SET quantity = excluded.quantity, status = excluded.status, attempt = excluded.attempt,
    expires_at = excluded.expires_at, last_seq = excluded.last_seq`;
const SET_HOLD_STATUS = "UPDATE reservation_holds SET status = ?, last_seq = ? WHERE reservation_id = ? AND status = ?";
const FENCE = "SELECT attempt FROM reservation_fences WHERE reservation_id = ?";
const RAISE_FENCE = `INSERT INTO reservation_fences (reservation_id, attempt) VALUES (?, ?)
  ON CONFLICT (reservation_id) DO UPDATE SET attempt = max(attempt, excluded.attempt)`;
const CANCELLATION = "SELECT 1 AS remembered FROM order_line_cancellations WHERE key = ?";
const REMEMBER_CANCELLATION = "INSERT INTO order_line_cancellations (key, created_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING";

export function readHolds(sql: Sql, reservation_id: string): Hold[] {
  return allRows<{ reservation_id: string; location_id: string; quantity: number; status: HoldStatus; attempt: number }>(
    sql,
    HOLDS,
    reservation_id,
  );
}

/** Units held for reservations per location, for the locations given. */
export function heldByLocation(sql: Sql, location_ids: readonly string[]): Map<string, number> {
  const held = new Map<string, number>();
  // One bound parameter per location keeps the statement text constant (a location count of
  // one or two is the rule; the index on (location_id, status) answers each).
  for (const location_id of new Set(location_ids)) {
    const row = firstRow<{ held: number | null }>(
      sql,
      "SELECT sum(quantity) AS held FROM reservation_holds WHERE location_id = ? AND status = 'held'",
      location_id,
    );
    if (row?.held != null) held.set(location_id, row.held);
  }
  return held;
}

export function saveHolds(sql: Sql, holds: readonly (Hold & { expires_at: string })[], last_seq: number): void {
  for (const hold of holds)
    run(sql, SAVE_HOLD, hold.reservation_id, hold.location_id, hold.quantity, hold.status, hold.attempt, hold.expires_at, last_seq);
}

export function setHoldStatus(sql: Sql, reservation_id: string, from: HoldStatus, to: HoldStatus, last_seq: number): void {
  run(sql, SET_HOLD_STATUS, to, last_seq, reservation_id, from);
}

/** The highest attempt of a reservation released here (0: none). */
export function readFence(sql: Sql, reservation_id: string): number {
  return firstRow<{ attempt: number }>(sql, FENCE, reservation_id)?.attempt ?? 0;
}

export function raiseFence(sql: Sql, reservation_id: string, attempt: number): void {
  run(sql, RAISE_FENCE, reservation_id, attempt);
}

export function isCancellationRemembered(sql: Sql, key: string): boolean {
  return firstRow(sql, CANCELLATION, key) !== undefined;
}

export function rememberCancellation(sql: Sql, key: string, created_at: string): void {
  run(sql, REMEMBER_CANCELLATION, key, created_at);
}
