// Copies ledger rows into D1, keyed by (product_id, seq) so a repeat writes nothing twice.
//
// D1 binds at most 100 parameters per statement, which with 16 columns meant 6 rows per INSERT
// and ~84 statements per 500-row page. Instead each statement binds ONE parameter: a JSON array
// of rows, unpacked inside SQLite by json_each(). A page is then one or a few statements, all in
// one batch (one D1 transaction). The product object hands over its rows already encoded as
// those arrays (exportPage), so no row is decoded and re-encoded in JavaScript on the way.

import type { AuditDb } from "../d1/db";
import { EXPORT_COLUMNS } from "../ledger/stored-row";
import { EXPORT_JSON_CHUNK_CHARS_MAX } from "../limits";

// `value ->> i` is the i-th element of one row's array, as SQL text, integer or NULL.
// "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join's ON.
const INSERT_FROM_JSON = `INSERT INTO ledger_transactions (${EXPORT_COLUMNS.join(", ")}) SELECT ${EXPORT_COLUMNS.map((_, i) => `value ->> ${i}`).join(", ")} FROM json_each(?) WHERE true ON CONFLICT (product_id, seq) DO NOTHING`;

/** Writes rows encoded by the product object (each a JSON array of EXPORT_COLUMNS), in one batch. */
export async function writeLedgerRows(db: AuditDb, encodedRows: readonly string[]): Promise<void> {
  if (encodedRows.length === 0) return;
  const d1 = db.$client;
  await d1.batch(jsonChunks(encodedRows).map((json) => d1.prepare(INSERT_FROM_JSON).bind(json)));
}

/** Joins row arrays into JSON arrays of at most EXPORT_JSON_CHUNK_CHARS_MAX characters (one row may exceed it alone). */
export function jsonChunks(encodedRows: readonly string[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 2;
  for (const encoded of encodedRows) {
    if (current.length > 0 && length + encoded.length + 1 > EXPORT_JSON_CHUNK_CHARS_MAX) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      length = 2;
    }
    current.push(encoded);
    length += encoded.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}
