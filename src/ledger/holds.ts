// A product object's side of reservations, pure: which rows a hold, a commit or a release of
// one reservation writes, given the holds that product already has for it. Each operation is
// idempotent by construction: it looks at the holds' state, not at a key.

import { availableOf } from "./evolve";
import type { LocationLevel, TransactionRequest } from "./types";

export type HoldStatus = "held" | "committed" | "released";

export interface Hold {
  reservation_id: string;
  location_id: string;
  quantity: number;
  status: HoldStatus;
  attempt: number;
}

export interface HoldLine {
  location_id: string;
  quantity: number;
}

export interface Shortage {
  location_id: string;
  requested: number;
  available: number;
}

/** Every line that cannot be held now (not just the first): the 409 names them all. */
export function shortages(lines: readonly HoldLine[], levels: ReadonlyMap<string, LocationLevel>): Shortage[] {
  return lines.flatMap((line) => {
    const level = levels.get(line.location_id);
    const available = level === undefined ? 0 : availableOf(level);
    return available >= line.quantity ? [] : [{ location_id: line.location_id, requested: line.quantity, available }];
  });
}

export type HoldPlan =
  | { kind: "already_held" }
  /** An older attempt's hold arriving after the reservation moved on: refused, writes nothing. */
  | { kind: "stale_attempt" }
  | { kind: "reserve"; requests: TransactionRequest[] };

export function planHold(
  existing: readonly Hold[],
  fence_attempt: number,
  attempt: number,
  lines: readonly HoldLine[],
  base: Pick<TransactionRequest, "reason" | "actor" | "metadata" | "reservation_id">,
): HoldPlan {
  if (attempt <= fence_attempt) return { kind: "stale_attempt" };
  if (existing.some((hold) => hold.attempt === attempt && hold.status !== "released")) return { kind: "already_held" };
  return {
    kind: "reserve",
    requests: lines.map((line) => ({ ...base, type: "RESERVE", quantity: line.quantity, location_id: line.location_id })),
  };
}

/**
 * Whether this product still holds the lines of `attempt`. A hold writes all of its lines at
 * once or none, so one held line means all of them are.
 */
export function holdsAttempt(existing: readonly Hold[], attempt: number): boolean {
  return existing.some((hold) => hold.attempt === attempt && hold.status === "held");
}

export type CommitPlan = { kind: "already_committed" } | { kind: "not_active" } | { kind: "commit"; requests: TransactionRequest[] };

/** The sale: RELEASE then REMOVE per held line, both carrying the reservation id. */
export function planCommit(
  existing: readonly Hold[],
  base: Pick<TransactionRequest, "reason" | "actor" | "metadata" | "reservation_id">,
): CommitPlan {
  const held = existing.filter((hold) => hold.status === "held");
  if (held.length === 0) {
    return existing.some((hold) => hold.status === "committed") ? { kind: "already_committed" } : { kind: "not_active" };
  }
  return {
    kind: "commit",
    requests: held.flatMap((hold) => [
      { ...base, type: "RELEASE" as const, quantity: hold.quantity, location_id: hold.location_id },
      { ...base, type: "REMOVE" as const, quantity: hold.quantity, location_id: hold.location_id },
    ]),
  };
}

/** Gives back every line still held by attempts up to `attempt_max`; nothing held: nothing to do. */
export function planRelease(
  existing: readonly Hold[],
  attempt_max: number,
  base: Pick<TransactionRequest, "reason" | "actor" | "metadata" | "reservation_id">,
): TransactionRequest[] {
  return existing
    .filter((hold) => hold.status === "held" && hold.attempt <= attempt_max)
    .map((hold) => ({ ...base, type: "RELEASE", quantity: hold.quantity, location_id: hold.location_id }));
}
