// The statements every write runs, as fixed SQL on the object's storage. drizzle builds SQL text
// on every call; on the write path that building cost more than the statements themselves, so
// these few use constant strings (workerd caches a statement per distinct text). The rest goes
// through drizzle (the frequent queries as prepared statements: src/lib/prepared-once.ts),
// except the export's encoded pages (export-store.ts).
// Synchronous: for use inside transactionSync.

import { GENESIS_HASH } from "../ledger/hash-chain";
import type { Accepted, ProductState } from "../ledger/decide";
import type { Stock, Transaction, TransactionRequest } from "../ledger/types";
import { heldByLocation, type LedgerDb } from "./ledger-store";

type Storage = DurableObjectStorage;

export interface StoredKey {
  fingerprint: string;
  /** JSON of the stock the first success answered with. */
  stock: string;
  first_seq: number;
  last_seq: number;
}

export type LoadedState = ProductState & { stored_product_id: string | null; head_hash: string };

type TotalsRow = {
  product_id: string;
  on_hand: number;
  reserved: number;
  version: number;
  oversold_locations: number;
  location_count: number;
  updated_at: string;
  head_hash: string | null;
};

type LevelRow = { location_id: string; on_hand: number; reserved: number };

/**
 * Everything a write decides on, in one statement for the common case: the key's stored answer,
 * the totals, and the level of the write's first location. LEFT JOINs from a one-row table, so
 * the row comes back even when none of them exist yet. Each statement is a round trip into
 * SQLite that cost more than its work; this one replaces three.
 */
export function loadForWrite(
  db: LedgerDb,
  storage: Storage,
  key: string,
  product_id: string,
  requests: readonly TransactionRequest[],
): { stored: StoredKey | undefined; state: () => LoadedState } {
  const location_id = requests[0]!.location_id;
  const row = storage.sql
    .exec<{ [K in keyof TotalsRow]: TotalsRow[K] | null } & { fingerprint: string | null; response: string | null; first_seq: number | null; last_seq: number | null; level_on_hand: number | null; level_reserved: number | null }>(
      `SELECT k.fingerprint, k.response, k.first_seq, k.last_seq,
        p.product_id, p.on_hand, p.reserved, p.version, p.oversold_locations, p.location_count, p.updated_at, p.head_hash,
        l.on_hand AS level_on_hand, l.reserved AS level_reserved
      FROM (SELECT 1)
      LEFT JOIN idempotency_keys AS k ON k.key = ?
      LEFT JOIN product_stock AS p ON p.singleton = 1
      LEFT JOIN location_stock AS l ON l.location_id = ?`,
      key,
      location_id,
    )
    .one();
  const stored = row.fingerprint === null ? undefined : { fingerprint: row.fingerprint, stock: row.response!, first_seq: row.first_seq!, last_seq: row.last_seq! };
  const totals = row.product_id === null ? undefined : (row as TotalsRow);
  const known = new Map<string, LevelRow>();
  if (row.level_on_hand !== null) known.set(location_id, { location_id, on_hand: row.level_on_hand, reserved: row.level_reserved! });
  // The rest of the state (other locations, reservation holds) is read only for a new write,
  // not for a replay.
  return { stored, state: () => stateOf(db, storage, product_id, requests, totals, known) };
}

/** The state decide() needs: totals, the touched locations' levels, and the stored product id. */
export function loadState(db: LedgerDb, storage: Storage, product_id: string, requests: readonly TransactionRequest[]): LoadedState {
  const totals = storage.sql
    .exec<TotalsRow>("SELECT product_id, on_hand, reserved, version, oversold_locations, location_count, updated_at, head_hash FROM product_stock WHERE singleton = 1")
    .toArray()[0];
  return stateOf(db, storage, product_id, requests, totals, new Map());
}

/** Completes the state from the totals and the levels already read, reading the other locations' levels. */
function stateOf(db: LedgerDb, storage: Storage, product_id: string, requests: readonly TransactionRequest[], totals: TotalsRow | undefined, known: Map<string, LevelRow>): LoadedState {
  const location_ids = [...new Set(requests.map((request) => request.location_id))];
  const levels = new Map<string, LevelRow>();
  for (const location_id of location_ids) {
    const level = known.get(location_id) ?? storage.sql.exec<{ on_hand: number; reserved: number }>("SELECT on_hand, reserved FROM location_stock WHERE location_id = ?", location_id).toArray()[0];
    if (level) levels.set(location_id, { location_id, on_hand: level.on_hand, reserved: level.reserved });
  }
  // Only a plain RELEASE is limited by what reservations hold; skip the query otherwise.
  const plainRelease = requests.some((request) => request.type === "RELEASE" && request.reservation_id === null);
  return {
    product_id,
    stored_product_id: totals?.product_id ?? null,
    // Kept in the read model so a write need not read the ledger's last row; rows written before
    // migration 0004 left it null, and then the ledger is asked once.
    head_hash: totals === undefined ? GENESIS_HASH : (totals.head_hash ?? headHash(storage)),
    version: totals?.version ?? 0,
    on_hand: totals?.on_hand ?? 0,
    reserved: totals?.reserved ?? 0,
    oversold_locations: totals?.oversold_locations ?? 0,
    location_count: totals?.location_count ?? 0,
    last_created_at: totals?.updated_at ?? null,
    levels,
    reservation_held: plainRelease ? heldByLocation(db, location_ids) : new Map<string, number>(),
  };
}

export function headHash(storage: Storage): string {
  return storage.sql.exec<{ hash: string | null }>("SELECT hash FROM ledger_rows ORDER BY seq DESC LIMIT 1").toArray()[0]?.hash ?? GENESIS_HASH;
}

export function insertRows(storage: Storage, rows: readonly Transaction[]): void {
  for (const row of rows) {
    storage.sql.exec(
      "INSERT INTO ledger_rows (seq, id, type, quantity, delta, location_id, reason, created_by, actor, metadata, reservation_id, idempotency_key, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      row.seq, row.id, row.type, row.quantity, row.delta, row.location_id, row.reason, row.created_by, row.actor,
      row.metadata === null ? null : JSON.stringify(row.metadata), row.reservation_id, row.idempotency_key, row.created_at, row.prev_hash, row.hash,
    );
  }
}

/** Writes the new cached levels and totals that decide() computed, and the chain's new head. */
export function saveReadModel(storage: Storage, accepted: Accepted, head_hash: string): void {
  const { next, levels } = accepted;
  for (const level of levels) {
    storage.sql.exec(
      "INSERT INTO location_stock (location_id, on_hand, reserved, last_seq) VALUES (?, ?, ?, ?) ON CONFLICT (location_id) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved, last_seq = excluded.last_seq",
      level.location_id, level.on_hand, level.reserved, next.version,
    );
  }
  storage.sql.exec(
    "INSERT INTO product_stock (singleton, product_id, on_hand, reserved, version, oversold_locations, location_count, updated_at, head_hash) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (singleton) DO UPDATE SET product_id = excluded.product_id, on_hand = excluded.on_hand, reserved = excluded.reserved, version = excluded.version, oversold_locations = excluded.oversold_locations, location_count = excluded.location_count, updated_at = excluded.updated_at, head_hash = excluded.head_hash",
    next.product_id, next.on_hand, next.reserved, next.version, next.oversold_locations, next.location_count, next.last_created_at ?? "", head_hash,
  );
}

/** Remembers an accepted write: its fingerprint, its rows' seqs and the stock it answered with. */
export function saveKey(storage: Storage, key: string, fingerprint: string, stock: Stock, rows: readonly Transaction[]): void {
  storage.sql.exec(
    "INSERT INTO idempotency_keys (key, fingerprint, response, first_seq, last_seq, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    key, fingerprint, JSON.stringify(stock), rows[0]!.seq, rows[rows.length - 1]!.seq, rows[0]!.created_at,
  );
}
