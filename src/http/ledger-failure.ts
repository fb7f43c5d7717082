// The one place where a refused write becomes an HTTP problem: an exhaustive switch, so a new
// failure in the core does not compile until it has a status and a message.

import type { LedgerFailure } from "../ledger/failures";
import type { Stock } from "../ledger/types";
import { ProblemError } from "./problem";

export function failureToProblem(failure: LedgerFailure, stock: Stock): ProblemError {
  switch (failure.code) {
    case "insufficient_stock":
      return new ProblemError(
        "insufficient_stock",
        `Location ${failure.location_id} has ${failure.available} available; ${failure.requested} requested.`,
        { location_id: failure.location_id, requested: failure.requested, available: failure.available, stock },
      );
    case "insufficient_reserved":
      return new ProblemError(
        "insufficient_reserved",
        `Location ${failure.location_id} has ${failure.reserved} reserved; ${failure.requested} requested.`,
        { location_id: failure.location_id, requested: failure.requested, reserved: failure.reserved, stock },
      );
    case "version_conflict":
      return new ProblemError(
        "version_conflict",
        `Expected version ${failure.expected_version}, but the product is at version ${failure.current_version}.`,
        { current_version: failure.current_version },
      );
    case "idempotency_key_reused":
      return new ProblemError("idempotency_key_reused", "This Idempotency-Key was used for a different request on this product. Use a new key.");
    case "limit_exceeded":
      return new ProblemError("limit_exceeded", failure.detail);
  }
}
