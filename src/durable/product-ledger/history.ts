// Reads of a product's history, as constant SQL (src/durable/sql.ts): pages of rows, a past
// position's levels recomputed from the ledger, the hash chain's links, and the backfill that
// links rows written before the chain existed. Synchronous.

import { chainRows, checkChainPage, GENESIS_HASH } from "../../ledger/hash-chain";
import { err, ok } from "../../ledger/result";
import { totalsFromLevels, withLocations } from "../../ledger/stock";
import { STORED_ROW_COLUMNS, type StoredRow, toTransaction } from "../../ledger/stored-row";
import { type LocationLevel, ON_HAND_TYPES, type Transaction, type TransactionType } from "../../ledger/types";
import { allRows, firstRow, run, type Sql } from "../sql";
import type { StockAtQuery, StockAtResult, VerifyPageResult } from "./rpc";

const COLUMNS = STORED_ROW_COLUMNS.join(", ");
/** The on-hand types as SQL literals: constant text from the code, never from a request. */
export const ON_HAND_TYPES_SQL = ON_HAND_TYPES.map((type) => `'${type}'`).join(", ");

const ROWS_BETWEEN = `SELECT ${COLUMNS} FROM ledger_rows WHERE seq >= ? AND seq <= ? ORDER BY seq`;
const ROWS_AFTER = `SELECT ${COLUMNS} FROM ledger_rows WHERE seq > ? ORDER BY seq LIMIT ?`;
const ROW_AT = `SELECT ${COLUMNS} FROM ledger_rows WHERE seq = ?`;
const HASH_AT = "SELECT hash FROM ledger_rows WHERE seq = ?";
const LAST_SEQ = "SELECT max(seq) AS seq FROM ledger_rows";
const VERSION_AS_OF = "SELECT max(seq) AS seq FROM ledger_rows WHERE created_at <= ?";
const FIRST_SEQ_OF_KEY = "SELECT first_seq FROM idempotency_keys WHERE key = ?";
const LEVELS_THROUGH = `SELECT location_id,
    coalesce(sum(CASE WHEN type IN (${ON_HAND_TYPES_SQL}) THEN delta ELSE 0 END), 0) AS on_hand,
    coalesce(-sum(CASE WHEN type IN (${ON_HAND_TYPES_SQL}) THEN 0 ELSE delta END), 0) AS reserved
  FROM ledger_rows WHERE seq <= ? GROUP BY location_id`;
const CREATED_AT = "SELECT created_at FROM ledger_rows WHERE seq = ?";
const FIRST_UNHASHED = "SELECT min(seq) AS seq FROM ledger_rows WHERE hash IS NULL";
const SET_HASHES = "UPDATE ledger_rows SET prev_hash = ?, hash = ? WHERE seq = ?";

export interface TransactionFilter {
  after: number;
  limit: number;
  type?: TransactionType | undefined;
  reason?: string | undefined;
  location_id?: string | undefined;
}

/** One page of history in ascending seq, reading at most limit + 1 rows (each filter has its index). */
export function listTransactions(
  sql: Sql,
  product_id: string,
  filter: TransactionFilter,
): { data: Transaction[]; next_after: number | null } {
  let query = `SELECT ${COLUMNS} FROM ledger_rows WHERE seq > ?`;
  const params: (string | number)[] = [filter.after];
  if (filter.type !== undefined) {
    query += " AND type = ?";
    params.push(filter.type);
  }
  if (filter.reason !== undefined) {
    query += " AND reason = ?";
    params.push(filter.reason);
  }
  if (filter.location_id !== undefined) {
    query += " AND location_id = ?";
    params.push(filter.location_id);
  }
  const rows = allRows<StoredRow>(sql, `${query} ORDER BY seq LIMIT ?`, ...params, filter.limit + 1);
  const page = rows.slice(0, filter.limit).map((row) => toTransaction(product_id, row));
  return { data: page, next_after: rows.length > filter.limit ? page[page.length - 1]!.seq : null };
}

/** Rows from_seq..to_seq, ascending: what a replay answers with. */
export function rowsBetween(sql: Sql, product_id: string, from_seq: number, to_seq: number): Transaction[] {
  return allRows<StoredRow>(sql, ROWS_BETWEEN, from_seq, to_seq).map((row) => toTransaction(product_id, row));
}

/** Up to `limit` rows after a seq, ascending (verify pages). */
export function rowsAfter(sql: Sql, product_id: string, after_seq: number, limit: number): Transaction[] {
  return allRows<StoredRow>(sql, ROWS_AFTER, after_seq, limit).map((row) => toTransaction(product_id, row));
}

/** The first row written under an idempotency key, if any. */
export function firstRowOfKey(sql: Sql, product_id: string, key: string): Transaction | undefined {
  const stored = firstRow<{ first_seq: number }>(sql, FIRST_SEQ_OF_KEY, key);
  if (stored === undefined) return undefined;
  const row = firstRow<StoredRow>(sql, ROW_AT, stored.first_seq);
  return row && toTransaction(product_id, row);
}

export function lastSeq(sql: Sql): number {
  return firstRow<{ seq: number | null }>(sql, LAST_SEQ)?.seq ?? 0;
}

/** The last seq written at or before an instant (created_at never goes back in time). */
export function versionAsOf(sql: Sql, as_of: string): number {
  return firstRow<{ seq: number | null }>(sql, VERSION_AS_OF, as_of)?.seq ?? 0;
}

/** Levels recomputed from the ledger up to a seq: the truth the cache must equal. O(rows). */
export function levelsFromLedger(sql: Sql, through_seq: number): { levels: LocationLevel[]; updated_at: string | null } {
  const levels = allRows<{ location_id: string; on_hand: number; reserved: number }>(sql, LEVELS_THROUGH, through_seq);
  const last = firstRow<{ created_at: string }>(sql, CREATED_AT, through_seq);
  return { levels, updated_at: last?.created_at ?? null };
}

/** The hash of the row at a seq (the genesis hash for seq 0). */
export function hashAt(sql: Sql, seq: number): string {
  if (seq === 0) return GENESIS_HASH;
  return firstRow<{ hash: string | null }>(sql, HASH_AT, seq)?.hash ?? "";
}

/** Links rows written before the hash chain existed, in seq order, a bounded page at a time. */
export function backfillHashes(sql: Sql, product_id: string, page_rows: number): { hashed: number; done: boolean } {
  const first = firstRow<{ seq: number | null }>(sql, FIRST_UNHASHED)?.seq ?? null;
  if (first === null) return { hashed: 0, done: true };
  const previous = firstRow<{ hash: string | null }>(sql, HASH_AT, first - 1);
  const rows = allRows<StoredRow>(sql, `SELECT ${COLUMNS} FROM ledger_rows WHERE seq >= ? ORDER BY seq LIMIT ?`, first, page_rows);
  const linked = chainRows(
    previous?.hash ?? GENESIS_HASH,
    rows.map((row) => toTransaction(product_id, row)),
  );
  for (const row of linked) run(sql, SET_HASHES, row.prev_hash, row.hash, row.seq);
  return { hashed: linked.length, done: rows.length < page_rows };
}

/** Stock at a past ledger position or instant, recomputed from the ledger rows (`current_version`: the cached version). */
export function stockAt(sql: Sql, product_id: string, current_version: number, query: StockAtQuery): StockAtResult {
  const version = "at_version" in query ? query.at_version : Math.min(versionAsOf(sql, query.as_of), current_version);
  if (version > current_version) return err({ code: "version_not_reached", current_version });
  const { levels, updated_at } = levelsFromLedger(sql, version);
  return ok({ stock: { ...withLocations(totalsFromLevels(product_id, levels, version, updated_at), levels), derived: true as const } });
}

/**
 * Recomputes one page of the hash chain after (after_seq, after_hash). The caller walks the
 * pages, so a ledger of millions of rows is verified without one giant read. Rows cut off the
 * end still leave a chain that links: the cached `version` says they existed.
 */
export function verifyPage(
  sql: Sql,
  product_id: string,
  version: number,
  after_seq: number,
  after_hash: string,
  limit: number,
): VerifyPageResult {
  const rows = rowsAfter(sql, product_id, after_seq, limit);
  const check = checkChainPage(after_seq, after_seq === 0 ? GENESIS_HASH : after_hash, rows);
  const done = check.first_bad_seq !== null || rows.length < limit;
  if (done && check.first_bad_seq === null && check.last_seq < version)
    return ok({ ...check, first_bad_seq: check.last_seq + 1, done, version });
  return ok({ ...check, done, version });
}
