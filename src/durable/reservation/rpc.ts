// What the Reservation object's RPC methods take and answer (every answer a Result,
// src/ledger/result.ts). Kept apart from the class so callers import the shapes only.

import type { Shortage } from "../../ledger/holds";
import type { ReservationLine, ReservationRecord, ReservationStatus, ReservationView } from "../../ledger/reservations";
import type { Result } from "../../ledger/result";

export type { ReservationView };

export interface CreateReservation {
  id: string;
  reason: string;
  ttl_seconds: number;
  lines: ReservationLine[];
  principal: string;
  idempotency_key: string;
  fingerprint: string;
}

export type CreateError =
  /** Another Idempotency-Key already created a reservation with this id. */
  | { code: "reservation_exists"; reservation_id: string }
  /** This Idempotency-Key created this reservation with a different request. */
  | { code: "reservation_key_reused" }
  /** Some lines could not be held; none is. */
  | { code: "reservation_lines_short"; lines: (Shortage & { product_id: string })[] }
  | { code: "limit_exceeded"; detail: string };
export type CreateResult = Result<{ replayed: boolean; reservation: ReservationView }, CreateError>;

export type ReadResult = Result<{ reservation: ReservationView }, { code: "reservation_not_found"; reservation_id: string }>;

export type CloseError =
  | { code: "reservation_not_found"; reservation_id: string }
  | { code: "reservation_not_active"; reservation_id: string; status: ReservationStatus };
export type CloseResult = Result<{ reservation: ReservationView }, CloseError>;

/** A reservation as the object stores it. */
export type StoredReservation = ReservationRecord;

/**
 * What the object takes from its surroundings, so tests can replace it: the clock, and a seam
 * for tests that attack failures (a save that throws stands for a storage error, after an
 * answer or in the alarm). The faults are empty in production.
 */
export interface ReservationDeps {
  now(): number;
  faults: {
    beforeSave?: (record: StoredReservation) => void;
  };
}
