// Tamper evidence: each row's hash covers the previous row's hash and the row itself, so
// changing, removing, inserting or reordering any row breaks every hash after it.
//
//   hash = hex(SHA-256(UTF-8(prev_hash + "\n" + encoding)))
//   encoding = JSON.stringify([
//     "inventory-ledger/row/v1", product_id, seq, id, type, quantity, delta, location_id,
//     reason, created_by, actor, metadata, reservation_id, idempotency_key, created_at ])
//
// where metadata is the canonical JSON text of the metadata object (keys sorted, no spaces) or
// null. The README documents this byte for byte; scripts/verify-ledger.mjs re-implements it.

import { sha256Hex } from "../lib/sha256";
import { canonicalJson } from "./fingerprint";
import type { LedgerEntry, Transaction } from "./types";

export const GENESIS_HASH = "0".repeat(64);
export const ROW_ENCODING_TAG = "inventory-ledger/row/v1";

export function canonicalRowEncoding(row: LedgerEntry): string {
  return JSON.stringify([
    ROW_ENCODING_TAG,
    row.product_id,
    row.seq,
    row.id,
    row.type,
    row.quantity,
    row.delta,
    row.location_id,
    row.reason,
    row.created_by,
    row.actor,
    row.metadata === null ? null : canonicalJson(row.metadata),
    row.reservation_id,
    row.idempotency_key,
    row.created_at,
  ]);
}

export function rowHash(prev_hash: string, row: LedgerEntry): string {
  return sha256Hex(`${prev_hash}\n${canonicalRowEncoding(row)}`);
}

/** Links new rows onto the chain whose last hash is `head_hash`. */
export function chainRows(head_hash: string, rows: readonly LedgerEntry[]): Transaction[] {
  let prev_hash = head_hash;
  return rows.map((row) => {
    const hash = rowHash(prev_hash, row);
    const linked = { ...row, prev_hash, hash };
    prev_hash = hash;
    return linked;
  });
}

export interface ChainCheck {
  rows_checked: number;
  /** The last row that checked out, to continue from on the next page. */
  last_seq: number;
  last_hash: string;
  /** The first seq whose row is missing, altered, inserted or out of place; null when all link. */
  first_bad_seq: number | null;
}

/**
 * Checks one page of rows (ascending seq) continuing from (after_seq, after_hash). Stops at the
 * first bad row: a gap in seq, a prev_hash that does not link, or a hash that does not match.
 */
export function checkChainPage(after_seq: number, after_hash: string, rows: readonly Transaction[]): ChainCheck {
  let last_seq = after_seq;
  let last_hash = after_hash;
  let rows_checked = 0;
  for (const row of rows) {
    const expected_seq = last_seq + 1;
    if (row.seq !== expected_seq || row.prev_hash !== last_hash || rowHash(last_hash, row) !== row.hash) {
      return { rows_checked, last_seq, last_hash, first_bad_seq: expected_seq };
    }
    rows_checked += 1;
    last_seq = row.seq;
    last_hash = row.hash;
  }
  return { rows_checked, last_seq, last_hash, first_bad_seq: null };
}
