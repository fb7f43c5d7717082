// What the ProductLedger object's RPC methods take and answer: the contract between the object
// and its callers (the HTTP routes, the reservation coordinator, the export, the webhooks).
// Every answer is a Result (src/ledger/result.ts). Kept apart from the class so callers import
// the shapes without the object's implementation.

import type { ChangeEvent, EventType } from "../../ledger/events";
import type { FactOp } from "../../ledger/facts";
import type { LedgerFailure, LedgerFailureCode } from "../../ledger/failures";
import type { ChainCheck } from "../../ledger/hash-chain";
import type { HoldLine, Shortage } from "../../ledger/holds";
import type { ChunkSummary } from "../../ledger/reconcile";
import type { Ok, Result } from "../../ledger/result";
import type { Stock, StockWithLocations, Transaction } from "../../ledger/types";

export type { FactOp };

export type WriteResult = Result<{ replayed: boolean; transactions: Transaction[]; stock: Stock }, LedgerFailure>;

export type StockAtQuery = { at_version: number } | { as_of: string };
export type StockAtResult = Result<{ stock: StockWithLocations }, { code: "version_not_reached"; current_version: number }>;

/** A page of the change feed: after an event id (none: from the start), of some types (none: all). */
export interface EventFilter {
  after?: string | undefined;
  limit: number;
  types: EventType[];
}
export type EventPageResult = Result<{ data: ChangeEvent[]; next_after: string | null }, { code: "event_cursor_unknown"; after: string }>;

export type TransactionPageResult = Ok<{ data: Transaction[]; next_after: number | null }>;

/** How one reported fact ended on this product. */
export type FactStatus = "applied" | "duplicate" | "skipped_cancelled" | "cancel_remembered";
export type FactResult = Result<
  { product_id: string; key: string; status: FactStatus; seq?: number },
  { code: LedgerFailureCode; product_id: string; key: string }
>;

/** One step of a reservation on this product (hold, commit or release). */
export interface ReservationStep {
  reservation_id: string;
  /** Becomes created_by: the principal, or system:expiry / system:reservation-abort. */
  created_by: string;
  reason: string;
  /** Stored on the rows, for the audit trail; idempotency itself comes from the holds' state. */
  idempotency_key: string;
}

export interface HoldStep extends ReservationStep {
  attempt: number;
  expires_at: string;
  lines: HoldLine[];
}

export type StepError =
  | LedgerFailure
  /** Some lines cannot be held now; each is named with what is available. */
  | { code: "hold_short"; shortages: Shortage[]; stock: Stock }
  /** A hold of an attempt the reservation has moved past (it was in flight during a crash). */
  | { code: "stale_attempt" }
  /** A commit of a reservation that holds nothing here any more. */
  | { code: "not_active" };
export type StepResult = Result<{ stock: Stock }, StepError>;

export type VerifyPageResult = Ok<ChainCheck & { done: boolean; version: number }>;

export type ExportPageResult = Ok<{
  /** Each row as the JSON array of EXPORT_COLUMNS (export-store.ts), in seq order. */
  rows: string[];
  /** The seq of the last row (the watermark when there are none). */
  last_seq: number;
  watermark_seq: number;
}>;

export interface ReconcileReport {
  version: number;
  /** Present when the cache disagreed with the ledger and was rebuilt from it. */
  repaired: { before: StockWithLocations; after: StockWithLocations } | null;
  watermark_seq: number;
  /** The ledger's hash at the watermark, which D1's copy must end with. */
  watermark_hash: string;
  chunks: ChunkSummary[];
}
export type ReconcileResult = Ok<{ report: ReconcileReport }>;

/**
 * What the object takes from its surroundings, so that tests can replace it: the clock, and
 * seams for tests that attack failures (a hook that throws halfway through a write must leave
 * nothing behind; one that throws when asked about holds stands for an object that cannot be
 * reached). The faults are empty in production.
 */
export interface ProductLedgerDeps {
  now(): number;
  faults: {
    afterLedgerInsert?: () => void;
    afterEventsInsert?: () => void;
    beforeHoldsAttempt?: () => void;
    /** Before the alarm hands events to a subscription's object (a crash between commit and delivery). */
    beforeForward?: () => void;
  };
}
