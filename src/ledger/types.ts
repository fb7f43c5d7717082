// The vocabulary of the ledger. Plain data only: these values cross the Durable Object RPC
// boundary and are stored, so they hold no classes and no functions.

export const TRANSACTION_TYPES = ["ADD", "REMOVE", "RETURN", "RESERVE", "RELEASE", "ADJUST"] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** Where a request names no location. */
export const DEFAULT_LOCATION_ID = "default";

/** Types whose delta moves `on_hand`; the others (RESERVE, RELEASE) move `reserved`. */
export const ON_HAND_TYPES: readonly TransactionType[] = ["ADD", "REMOVE", "RETURN", "ADJUST"];

// Metadata values are JSON, checked by the HTTP schema. Typed loosely on purpose: a recursive JSON type
// makes the Durable Object RPC stub types too deep for the compiler (TS2589).
// biome-ignore lint/complexity/noBannedTypes: `{}` is "any JSON value but null", on purpose (see above).
export type JsonObject = { [key: string]: {} | null };

/** One thing the caller asks the ledger to record. ADJUST carries the counted total in `quantity`. */
export interface TransactionRequest {
  type: TransactionType;
  /** For ADJUST: the counted on_hand (>= 0). For every other type: the quantity moved (>= 1). */
  quantity: number;
  location_id: string;
  reason: string;
  actor: string | null;
  metadata: JsonObject | null;
  reservation_id: string | null;
}

/** A write as the product's Durable Object receives it: who, under which key, and what. */
export interface WriteCommand {
  idempotency_key: string;
  /** The authenticated principal; becomes `created_by`. */
  principal: string;
  /** From `If-Match` or `expected_version`; null when the client did not ask for a check. */
  expected_version: number | null;
  /**
   * Facts (a count, a sale reported by a source) are recorded even when they take `available`
   * below zero. Requests (a REMOVE or RESERVE from the API) are refused instead.
   */
  is_fact: boolean;
  /** One or more rows written atomically (a reservation commit is RELEASE + REMOVE). */
  requests: TransactionRequest[];
  /**
   * Whose key space `idempotency_key` lives in. Webhook writes use business-id keys
   * (order:1001:1:placed); a client choosing the same text as its Idempotency-Key must not
   * collide with them. Absent: the client's space.
   */
  key_scope?: KeyScope;
}

export type KeyScope = "client" | "webhook";

/** How a key is stored: prefixed by its scope, so the two spaces never meet. */
export function scopedKey(scope: KeyScope, key: string): string {
  return `${scope}:${key}`;
}

/** An immutable ledger row before it is linked into the hash chain (what decide() produces). */
export interface LedgerEntry {
  id: string;
  product_id: string;
  seq: number;
  type: TransactionType;
  quantity: number;
  delta: number;
  location_id: string;
  reason: string;
  created_by: string;
  actor: string | null;
  metadata: JsonObject | null;
  reservation_id: string | null;
  idempotency_key: string;
  created_at: string;
}

/** A ledger row as stored and as returned by the API: linked into the product's hash chain. */
export interface Transaction extends LedgerEntry {
  /** The previous row's hash; 64 zeros for seq 1. */
  prev_hash: string;
  /** hex SHA-256 over prev_hash and the row's canonical encoding (src/ledger/hash-chain.ts). */
  hash: string;
}

/** The cached read model of one location. `available` is derived, never stored. */
export interface LocationLevel {
  location_id: string;
  on_hand: number;
  reserved: number;
}

export interface LocationStock extends LocationLevel {
  available: number;
}

/** A product's totals, as every write returns them. */
export interface Stock {
  product_id: string;
  on_hand: number;
  reserved: number;
  available: number;
  version: number;
  oversold: boolean;
  /** Time of the last ledger row; null for a product with no rows. */
  updated_at: string | null;
}

/** A product's totals plus the per-location breakdown, as the stock read returns them. */
export interface StockWithLocations extends Stock {
  locations: LocationStock[];
  /** Present and true when computed from the ledger for a past position. */
  derived?: true;
}
