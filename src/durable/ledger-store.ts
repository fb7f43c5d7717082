// Reads and writes of one product's SQLite, through drizzle. Every function is synchronous so
// the Durable Object can compose them inside one transactionSync with no await in between.

import { and, asc, eq, gt, gte, inArray, isNull, lte, max, min, sql, type SQL } from "drizzle-orm";
import { chainRows, GENESIS_HASH } from "../ledger/hash-chain";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { ON_HAND_TYPES, type JsonObject, type LocationLevel, type Transaction, type TransactionType } from "../ledger/types";
import { emptyTotals, type ProductTotals } from "../ledger/stock";
import type { Hold, HoldStatus } from "../ledger/holds";
import { idempotencyKeys, ledgerRows, locationStock, orderLineCancellations, productStock, reservationFences, reservationHolds, type schema } from "./tables";

export type LedgerDb = DrizzleSqliteDODatabase<typeof schema>;

/** Whether a write was accepted under this idempotency key. */
export function isKeyUsed(db: LedgerDb, key: string): boolean {
  return db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(eq(idempotencyKeys.key, key)).get() !== undefined;
}

export function readTotals(db: LedgerDb, product_id: string): ProductTotals {
  const row = db.select().from(productStock).get();
  if (!row) return emptyTotals(product_id);
  return {
    product_id: row.productId,
    on_hand: row.onHand,
    reserved: row.reserved,
    version: row.version,
    oversold_locations: row.oversoldLocations,
    updated_at: row.updatedAt,
  };
}

/** The chain head the read model remembers (null before the first write after migration 0004). */
export function readHeadHash(db: LedgerDb): string | null {
  return db.select({ head_hash: productStock.headHash }).from(productStock).get()?.head_hash ?? null;
}

export function readLevels(db: LedgerDb, location_ids?: readonly string[]): LocationLevel[] {
  const query = db.select({ location_id: locationStock.locationId, on_hand: locationStock.onHand, reserved: locationStock.reserved }).from(locationStock);
  if (location_ids === undefined) return query.all();
  return query.where(inArray(locationStock.locationId, [...location_ids])).all();
}

export interface TransactionFilter {
  after: number;
  limit: number;
  type?: TransactionType | undefined;
  reason?: string | undefined;
  location_id?: string | undefined;
}

/** One page of history in ascending seq, reading at most limit + 1 rows. */
export function listTransactions(db: LedgerDb, product_id: string, filter: TransactionFilter): { data: Transaction[]; next_after: number | null } {
  const conditions: SQL[] = [gt(ledgerRows.seq, filter.after)];
  if (filter.type !== undefined) conditions.push(eq(ledgerRows.type, filter.type));
  if (filter.reason !== undefined) conditions.push(eq(ledgerRows.reason, filter.reason));
  if (filter.location_id !== undefined) conditions.push(eq(ledgerRows.locationId, filter.location_id));
  const rows = db.select().from(ledgerRows).where(and(...conditions)).orderBy(asc(ledgerRows.seq)).limit(filter.limit + 1).all();
  const page = rows.slice(0, filter.limit).map((row) => toTransaction(product_id, row));
  return { data: page, next_after: rows.length > filter.limit ? page[page.length - 1]!.seq : null };
}

/** The last seq written at or before an instant (created_at never goes back in time). */
export function versionAsOf(db: LedgerDb, as_of: string): number {
  return db.select({ seq: max(ledgerRows.seq) }).from(ledgerRows).where(lte(ledgerRows.createdAt, as_of)).get()?.seq ?? 0;
}

const onHandTypes = sql.join(ON_HAND_TYPES.map((type) => sql`${type}`), sql`, `);

/** Levels recomputed from the ledger up to a seq: the truth the cache must equal. O(rows). */
export function levelsFromLedger(db: LedgerDb, through_seq: number): { levels: LocationLevel[]; updated_at: string | null } {
  const levels = db
    .select({
      location_id: ledgerRows.locationId,
      on_hand: sql<number>`coalesce(sum(case when ${ledgerRows.type} in (${onHandTypes}) then ${ledgerRows.delta} else 0 end), 0)`,
      reserved: sql<number>`coalesce(-sum(case when ${ledgerRows.type} in (${onHandTypes}) then 0 else ${ledgerRows.delta} end), 0)`,
    })
    .from(ledgerRows)
    .where(lte(ledgerRows.seq, through_seq))
    .groupBy(ledgerRows.locationId)
    .all();
  const last = db.select({ created_at: ledgerRows.createdAt }).from(ledgerRows).where(eq(ledgerRows.seq, through_seq)).get();
  return { levels, updated_at: last?.created_at ?? null };
}

/** Rows from_seq..to_seq, ascending: what a replay answers with. */
export function rowsBetween(db: LedgerDb, product_id: string, from_seq: number, to_seq: number): Transaction[] {
  return db.select().from(ledgerRows).where(and(gte(ledgerRows.seq, from_seq), lte(ledgerRows.seq, to_seq))).orderBy(asc(ledgerRows.seq)).all().map((row) => toTransaction(product_id, row));
}

export function lastSeq(db: LedgerDb): number {
  return db.select({ seq: max(ledgerRows.seq) }).from(ledgerRows).get()?.seq ?? 0;
}

export function toTransaction(product_id: string, row: typeof ledgerRows.$inferSelect): Transaction {
  return {
    id: row.id,
    product_id,
    seq: row.seq,
    type: row.type,
    quantity: row.quantity,
    delta: row.delta,
    location_id: row.locationId,
    reason: row.reason,
    created_by: row.createdBy,
    actor: row.actor,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as JsonObject),
    reservation_id: row.reservationId,
    idempotency_key: row.idempotencyKey,
    created_at: row.createdAt,
    // Null only for a row written before the hash chain, until the startup backfill reaches it.
    prev_hash: row.prevHash ?? "",
    hash: row.hash ?? "",
  };
}

/** The hash of the row at a seq (the genesis hash for seq 0). */
export function hashAt(db: LedgerDb, seq: number): string {
  if (seq === 0) return GENESIS_HASH;
  return db.select({ hash: ledgerRows.hash }).from(ledgerRows).where(eq(ledgerRows.seq, seq)).get()?.hash ?? "";
}

/** Links rows written before the hash chain existed, in seq order, a bounded page at a time. */
export function backfillHashes(db: LedgerDb, product_id: string, page_rows: number): { hashed: number; done: boolean } {
  const first = db.select({ seq: min(ledgerRows.seq) }).from(ledgerRows).where(isNull(ledgerRows.hash)).get()?.seq ?? null;
  if (first === null) return { hashed: 0, done: true };
  const previous = db.select({ hash: ledgerRows.hash }).from(ledgerRows).where(eq(ledgerRows.seq, first - 1)).get();
  const rows = db.select().from(ledgerRows).where(gte(ledgerRows.seq, first)).orderBy(asc(ledgerRows.seq)).limit(page_rows).all();
  const linked = chainRows(previous?.hash ?? GENESIS_HASH, rows.map((row) => toTransaction(product_id, row)));
  for (const row of linked) {
    db.update(ledgerRows).set({ prevHash: row.prev_hash, hash: row.hash }).where(eq(ledgerRows.seq, row.seq)).run();
  }
  return { hashed: linked.length, done: rows.length < page_rows };
}

export function readHolds(db: LedgerDb, reservation_id: string): Hold[] {
  return db
    .select({
      reservation_id: reservationHolds.reservationId,
      location_id: reservationHolds.locationId,
      quantity: reservationHolds.quantity,
      status: reservationHolds.status,
      attempt: reservationHolds.attempt,
    })
    .from(reservationHolds)
    .where(eq(reservationHolds.reservationId, reservation_id))
    .all();
}

/** Units held for reservations per location, for the locations given. */
export function heldByLocation(db: LedgerDb, location_ids: readonly string[]): Map<string, number> {
  const rows = db
    .select({ location_id: reservationHolds.locationId, held: sql<number>`sum(${reservationHolds.quantity})` })
    .from(reservationHolds)
    .where(and(inArray(reservationHolds.locationId, [...new Set(location_ids)]), eq(reservationHolds.status, "held")))
    .groupBy(reservationHolds.locationId)
    .all();
  return new Map(rows.map((row) => [row.location_id, row.held]));
}

export function saveHolds(db: LedgerDb, holds: readonly (Hold & { expires_at: string })[], last_seq: number): void {
  for (const hold of holds) {
    const values = { quantity: hold.quantity, status: hold.status, attempt: hold.attempt, expiresAt: hold.expires_at, lastSeq: last_seq };
    db.insert(reservationHolds)
      .values({ reservationId: hold.reservation_id, locationId: hold.location_id, ...values })
      .onConflictDoUpdate({ target: [reservationHolds.reservationId, reservationHolds.locationId], set: values })
      .run();
  }
}

export function setHoldStatus(db: LedgerDb, reservation_id: string, from: HoldStatus, to: HoldStatus, last_seq: number): void {
  db.update(reservationHolds)
    .set({ status: to, lastSeq: last_seq })
    .where(and(eq(reservationHolds.reservationId, reservation_id), eq(reservationHolds.status, from)))
    .run();
}

export function readFence(db: LedgerDb, reservation_id: string): number {
  return db.select({ attempt: reservationFences.attempt }).from(reservationFences).where(eq(reservationFences.reservationId, reservation_id)).get()?.attempt ?? 0;
}

export function raiseFence(db: LedgerDb, reservation_id: string, attempt: number): void {
  db.insert(reservationFences)
    .values({ reservationId: reservation_id, attempt })
    .onConflictDoUpdate({ target: reservationFences.reservationId, set: { attempt: sql`max(${reservationFences.attempt}, ${attempt})` } })
    .run();
}

export function isCancellationRemembered(db: LedgerDb, key: string): boolean {
  return db.select({ key: orderLineCancellations.key }).from(orderLineCancellations).where(eq(orderLineCancellations.key, key)).get() !== undefined;
}

export function rememberCancellation(db: LedgerDb, key: string, created_at: string): void {
  db.insert(orderLineCancellations).values({ key, createdAt: created_at }).onConflictDoNothing().run();
}

/** The first row written under an idempotency key, if any. */
export function firstRowOfKey(db: LedgerDb, product_id: string, key: string): Transaction | undefined {
  const stored = db.select({ seq: idempotencyKeys.firstSeq }).from(idempotencyKeys).where(eq(idempotencyKeys.key, key)).get();
  if (stored === undefined) return undefined;
  const row = db.select().from(ledgerRows).where(eq(ledgerRows.seq, stored.seq)).get();
  return row && toTransaction(product_id, row);
}
