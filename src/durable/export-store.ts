// The product object's side of the export and of reconciliation: its watermark, its registry
// flag, pages of rows past the watermark, and the sums that reconciliation compares.
// Synchronous, for use inside transactionSync.

import { asc, gt, lte, sql } from "drizzle-orm";
import type { ChunkSummary } from "../ledger/reconcile";
import { totalsFromLevels } from "../ledger/stock";
import { ON_HAND_TYPES, type LocationLevel } from "../ledger/types";
import { preparedOnce } from "../lib/prepared-once";
import type { LedgerDb } from "./ledger-store";
import { exportState, ledgerRows, locationStock, productStock } from "./tables";

export interface ExportState {
  watermark_seq: number;
  registered_at: string | null;
  registration_attempts: number;
}

/** The export's queries that run for every page, built once per object. */
const statement = preparedOnce({
  state: (db: LedgerDb) =>
    db.select().from(exportState).prepare(),
  setWatermark: (db: LedgerDb) =>
    db.update(exportState).set({ watermarkSeq: sql`${sql.placeholder("seq")}` }).prepare(),
  rowsAfter: (db: LedgerDb) =>
    db.select().from(ledgerRows).where(gt(ledgerRows.seq, sql.placeholder("after"))).orderBy(asc(ledgerRows.seq)).limit(sql.placeholder("limit")).prepare(),
});

export function readExportState(db: LedgerDb): ExportState | undefined {
  const row = statement(db, "state").get();
  return row && { watermark_seq: row.watermarkSeq, registered_at: row.registeredAt, registration_attempts: row.registrationAttempts };
}

/** Created with the product's first row: watermark 0, not yet registered in D1. */
export function createExportState(db: LedgerDb): void {
  db.insert(exportState).values({ singleton: 1, watermarkSeq: 0, registeredAt: null, registrationAttempts: 0 }).onConflictDoNothing().run();
}

export function markRegistered(db: LedgerDb, registered_at: string): void {
  db.update(exportState).set({ registeredAt: registered_at }).run();
}

export function countRegistrationAttempt(db: LedgerDb): number {
  const row = db.update(exportState).set({ registrationAttempts: sql`${exportState.registrationAttempts} + 1` }).returning({ attempts: exportState.registrationAttempts }).get();
  return row?.attempts ?? 0;
}

/** Moves the watermark forward (never back) and says by how many rows. */
export function advanceWatermark(db: LedgerDb, through_seq: number): number {
  const before = readExportState(db)?.watermark_seq ?? 0;
  if (through_seq <= before) return 0;
  statement(db, "setWatermark").run({ seq: through_seq });
  return through_seq - before;
}

/**
 * The columns of an exported row, in the order of the JSON array each row travels as from the
 * product object to D1 (src/export/d1-writer.ts unpacks it with json_each). product_id is not a
 * ledger column: the object adds its own.
 */
export const EXPORT_COLUMNS = [
  "product_id", "seq", "id", "type", "quantity", "delta", "location_id", "reason", "created_by",
  "actor", "metadata", "reservation_id", "idempotency_key", "created_at", "prev_hash", "hash",
] as const;

// SQLite encodes each row itself (json_array), so a page crosses to D1 without being decoded
// and re-encoded in JavaScript. metadata is stored as JSON text and travels as that text.
// A hash is null only before the startup backfill has linked the row; it travels as "".
const ENCODED_ROWS_AFTER = `SELECT seq, json_array(?, ${EXPORT_COLUMNS.slice(1)
  .map((column) => (column === "prev_hash" || column === "hash" ? `coalesce(${column}, '')` : column))
  .join(", ")}) AS encoded FROM ledger_rows WHERE seq > ? ORDER BY seq LIMIT ?`;

/** Up to `limit` rows after a seq, each as the JSON array of EXPORT_COLUMNS, and the last seq among them. */
export function encodedRowsAfter(storage: DurableObjectStorage, product_id: string, after_seq: number, limit: number): { rows: string[]; last_seq: number } {
  const rows: string[] = [];
  let last_seq = after_seq;
  for (const row of storage.sql.exec<{ seq: number; encoded: string }>(ENCODED_ROWS_AFTER, product_id, after_seq, limit)) {
    rows.push(row.encoded);
    last_seq = row.seq;
  }
  return { rows, last_seq };
}

export function rowsAfter(db: LedgerDb, after_seq: number, limit: number) {
  return statement(db, "rowsAfter").all({ after: after_seq, limit });
}

const onHandTypes = sql.join(ON_HAND_TYPES.map((type) => sql`${type}`), sql`, `);

/** Per-chunk sums of the ledger up to a seq, for comparing with D1 chunk by chunk. */
export function chunkSums(db: LedgerDb, through_seq: number, chunk_rows: number): ChunkSummary[] {
  return db
    .select({
      chunk: sql<number>`cast((${ledgerRows.seq} - 1) / ${chunk_rows} as integer)`,
      rows: sql<number>`count(*)`,
      delta_sum: sql<number>`sum(${ledgerRows.delta})`,
      on_hand_delta_sum: sql<number>`sum(case when ${ledgerRows.type} in (${onHandTypes}) then ${ledgerRows.delta} else 0 end)`,
      quantity_sum: sql<number>`sum(${ledgerRows.quantity})`,
      seq_sum: sql<number>`sum(${ledgerRows.seq})`,
    })
    .from(ledgerRows)
    .where(lte(ledgerRows.seq, through_seq))
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .all();
}

/** Replaces the cached read model with levels recomputed from the ledger (creating it if it is gone). */
export function rebuildReadModel(db: LedgerDb, product_id: string, levels: readonly LocationLevel[], version: number, updated_at: string, head_hash: string): void {
  db.delete(locationStock).run();
  for (const level of levels) {
    db.insert(locationStock).values({ locationId: level.location_id, onHand: level.on_hand, reserved: level.reserved, lastSeq: version }).run();
  }
  const totals = totalsFromLevels(product_id, levels, version, updated_at);
  const values = { productId: product_id, onHand: totals.on_hand, reserved: totals.reserved, oversoldLocations: totals.oversold_locations, locationCount: levels.length, version, updatedAt: updated_at, headHash: head_hash };
  db.insert(productStock).values({ singleton: 1, ...values }).onConflictDoUpdate({ target: productStock.singleton, set: values }).run();
}
