// A ledger row as SQLite stores it, in the product's own database and in D1's copy alike: the
// API's field names, metadata as JSON text, and hashes that are null only on rows written before
// the hash chain existed (until the start-up backfill links them). Pure.

import type { JsonObject, Transaction, TransactionType } from "./types";

export type StoredRow = {
  seq: number;
  id: string;
  type: string;
  quantity: number;
  delta: number;
  location_id: string;
  reason: string;
  created_by: string;
  actor: string | null;
  metadata: string | null;
  reservation_id: string | null;
  idempotency_key: string;
  created_at: string;
  prev_hash: string | null;
  hash: string | null;
};

/** The stored columns, in the order the row encodes them (without product_id, which a product's own database does not store). */
export const STORED_ROW_COLUMNS = [
  "seq",
  "id",
  "type",
  "quantity",
  "delta",
  "location_id",
  "reason",
  "created_by",
  "actor",
  "metadata",
  "reservation_id",
  "idempotency_key",
  "created_at",
  "prev_hash",
  "hash",
] as const satisfies readonly (keyof StoredRow)[];

/**
 * The columns of an exported row, in the order of the JSON array each row travels as from the
 * product object to D1 (src/export/d1-writer.ts unpacks it with json_each): the object adds
 * its own product_id in front.
 */
export const EXPORT_COLUMNS = ["product_id", ...STORED_ROW_COLUMNS] as const;

export function toTransaction(product_id: string, row: StoredRow): Transaction {
  return {
    id: row.id,
    product_id,
    seq: row.seq,
    type: row.type as TransactionType,
    quantity: row.quantity,
    delta: row.delta,
    location_id: row.location_id,
    reason: row.reason,
    created_by: row.created_by,
    actor: row.actor,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as JsonObject),
    reservation_id: row.reservation_id,
    idempotency_key: row.idempotency_key,
    created_at: row.created_at,
    prev_hash: row.prev_hash ?? "",
    hash: row.hash ?? "",
  };
}
