// The product object's write path and its read model, as constant SQL (src/durable/sql.ts):
// the state a write decides on, the rows it appends, the cached levels and totals it leaves,
// and the idempotency key it remembers. Synchronous: for use inside transactionSync.

import type { Accepted, ProductState } from "../../ledger/decide";
import { GENESIS_HASH } from "../../ledger/hash-chain";
import { emptyTotals, type ProductTotals } from "../../ledger/stock";
import type { LocationLevel, Stock, Transaction, TransactionRequest } from "../../ledger/types";
import { allRows, firstRow, run, type Sql } from "../sql";
import { heldByLocation } from "./holds-store";

export interface StoredKey {
  fingerprint: string;
  /** JSON of the stock the first success answered with. */
  stock: string;
  first_seq: number;
  last_seq: number;
}

export type LoadedState = ProductState & {
  stored_product_id: string | null;
  head_hash: string;
  /** From the product's settings: what the change feed's stock.low compares with. */
  low_stock_threshold: number | null;
};

type TotalsRow = {
  product_id: string;
  on_hand: number;
  reserved: number;
  version: number;
  oversold_locations: number;
  location_count: number;
  updated_at: string;
  head_hash: string | null;
};

type Nullable<T> = { [K in keyof T]: T[K] | null };

const TOTALS =
  "SELECT product_id, on_hand, reserved, version, oversold_locations, location_count, updated_at, head_hash FROM product_stock WHERE singleton = 1";
const THRESHOLD = "SELECT low_stock_threshold FROM product_settings WHERE singleton = 1";
const LEVELS = "SELECT location_id, on_hand, reserved FROM location_stock";
const LEVEL_OF = "SELECT on_hand, reserved FROM location_stock WHERE location_id = ?";
const KEY_USED = "SELECT 1 AS used FROM idempotency_keys WHERE key = ?";
/**
 * Everything a write decides on, in one statement for the common case: the key's stored answer,
 * the totals, and the level of the write's first location. LEFT JOINs from a one-row table, so
 * the row comes back even when none of them exist yet. Each statement is a round trip into
 * SQLite that cost more than its work; this one replaces three.
 */
const FOR_WRITE = `SELECT k.fingerprint, k.response, k.first_seq, k.last_seq,
    p.product_id, p.on_hand, p.reserved, p.version, p.oversold_locations, p.location_count, p.updated_at, p.head_hash,
    l.on_hand AS level_on_hand, l.reserved AS level_reserved, s.low_stock_threshold
  FROM (SELECT 1)
  LEFT JOIN idempotency_keys AS k ON k.key = ?
  LEFT JOIN product_stock AS p ON p.singleton = 1
  LEFT JOIN location_stock AS l ON l.location_id = ?
  LEFT JOIN product_settings AS s ON s.singleton = 1`;
const HEAD_HASH = "SELECT hash FROM ledger_rows ORDER BY seq DESC LIMIT 1";
const INSERT_ROW = `INSERT INTO ledger_rows (seq, id, type, quantity, delta, location_id, reason, created_by, actor, metadata,
    reservation_id, idempotency_key, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const SAVE_LEVEL = `INSERT INTO location_stock (location_id, on_hand, reserved, last_seq) VALUES (?, ?, ?, ?)
  ON CONFLICT (location_id) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved, last_seq = excluded.last_seq`;
const SAVE_TOTALS = `INSERT INTO product_stock (singleton, product_id, on_hand, reserved, version, oversold_locations, location_count, updated_at, head_hash)
  VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (singleton) DO UPDATE SET product_id = excluded.product_id, on_hand = excluded.on_hand, reserved = excluded.reserved,
    version = excluded.version, oversold_locations = excluded.oversold_locations, location_count = excluded.location_count,
    updated_at = excluded.updated_at, head_hash = excluded.head_hash`;
const SAVE_KEY = "INSERT INTO idempotency_keys (key, fingerprint, response, first_seq, last_seq, created_at) VALUES (?, ?, ?, ?, ?, ?)";
const DELETE_LEVELS = "DELETE FROM location_stock";

/** The cached totals; zeros at version 0 for a product with no rows. */
export function readTotals(sql: Sql, product_id: string): ProductTotals {
  const row = firstRow<TotalsRow>(sql, TOTALS);
  if (row === undefined) return emptyTotals(product_id);
  return {
    product_id: row.product_id,
    on_hand: row.on_hand,
    reserved: row.reserved,
    version: row.version,
    oversold_locations: row.oversold_locations,
    updated_at: row.updated_at,
  };
}

/** The chain head the read model remembers (null before the first write after migration 0004). */
export function readHeadHash(sql: Sql): string | null {
  return firstRow<TotalsRow>(sql, TOTALS)?.head_hash ?? null;
}

/** The cached level of every location. */
export function readLevels(sql: Sql): LocationLevel[] {
  return allRows<{ location_id: string; on_hand: number; reserved: number }>(sql, LEVELS);
}

/** Whether a write was accepted under this (scoped) idempotency key. */
export function isKeyUsed(sql: Sql, key: string): boolean {
  return firstRow(sql, KEY_USED, key) !== undefined;
}

/**
 * The key's stored answer, if any, and the state to decide a new write on (read only for a
 * write that is not a replay: other locations' levels and reservation holds cost queries).
 */
export function loadForWrite(
  sql: Sql,
  key: string,
  product_id: string,
  requests: readonly TransactionRequest[],
): { stored: StoredKey | undefined; state: () => LoadedState } {
  const location_id = requests[0]!.location_id;
  const row = sql
    .exec<
      Nullable<TotalsRow> & {
        fingerprint: string | null;
        response: string | null;
        first_seq: number | null;
        last_seq: number | null;
        level_on_hand: number | null;
        level_reserved: number | null;
        low_stock_threshold: number | null;
      }
    >(FOR_WRITE, key, location_id)
    .one();
  const stored =
    row.fingerprint === null
      ? undefined
      : { fingerprint: row.fingerprint, stock: row.response!, first_seq: row.first_seq!, last_seq: row.last_seq! };
  const totals = row.product_id === null ? undefined : (row as TotalsRow);
  const known = new Map<string, LocationLevel>();
  if (row.level_on_hand !== null) known.set(location_id, { location_id, on_hand: row.level_on_hand, reserved: row.level_reserved! });
  return { stored, state: () => stateOf(sql, product_id, requests, totals, known, row.low_stock_threshold) };
}

/** The state decide() needs: totals, the touched locations' levels, and the stored product id. */
export function loadState(sql: Sql, product_id: string, requests: readonly TransactionRequest[]): LoadedState {
  const low_stock_threshold = firstRow<{ low_stock_threshold: number | null }>(sql, THRESHOLD)?.low_stock_threshold ?? null;
  return stateOf(sql, product_id, requests, firstRow<TotalsRow>(sql, TOTALS), new Map(), low_stock_threshold);
}

/** Completes the state from the totals and the levels already read, reading the other locations' levels. */
function stateOf(
  sql: Sql,
  product_id: string,
  requests: readonly TransactionRequest[],
  totals: TotalsRow | undefined,
  known: Map<string, LocationLevel>,
  low_stock_threshold: number | null,
): LoadedState {
  const location_ids = [...new Set(requests.map((request) => request.location_id))];
  const levels = new Map<string, LocationLevel>();
  for (const location_id of location_ids) {
    const level = known.get(location_id) ?? firstRow<{ on_hand: number; reserved: number }>(sql, LEVEL_OF, location_id);
    if (level) levels.set(location_id, { location_id, on_hand: level.on_hand, reserved: level.reserved });
  }
  // Only a plain RELEASE is limited by what reservations hold; skip the query otherwise.
  const plainRelease = requests.some((request) => request.type === "RELEASE" && request.reservation_id === null);
  return {
    product_id,
    stored_product_id: totals?.product_id ?? null,
    // Kept in the read model so a write need not read the ledger's last row; rows written before
    // migration 0004 left it null, and then the ledger is asked once.
    head_hash: totals === undefined ? GENESIS_HASH : (totals.head_hash ?? headHash(sql)),
    version: totals?.version ?? 0,
    on_hand: totals?.on_hand ?? 0,
    reserved: totals?.reserved ?? 0,
    oversold_locations: totals?.oversold_locations ?? 0,
    location_count: totals?.location_count ?? 0,
    last_created_at: totals?.updated_at ?? null,
    levels,
    reservation_held: plainRelease ? heldByLocation(sql, location_ids) : new Map<string, number>(),
    low_stock_threshold,
  };
}

/** The hash of the ledger's last row (the genesis hash for an empty ledger). */
export function headHash(sql: Sql): string {
  return firstRow<{ hash: string | null }>(sql, HEAD_HASH)?.hash ?? GENESIS_HASH;
}

export function insertRows(sql: Sql, rows: readonly Transaction[]): void {
  for (const row of rows) {
    run(
      sql,
      INSERT_ROW,
      row.seq,
      row.id,
      row.type,
      row.quantity,
      row.delta,
      row.location_id,
      row.reason,
      row.created_by,
      row.actor,
      row.metadata === null ? null : JSON.stringify(row.metadata),
      row.reservation_id,
      row.idempotency_key,
      row.created_at,
      row.prev_hash,
      row.hash,
    );
  }
}

/** Writes the new cached levels and totals that decide() computed, and the chain's new head. */
export function saveReadModel(sql: Sql, accepted: Pick<Accepted, "next" | "levels">, head_hash: string): void {
  const { next, levels } = accepted;
  for (const level of levels) run(sql, SAVE_LEVEL, level.location_id, level.on_hand, level.reserved, next.version);
  run(
    sql,
    SAVE_TOTALS,
    next.product_id,
    next.on_hand,
    next.reserved,
    next.version,
    next.oversold_locations,
    next.location_count,
    next.last_created_at ?? "",
    head_hash,
  );
}

/** Replaces the whole read model with levels recomputed from the ledger (reconciliation's repair). */
export function replaceReadModel(sql: Sql, next: Accepted["next"], levels: readonly LocationLevel[], head_hash: string): void {
  run(sql, DELETE_LEVELS);
  saveReadModel(sql, { next, levels: [...levels] }, head_hash);
}

/** Remembers an accepted write: its fingerprint, its rows' seqs and the stock it answered with. */
export function saveKey(sql: Sql, key: string, fingerprint: string, stock: Stock, rows: readonly Transaction[]): void {
  run(sql, SAVE_KEY, key, fingerprint, JSON.stringify(stock), rows[0]!.seq, rows[rows.length - 1]!.seq, rows[0]!.created_at);
}
