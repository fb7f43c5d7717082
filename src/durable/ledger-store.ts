// Reads and writes of one product's SQLite, through drizzle. Every function is synchronous so
// the Durable Object can compose them inside one transactionSync with no await in between.

import { and, asc, eq, gt, gte, inArray, isNull, lte, max, min, sql, type SQL } from "drizzle-orm";
import { chainRows, GENESIS_HASH } from "../ledger/hash-chain";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { ON_HAND_TYPES, type JsonObject, type LocationLevel, type Transaction, type TransactionType } from "../ledger/types";
import { emptyTotals, type ProductTotals } from "../ledger/stock";
import type { Hold, HoldStatus } from "../ledger/holds";
import { preparedOnce } from "../lib/prepared-once";
import { idempotencyKeys, ledgerRows, locationStock, orderLineCancellations, productStock, reservationFences, reservationHolds, type schema } from "./tables";

export type LedgerDb = DrizzleSqliteDODatabase<typeof schema>;

const param = sql.placeholder;
const holdColumns = {
  reservation_id: reservationHolds.reservationId,
  location_id: reservationHolds.locationId,
  quantity: reservationHolds.quantity,
  status: reservationHolds.status,
  attempt: reservationHolds.attempt,
};
const holdValues = { quantity: param("quantity"), status: param("status"), attempt: param("attempt"), expiresAt: param("expires_at"), lastSeq: param("last_seq") };

/** The queries that run on every write, hold, replay or webhook operation, built once per object. */
const statement = preparedOnce({
  keyUsed: (db: LedgerDb) =>
    db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(eq(idempotencyKeys.key, param("key"))).prepare(),
  totals: (db: LedgerDb) =>
    db.select().from(productStock).prepare(),
  levels: (db: LedgerDb) =>
    db.select({ location_id: locationStock.locationId, on_hand: locationStock.onHand, reserved: locationStock.reserved }).from(locationStock).prepare(),
  rowsBetween: (db: LedgerDb) =>
    db.select().from(ledgerRows).where(and(gte(ledgerRows.seq, param("from")), lte(ledgerRows.seq, param("to")))).orderBy(asc(ledgerRows.seq)).prepare(),
  rowAt: (db: LedgerDb) =>
    db.select().from(ledgerRows).where(eq(ledgerRows.seq, param("seq"))).prepare(),
  hashAt: (db: LedgerDb) =>
    db.select({ hash: ledgerRows.hash }).from(ledgerRows).where(eq(ledgerRows.seq, param("seq"))).prepare(),
  holds: (db: LedgerDb) =>
    db.select(holdColumns).from(reservationHolds).where(eq(reservationHolds.reservationId, param("reservation_id"))).prepare(),
  saveHold: (db: LedgerDb) =>
    db
      .insert(reservationHolds)
      .values({ reservationId: param("reservation_id"), locationId: param("location_id"), ...holdValues })
      .onConflictDoUpdate({
        target: [reservationHolds.reservationId, reservationHolds.locationId],
        set: { quantity: sql`excluded.quantity`, status: sql`excluded.status`, attempt: sql`excluded.attempt`, expiresAt: sql`excluded.expires_at`, lastSeq: sql`excluded.last_seq` },
      })
      .prepare(),
  setHoldStatus: (db: LedgerDb) =>
    db
      .update(reservationHolds)
      .set({ status: sql`${param("to")}`, lastSeq: sql`${param("last_seq")}` })
      .where(and(eq(reservationHolds.reservationId, param("reservation_id")), eq(reservationHolds.status, sql`${param("from")}`)))
      .prepare(),
  fence: (db: LedgerDb) =>
    db.select({ attempt: reservationFences.attempt }).from(reservationFences).where(eq(reservationFences.reservationId, param("reservation_id"))).prepare(),
  raiseFence: (db: LedgerDb) =>
    db
      .insert(reservationFences)
      .values({ reservationId: param("reservation_id"), attempt: param("attempt") })
      .onConflictDoUpdate({ target: reservationFences.reservationId, set: { attempt: sql`max(${reservationFences.attempt}, ${param("attempt")})` } })
      .prepare(),
  cancellation: (db: LedgerDb) =>
    db.select({ key: orderLineCancellations.key }).from(orderLineCancellations).where(eq(orderLineCancellations.key, param("key"))).prepare(),
  firstSeqOfKey: (db: LedgerDb) =>
    db.select({ seq: idempotencyKeys.firstSeq }).from(idempotencyKeys).where(eq(idempotencyKeys.key, param("key"))).prepare(),
});

/** Whether a write was accepted under this idempotency key. */
export function isKeyUsed(db: LedgerDb, key: string): boolean {
  return statement(db, "keyUsed").get({ key }) !== undefined;
}

export function readTotals(db: LedgerDb, product_id: string): ProductTotals {
  const row = statement(db, "totals").get();
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
  if (location_ids === undefined) return statement(db, "levels").all();
  return db
    .select({ location_id: locationStock.locationId, on_hand: locationStock.onHand, reserved: locationStock.reserved })
    .from(locationStock)
    .where(inArray(locationStock.locationId, [...location_ids]))
    .all();
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
  return statement(db, "rowsBetween").all({ from: from_seq, to: to_seq }).map((row) => toTransaction(product_id, row));
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
  return statement(db, "hashAt").get({ seq })?.hash ?? "";
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
  return statement(db, "holds").all({ reservation_id });
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
    statement(db, "saveHold").run({
      reservation_id: hold.reservation_id,
      location_id: hold.location_id,
      quantity: hold.quantity,
      status: hold.status,
      attempt: hold.attempt,
      expires_at: hold.expires_at,
      last_seq,
    });
  }
}

export function setHoldStatus(db: LedgerDb, reservation_id: string, from: HoldStatus, to: HoldStatus, last_seq: number): void {
  statement(db, "setHoldStatus").run({ reservation_id, from, to, last_seq });
}

export function readFence(db: LedgerDb, reservation_id: string): number {
  return statement(db, "fence").get({ reservation_id })?.attempt ?? 0;
}

export function raiseFence(db: LedgerDb, reservation_id: string, attempt: number): void {
  statement(db, "raiseFence").run({ reservation_id, attempt });
}

export function isCancellationRemembered(db: LedgerDb, key: string): boolean {
  return statement(db, "cancellation").get({ key }) !== undefined;
}

export function rememberCancellation(db: LedgerDb, key: string, created_at: string): void {
  db.insert(orderLineCancellations).values({ key, createdAt: created_at }).onConflictDoNothing().run();
}

/** The first row written under an idempotency key, if any. */
export function firstRowOfKey(db: LedgerDb, product_id: string, key: string): Transaction | undefined {
  const stored = statement(db, "firstSeqOfKey").get({ key });
  if (stored === undefined) return undefined;
  const row = statement(db, "rowAt").get({ seq: stored.seq });
  return row && toTransaction(product_id, row);
}
