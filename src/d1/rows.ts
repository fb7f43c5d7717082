// Ledger rows as D1's copy holds them, read back with the stored row's field names, so that
// they become transactions by the same mapping as the product objects' rows.

import { type StoredRow, toTransaction } from "../ledger/stored-row";
import type { Transaction } from "../ledger/types";
import { ledgerTransactions as t } from "./tables";

/** A drizzle selection of D1's ledger rows under the stored row's names (StoredRow). */
export const storedRowColumns = {
  seq: t.seq,
  id: t.id,
  type: t.type,
  quantity: t.quantity,
  delta: t.delta,
  location_id: t.locationId,
  reason: t.reason,
  created_by: t.createdBy,
  actor: t.actor,
  metadata: t.metadata,
  reservation_id: t.reservationId,
  idempotency_key: t.idempotencyKey,
  created_at: t.createdAt,
  prev_hash: t.prevHash,
  hash: t.hash,
};

export function fromD1Row(product_id: string, row: StoredRow): Transaction {
  return toTransaction(product_id, row);
}
