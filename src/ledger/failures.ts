// Every way a write can be refused, as a closed tagged union. Each carries the data a client
// needs to act on it (a shortage carries the stock the write saw); the HTTP layer maps each
// `code` to its problem in one exhaustive switch (src/http/problems.ts).

import type { Stock } from "./types";

export type LedgerFailure =
  /** REMOVE or RESERVE asked for more than the location has available. */
  | { code: "insufficient_stock"; location_id: string; requested: number; available: number; stock: Stock }
  /** RELEASE asked for more than the location has reserved (outside reservations' holds). */
  | { code: "insufficient_reserved"; location_id: string; requested: number; reserved: number; stock: Stock }
  /** `If-Match` / `expected_version` named a version that is no longer current. */
  | { code: "version_conflict"; expected_version: number; current_version: number }
  /** The idempotency key was already used for a different request on this product. */
  | { code: "idempotency_key_reused" }
  /** The write would push a total past TOTAL_MAX or the product past a structural limit. */
  | { code: "limit_exceeded"; detail: string };

export type LedgerFailureCode = LedgerFailure["code"];
