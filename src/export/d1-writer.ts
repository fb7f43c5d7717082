// Copies ledger rows into D1: multi-row INSERTs within the 100-parameter limit, all sent in one
// batch (one D1 transaction), keyed by (product_id, seq) so a repeat writes nothing twice.

import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { BatchItem } from "drizzle-orm/batch";
import type { Transaction } from "../ledger/types";
import { ledgerTransactions, type auditSchema } from "./audit-tables";

export type AuditDb = DrizzleD1Database<typeof auditSchema>;

const COLUMNS_PER_ROW = 16;
/** D1 binds at most 100 parameters per statement. */
export const ROWS_PER_INSERT_MAX = Math.floor(100 / COLUMNS_PER_ROW);

export async function writeLedgerRows(db: AuditDb, rows: readonly Transaction[]): Promise<void> {
  if (rows.length === 0) return;
  const statements: BatchItem<"sqlite">[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT_MAX) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT_MAX);
    statements.push(db.insert(ledgerTransactions).values(chunk.map(toD1Row)).onConflictDoNothing());
  }
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}

function toD1Row(row: Transaction): typeof ledgerTransactions.$inferInsert {
  return {
    productId: row.product_id,
    seq: row.seq,
    id: row.id,
    type: row.type,
    quantity: row.quantity,
    delta: row.delta,
    locationId: row.location_id,
    reason: row.reason,
    createdBy: row.created_by,
    actor: row.actor,
    metadata: row.metadata === null ? null : JSON.stringify(row.metadata),
    reservationId: row.reservation_id,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
