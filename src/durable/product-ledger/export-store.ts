// The product object's side of the export and of reconciliation: its watermark, its registry
// flag, pages of rows past the watermark (encoded by SQLite as the JSON arrays of EXPORT_COLUMNS that D1 unpacks), and
// the sums that reconciliation compares. Constant SQL (src/durable/sql.ts), synchronous.

import type { ChunkSummary } from "../../ledger/reconcile";
import { STORED_ROW_COLUMNS } from "../../ledger/stored-row";
import { allRows, firstRow, run, type Sql } from "../sql";
import { ON_HAND_TYPES_SQL } from "./history";

export interface ExportState {
  watermark_seq: number;
  registered_at: string | null;
  registration_attempts: number;
}

const STATE = "SELECT watermark_seq, registered_at, registration_attempts FROM export_state WHERE singleton = 1";
const CREATE_STATE =
  "INSERT INTO export_state (singleton, watermark_seq, registered_at, registration_attempts) VALUES (1, 0, NULL, 0) ON CONFLICT (singleton) DO NOTHING";
const MARK_REGISTERED = "UPDATE export_state SET registered_at = ?";
const COUNT_REGISTRATION_ATTEMPT =
  "UPDATE export_state SET registration_attempts = registration_attempts + 1 RETURNING registration_attempts";
const SET_WATERMARK = "UPDATE export_state SET watermark_seq = ?";
// SQLite encodes each row itself (json_array), so a page crosses to D1 without being decoded
// and re-encoded in JavaScript. metadata is stored as JSON text and travels as that text.
// A hash is null only before the startup backfill has linked the row; it travels as "".
const ENCODED_ROWS_AFTER = `SELECT seq, json_array(?, ${STORED_ROW_COLUMNS.map((column) => (column === "prev_hash" || column === "hash" ? `coalesce(${column}, '')` : column)).join(", ")}) AS encoded
  FROM ledger_rows WHERE seq > ? ORDER BY seq LIMIT ?`;
const CHUNK_SUMS = `SELECT cast((seq - 1) / ? AS integer) AS chunk, count(*) AS rows, sum(delta) AS delta_sum,
    sum(CASE WHEN type IN (${ON_HAND_TYPES_SQL}) THEN delta ELSE 0 END) AS on_hand_delta_sum, sum(quantity) AS quantity_sum, sum(seq) AS seq_sum
  FROM ledger_rows WHERE seq <= ? GROUP BY 1 ORDER BY 1`;

export function readExportState(sql: Sql): ExportState | undefined {
  return firstRow<{ watermark_seq: number; registered_at: string | null; registration_attempts: number }>(sql, STATE);
}

/** Created with the product's first row: watermark 0, not yet registered in D1. */
export function createExportState(sql: Sql): void {
  run(sql, CREATE_STATE);
}

export function markRegistered(sql: Sql, registered_at: string): void {
  run(sql, MARK_REGISTERED, registered_at);
}

/** Counts one more failed registration and says how many there have been. */
export function countRegistrationAttempt(sql: Sql): number {
  return firstRow<{ registration_attempts: number }>(sql, COUNT_REGISTRATION_ATTEMPT)?.registration_attempts ?? 0;
}

/** Moves the watermark forward (never back) and says by how many rows. */
export function advanceWatermark(sql: Sql, through_seq: number): number {
  const before = readExportState(sql)?.watermark_seq ?? 0;
  if (through_seq <= before) return 0;
  run(sql, SET_WATERMARK, through_seq);
  return through_seq - before;
}

/** Up to `limit` rows after a seq, each as the JSON array of EXPORT_COLUMNS, and the last seq among them. */
export function encodedRowsAfter(sql: Sql, product_id: string, after_seq: number, limit: number): { rows: string[]; last_seq: number } {
  const rows: string[] = [];
  let last_seq = after_seq;
  for (const row of sql.exec<{ seq: number; encoded: string }>(ENCODED_ROWS_AFTER, product_id, after_seq, limit)) {
    rows.push(row.encoded);
    last_seq = row.seq;
  }
  return { rows, last_seq };
}

/** Per-chunk sums of the ledger up to a seq, for comparing with D1 chunk by chunk. */
export function chunkSums(sql: Sql, through_seq: number, chunk_rows: number): ChunkSummary[] {
  return allRows<{ chunk: number; rows: number; delta_sum: number; on_hand_delta_sum: number; quantity_sum: number; seq_sum: number }>(
    sql,
    CHUNK_SUMS,
    chunk_rows,
    through_seq,
  );
}
