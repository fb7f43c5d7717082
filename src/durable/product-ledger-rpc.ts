// What the ProductLedger object's RPC methods take and answer: the contract between the object
// and its callers (the HTTP routes, the reservation coordinator, the export, the webhooks).
// Kept apart from the class so callers import the shapes without the object's implementation.

import type { LedgerFailure, RefusedWrite } from "../ledger/failures";
import type { HoldLine, Shortage } from "../ledger/holds";
import type { ChunkSummary } from "../ledger/reconcile";
import type { Stock, StockWithLocations, Transaction } from "../ledger/types";

export type WriteResult = { ok: true; replayed: boolean; transactions: Transaction[]; stock: Stock } | RefusedWrite;

export type StockAtQuery = { at_version: number } | { as_of: string };
export type StockAtResult = { ok: true; stock: StockWithLocations } | { ok: false; code: "version_not_reached"; current_version: number };

/** One step of a reservation on this product (hold, commit or release). */
export interface ReservationStep {
  product_id: string;
  reservation_id: string;
  /** Becomes created_by: the principal, or system:expiry / system:reservation-abort. */
  created_by: string;
  reason: string;
  /** Stored on the rows, for the audit trail; idempotency itself comes from the holds' state. */
  idempotency_key: string;
}

export type WebhookOpResult = {
  product_id: string;
  key: string;
  status: "applied" | "duplicate" | "skipped_cancelled" | "cancel_remembered" | "refused";
  seq?: number;
  error?: string;
};

export interface HoldStep extends ReservationStep {
  attempt: number;
  expires_at: string;
  lines: HoldLine[];
}

export type StepResult =
  | { ok: true; stock: Stock }
  | { ok: false; code: "insufficient_stock"; shortages: Shortage[]; stock: Stock }
  | { ok: false; code: "stale_attempt" | "not_active" }
  | { ok: false; code: "refused"; failure: LedgerFailure };

/**
 * Seams for tests that attack failures: a hook that throws halfway through a write must leave
 * nothing behind; one that throws when asked about holds stands for an object that cannot be
 * reached. Empty in production.
 */
export interface TestFaults {
  afterLedgerInsert?: () => void;
  beforeHoldsAttempt?: () => void;
}

export interface ExportPage {
  /** Each row as the JSON array of exportStore.EXPORT_COLUMNS, in seq order. */
  rows: string[];
  /** The seq of the last row (the watermark when there are none). */
  last_seq: number;
  watermark_seq: number;
}

export interface ReconcileReport {
  version: number;
  /** Present when the cache disagreed with the ledger and was rebuilt from it. */
  repaired: { before: StockWithLocations; after: StockWithLocations } | null;
  watermark_seq: number;
  /** The ledger's hash at the watermark, which D1's copy must end with. */
  watermark_hash: string;
  chunks: ChunkSummary[];
}
