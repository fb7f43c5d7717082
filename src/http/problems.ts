// The one place where an error answered by a Durable Object (a Result's `error`, see
// src/ledger/result.ts) becomes an HTTP problem: an exhaustive switch, so a new error in a room
// does not compile until it has a problem code and a message.

import type { EventPageResult, StockAtResult } from "../durable/product-ledger/rpc";
import type { CloseError, CreateError } from "../durable/reservation/rpc";
import type { CreateSubscriptionResult, NotFound, RetryResult } from "../durable/subscription/rpc";
import type { LedgerFailure } from "../ledger/failures";
import { invalidRequest, ProblemError } from "./problem";

type ErrorOf<R> = Extract<R, { ok: false }> extends { error: infer E } ? E : never;

/** Every error code that reaches a client, with the data its problem needs. */
export type ServiceError =
  | LedgerFailure
  | ErrorOf<StockAtResult>
  | ErrorOf<EventPageResult>
  | CreateError
  | CloseError
  | NotFound
  | ErrorOf<RetryResult>
  | ErrorOf<CreateSubscriptionResult>;

export function problemOf(error: ServiceError): ProblemError {
  switch (error.code) {
    case "insufficient_stock":
      return new ProblemError(
        "insufficient_stock",
        `Location ${error.location_id} has ${error.available} available; ${error.requested} requested.`,
        {
          location_id: error.location_id,
          requested: error.requested,
          available: error.available,
          stock: error.stock,
        },
      );
    case "insufficient_reserved":
      return new ProblemError(
        "insufficient_reserved",
        `Location ${error.location_id} has ${error.reserved} reserved; ${error.requested} requested.`,
        {
          location_id: error.location_id,
          requested: error.requested,
          reserved: error.reserved,
          stock: error.stock,
        },
      );
    case "version_conflict":
      return new ProblemError(
        "version_conflict",
        `Expected version ${error.expected_version}, but the product is at version ${error.current_version}.`,
        {
          current_version: error.current_version,
        },
      );
    case "idempotency_key_reused":
      return new ProblemError(
        "idempotency_key_reused",
        "This Idempotency-Key was used for a different request on this product. Use a new key.",
      );
    case "limit_exceeded":
      return new ProblemError("limit_exceeded", error.detail);
    case "version_not_reached":
      return invalidRequest([{ path: "query.at_version", message: `the product is at version ${error.current_version}` }]);
    case "reservation_exists":
      return new ProblemError("reservation_exists", `Reservation ${error.reservation_id} already exists under another Idempotency-Key.`);
    case "reservation_key_reused":
      return new ProblemError(
        "idempotency_key_reused",
        "This Idempotency-Key created a reservation with a different request. Use a new key.",
      );
    case "reservation_lines_short":
      return new ProblemError("insufficient_stock", `${error.lines.length} line(s) could not be held; nothing is held.`, {
        lines: error.lines,
      });
    case "reservation_not_found":
      return new ProblemError("not_found", `No reservation ${error.reservation_id}.`);
    case "event_cursor_unknown":
      return invalidRequest([{ path: "query.after", message: "not an event id of this product" }]);
    case "subscription_not_found":
      return new ProblemError("not_found", `No subscription ${error.subscription_id}.`);
    case "subscription_exists":
      // Ids are random: two creations under one id mean a bug, reported as the conflict it is.
      return new ProblemError("conflict", `Subscription ${error.subscription_id} already exists.`);
    case "delivery_not_found":
      return new ProblemError("not_found", `Subscription ${error.subscription_id} was never sent event ${error.event_id}.`);
    case "reservation_not_active":
      return new ProblemError("reservation_not_active", `Reservation ${error.reservation_id} is ${error.status}.`, {
        reservation_status: error.status,
      });
  }
}

/** A successful Result as it is, or its error thrown as the problem the client sees. */
export function unwrap<R extends { ok: true } | { ok: false; error: ServiceError }>(result: R): Extract<R, { ok: true }> {
  if (result.ok) return result as Extract<R, { ok: true }>;
  throw problemOf((result as { ok: false; error: ServiceError }).error);
}
