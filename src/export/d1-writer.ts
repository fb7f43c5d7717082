// Copies ledger rows into D1: multi-row INSERTs within the 100-parameter limit, all sent in one
// batch (one D1 transaction), keyed by (product_id, seq) so a repeat writes nothing twice.
// The statements are fixed SQL text (one per chunk size), bound per chunk: building them
// through drizzle for every page cost more CPU than D1 took to run them (measured by
// `npm run bench`, export scenario).

import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { Transaction } from "../ledger/types";
import type { auditSchema } from "./audit-tables";

export type AuditDb = DrizzleD1Database<typeof auditSchema> & { $client: D1Database };

const COLUMNS = [
  "product_id", "seq", "id", "type", "quantity", "delta", "location_id", "reason", "created_by",
  "actor", "metadata", "reservation_id", "idempotency_key", "created_at", "prev_hash", "hash",
] as const;
/** D1 binds at most 100 parameters per statement. */
export const ROWS_PER_INSERT_MAX = Math.floor(100 / COLUMNS.length);

const insertSql = new Map<number, string>();
function insertOf(rows: number): string {
  let text = insertSql.get(rows);
  if (text === undefined) {
    const tuple = `(${COLUMNS.map(() => "?").join(", ")})`;
    text = `INSERT INTO ledger_transactions (${COLUMNS.join(", ")}) VALUES ${Array.from({ length: rows }, () => tuple).join(", ")} ON CONFLICT (product_id, seq) DO NOTHING`;
    insertSql.set(rows, text);
  }
  return text;
}

export async function writeLedgerRows(db: AuditDb, rows: readonly Transaction[]): Promise<void> {
  if (rows.length === 0) return;
  const d1 = db.$client;
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT_MAX) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT_MAX);
    statements.push(d1.prepare(insertOf(chunk.length)).bind(...chunk.flatMap(values)));
  }
  await d1.batch(statements);
}

function values(row: Transaction): (string | number | null)[] {
  return [
    row.product_id, row.seq, row.id, row.type, row.quantity, row.delta, row.location_id, row.reason, row.created_by,
    row.actor, row.metadata === null ? null : JSON.stringify(row.metadata), row.reservation_id, row.idempotency_key,
    row.created_at, row.prev_hash, row.hash,
  ];
}
