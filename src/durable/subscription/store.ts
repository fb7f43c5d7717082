// Load and save a Subscription object's state, as constant SQL (src/durable/sql.ts): its
// settings, its secrets, and its deliveries (the queue and the log). Synchronous.

import type { DeliveryStatus } from "../../ledger/deliveries";
import type { EventType } from "../../ledger/events";
import { allRows, firstRow, run, type Sql } from "../sql";
import type { DeliveryFilter, DeliveryView, QueuedEvent, SubscriptionConfig } from "./rpc";

export interface StoredSubscription extends SubscriptionConfig {
  status: "active" | "disabled" | "deleted";
  disabled_reason: string | null;
  created_at: string;
  consecutive_failures: number;
  registry_dirty: boolean;
}

export interface DueDelivery {
  log_seq: number;
  product_id: string;
  event_id: string;
  body: string;
  attempts: number;
}

type SubscriptionRow = {
  id: string;
  url: string;
  event_types: string;
  product_ids: string | null;
  description: string | null;
  status: StoredSubscription["status"];
  disabled_reason: string | null;
  created_at: string;
  consecutive_failures: number;
  registry_dirty: number;
};

const LOAD = `SELECT id, url, event_types, product_ids, description, status, disabled_reason, created_at, consecutive_failures, registry_dirty
  FROM subscription WHERE singleton = 1`;
const SAVE = `INSERT INTO subscription (singleton, id, url, event_types, product_ids, description, status, disabled_reason, created_at,
    consecutive_failures, registry_dirty) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (singleton) DO UPDATE SET status = excluded.status, disabled_reason = excluded.disabled_reason,
    consecutive_failures = excluded.consecutive_failures, registry_dirty = excluded.registry_dirty`;
const SECRETS = "SELECT secret FROM secrets WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at DESC";
const ADD_SECRET = "INSERT INTO secrets (secret, created_at, expires_at) VALUES (?, ?, NULL)";
const EXPIRE_CURRENT = "UPDATE secrets SET expires_at = ? WHERE expires_at IS NULL";
const DROP_EXPIRED = "DELETE FROM secrets WHERE expires_at IS NOT NULL AND expires_at <= ?";
const ENQUEUE = `INSERT INTO deliveries (product_id, position, event_id, seq, type, body, status, attempts, next_attempt_at, created_at)
  VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (product_id, position) DO NOTHING`;
// The products with pending events, and a product's lowest pending event: the only one of that
// product that may be sent. Both are answered from the (status, product_id, position) index.
const PENDING_PRODUCTS = "SELECT product_id FROM deliveries WHERE status = 'pending' GROUP BY product_id";
const HEAD = `SELECT log_seq, product_id, event_id, body, attempts, next_attempt_at FROM deliveries
  WHERE status = 'pending' AND product_id = ? ORDER BY position LIMIT 1`;
const RECORD_ATTEMPT = `UPDATE deliveries SET status = ?, attempts = attempts + 1, last_attempt_at = ?, last_status = ?, last_error = ?, next_attempt_at = ?
  WHERE log_seq = ? AND status = 'pending'`;
const BY_EVENT = "SELECT log_seq, status FROM deliveries WHERE event_id = ?";
const RETRY_NOW =
  "UPDATE deliveries SET status = 'pending', attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END, next_attempt_at = ? WHERE log_seq = ?";
const DROP_PENDING = "DELETE FROM deliveries WHERE status = 'pending'";

export function loadSubscription(sql: Sql): StoredSubscription | undefined {
  const row = firstRow<SubscriptionRow>(sql, LOAD);
  if (row === undefined) return undefined;
  return {
    ...row,
    event_types: JSON.parse(row.event_types) as EventType[],
    product_ids: row.product_ids === null ? null : (JSON.parse(row.product_ids) as string[]),
    registry_dirty: row.registry_dirty === 1,
  };
}

export function saveSubscription(sql: Sql, s: StoredSubscription): void {
  run(
    sql,
    SAVE,
    s.id,
    s.url,
    JSON.stringify(s.event_types),
    s.product_ids === null ? null : JSON.stringify(s.product_ids),
    s.description,
    s.status,
    s.disabled_reason,
    s.created_at,
    s.consecutive_failures,
    s.registry_dirty ? 1 : 0,
  );
}

/** The secrets that sign now: the current one first, then one still in its rotation overlap. */
export function signingSecrets(sql: Sql, now_ms: number): string[] {
  run(sql, DROP_EXPIRED, now_ms);
  return allRows<{ secret: string }>(sql, SECRETS, now_ms).map((row) => row.secret);
}

/** Makes `secret` the current one; the one before it keeps signing until `previous_expires_at` (ms). */
export function rotateSecret(sql: Sql, secret: string, created_at: string, previous_expires_at: number): void {
  run(sql, EXPIRE_CURRENT, previous_expires_at);
  run(sql, ADD_SECRET, secret, created_at);
}

export function addSecret(sql: Sql, secret: string, created_at: string): void {
  run(sql, ADD_SECRET, secret, created_at);
}

/** Queues events of one product (each once: a product that hands them again changes nothing). Answers how many were new. */
export function enqueue(sql: Sql, product_id: string, events: readonly QueuedEvent[], now_ms: number, now: string): number {
  let accepted = 0;
  for (const { position, event } of events) {
    const cursor = sql.exec(ENQUEUE, product_id, position, event.id, event.seq, event.type, JSON.stringify(event), now_ms, now);
    accepted += cursor.rowsWritten > 0 ? 1 : 0;
  }
  return accepted;
}

export function pendingProducts(sql: Sql): string[] {
  return allRows<{ product_id: string }>(sql, PENDING_PRODUCTS).map((row) => row.product_id);
}

/** A product's next event to send, with when it is due (ms). */
export function headOf(sql: Sql, product_id: string): (DueDelivery & { next_attempt_at: number }) | undefined {
  return firstRow<{ log_seq: number; product_id: string; event_id: string; body: string; attempts: number; next_attempt_at: number }>(
    sql,
    HEAD,
    product_id,
  );
}

/** When the next queued event is due (ms), or null when nothing is pending. */
export function nextDueAt(sql: Sql): number | null {
  let next: number | null = null;
  for (const product_id of pendingProducts(sql)) {
    const at = headOf(sql, product_id)?.next_attempt_at;
    if (at !== undefined && (next === null || at < next)) next = at;
  }
  return next;
}

export function recordAttempt(
  sql: Sql,
  log_seq: number,
  result: { status: DeliveryStatus; at: string; last_status: number | null; last_error: string | null; next_attempt_at: number | null },
): void {
  run(sql, RECORD_ATTEMPT, result.status, result.at, result.last_status, result.last_error, result.next_attempt_at, log_seq);
}

/** Sends an event again now (a failed one with a fresh schedule); false when this subscription never had it. */
export function retryNow(sql: Sql, event_id: string, now_ms: number): boolean {
  const row = firstRow<{ log_seq: number }>(sql, BY_EVENT, event_id);
  if (row === undefined) return false;
  run(sql, RETRY_NOW, now_ms, row.log_seq);
  return true;
}

export function dropPending(sql: Sql): void {
  run(sql, DROP_PENDING);
}

/** One page of the delivery log, newest first; each filter is a fixed fragment with a bound parameter. */
export function listDeliveries(sql: Sql, filter: DeliveryFilter): { data: DeliveryView[]; next_after: number | null } {
  let query = `SELECT log_seq, event_id, product_id, seq, type, status, attempts, last_attempt_at, last_status, next_attempt_at FROM deliveries WHERE 1 = 1`;
  const params: (string | number)[] = [];
  if (filter.status !== undefined) {
    query += " AND status = ?";
    params.push(filter.status);
  }
  if (filter.product_id !== undefined) {
    query += " AND product_id = ?";
    params.push(filter.product_id);
  }
  if (filter.after !== undefined) {
    query += " AND log_seq < ?";
    params.push(filter.after);
  }
  const rows = allRows<{
    log_seq: number;
    event_id: string;
    product_id: string;
    seq: number;
    type: string;
    status: DeliveryStatus;
    attempts: number;
    last_attempt_at: string | null;
    last_status: number | null;
    next_attempt_at: number | null;
  }>(sql, `${query} ORDER BY log_seq DESC LIMIT ?`, ...params, filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  return {
    data: page.map(({ log_seq: _log_seq, next_attempt_at, ...row }) => ({
      ...row,
      next_attempt_at: row.status === "pending" && next_attempt_at !== null ? new Date(next_attempt_at).toISOString() : null,
    })),
    next_after: rows.length > filter.limit ? page[page.length - 1]!.log_seq : null,
  };
}
