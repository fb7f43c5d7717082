// The product object's change feed, as constant SQL (src/durable/sql.ts): events appended in
// the writing transaction, read back as the public events (a stock event's transaction is the
// ledger row at its seq), and how far each subscription has been handed them. Synchronous.

import { type ChangeEvent, type EventType, eventId, type StoredEvent } from "../../ledger/events";
import type { ProductSettings } from "../../ledger/settings";
import { STORED_ROW_COLUMNS, type StoredRow, toTransaction } from "../../ledger/stored-row";
import type { Stock } from "../../ledger/types";
import { allRows, firstRow, run, type Sql } from "../sql";

const INSERT_EVENT = "INSERT INTO events (type, seq, occurred_at, stock, with_transaction, settings) VALUES (?, ?, ?, ?, ?, ?)";
const HEAD = "SELECT max(position) AS position FROM events";
const ROW_COLUMNS = STORED_ROW_COLUMNS.map((column) => `r.${column} AS r_${column}`).join(", ");
const EVENT_COLUMNS = `e.position, e.type, e.seq, e.occurred_at, e.stock, e.with_transaction, e.settings, ${ROW_COLUMNS}`;
const EVENTS_AFTER = `SELECT ${EVENT_COLUMNS} FROM events AS e LEFT JOIN ledger_rows AS r ON e.with_transaction = 1 AND r.seq = e.seq
  WHERE e.position > ? ORDER BY e.position LIMIT ?`;
const OCCURRED_AT = "SELECT occurred_at FROM events WHERE position = ?";
const CURSORS = "SELECT subscription_id, position FROM subscription_cursors";
const SAVE_CURSOR = `INSERT INTO subscription_cursors (subscription_id, position) VALUES (?, ?)
  ON CONFLICT (subscription_id) DO UPDATE SET position = max(position, excluded.position)`;
const DELETE_CURSOR = "DELETE FROM subscription_cursors WHERE subscription_id = ?";

type EventRow = {
  position: number;
  type: EventType;
  seq: number;
  occurred_at: string;
  stock: string;
  with_transaction: number;
  settings: string | null;
} & { [K in keyof StoredRow as `r_${K}`]: StoredRow[K] | null };

/** An event with its place in this product's feed. */
export interface PositionedEvent {
  position: number;
  event: ChangeEvent;
}

export function insertEvents(sql: Sql, events: readonly StoredEvent[]): void {
  for (const event of events) {
    run(
      sql,
      INSERT_EVENT,
      event.type,
      event.seq,
      event.occurred_at,
      JSON.stringify(event.stock),
      event.with_transaction ? 1 : 0,
      event.settings ? JSON.stringify(event.settings) : null,
    );
  }
}

/** The position of the newest event (0 when the feed is empty). */
export function headPosition(sql: Sql): number {
  return firstRow<{ position: number | null }>(sql, HEAD)?.position ?? 0;
}

/**
 * The last position written before an instant: where a subscription created then starts.
 * Positions run 1, 2, 3… with no gaps, and occurred_at never goes back, so a binary search
 * finds it in O(log n) lookups by position (there is no index on occurred_at to keep up).
 */
export function positionBefore(sql: Sql, instant: string): number {
  let low = 0;
  let high = headPosition(sql);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    const at = firstRow<{ occurred_at: string }>(sql, OCCURRED_AT, middle)?.occurred_at;
    if (at !== undefined && at < instant) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * Up to `limit` events after a position, ascending, of the given types (all when empty). A
 * type filter is a fixed fragment with one bound parameter per type; (type, position) is indexed.
 */
export function eventsAfter(
  sql: Sql,
  product_id: string,
  product_hash: string,
  after: number,
  limit: number,
  types: readonly EventType[] = [],
): PositionedEvent[] {
  const query =
    types.length === 0
      ? EVENTS_AFTER
      : `SELECT ${EVENT_COLUMNS} FROM events AS e LEFT JOIN ledger_rows AS r ON e.with_transaction = 1 AND r.seq = e.seq
          WHERE e.position > ? AND e.type IN (${types.map(() => "?").join(", ")}) ORDER BY e.position LIMIT ?`;
  const rows = allRows<EventRow>(sql, query, after, ...types, limit);
  return rows.map((row) => ({ position: row.position, event: eventOf(product_id, product_hash, row) }));
}

function eventOf(product_id: string, product_hash: string, row: EventRow): ChangeEvent {
  const data: ChangeEvent["data"] = { stock: JSON.parse(row.stock) as Stock };
  if (row.with_transaction === 1 && row.r_seq !== null) data.transaction = toTransaction(product_id, rowOf(row));
  if (row.settings !== null) data.settings = JSON.parse(row.settings) as ProductSettings;
  return { id: eventId(product_hash, row.position), type: row.type, product_id, seq: row.seq, occurred_at: row.occurred_at, data };
}

function rowOf(row: EventRow): StoredRow {
  return Object.fromEntries(STORED_ROW_COLUMNS.map((column) => [column, row[`r_${column}`]])) as StoredRow;
}

export function readCursors(sql: Sql): Map<string, number> {
  return new Map(allRows<{ subscription_id: string; position: number }>(sql, CURSORS).map((row) => [row.subscription_id, row.position]));
}

/** Moves a subscription's cursor forward (never back). */
export function saveCursor(sql: Sql, subscription_id: string, position: number): void {
  run(sql, SAVE_CURSOR, subscription_id, position);
}

export function deleteCursor(sql: Sql, subscription_id: string): void {
  run(sql, DELETE_CURSOR, subscription_id);
}

const CHECKED = "SELECT checked_position FROM feed_state WHERE singleton = 1";
const SAVE_CHECKED = `INSERT INTO feed_state (singleton, checked_position) VALUES (1, ?)
  ON CONFLICT (singleton) DO UPDATE SET checked_position = excluded.checked_position`;

/** Every event up to this position has been handed to whoever wanted it. */
export function checkedPosition(sql: Sql): number {
  return firstRow<{ checked_position: number }>(sql, CHECKED)?.checked_position ?? 0;
}

export function saveCheckedPosition(sql: Sql, position: number): void {
  run(sql, SAVE_CHECKED, position);
}
