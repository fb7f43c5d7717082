// The reservation lifecycle, pure. A reservation moves through phases; the coordinating
// Durable Object persists each phase BEFORE it calls the product objects, so whatever crashes,
// the phase says what is left to finish, and the alarm finishes it. `held` alone is saved after
// the answer: a `pending` left by a crash is held if every product holds its attempt.
//
//   pending ──all held──▶ held ──commit──▶ committing ──all products──▶ committed
//      │                   ├──release──▶ releasing ──all products──▶ released
//      │                   └──expires_at─▶ expiring ──all products──▶ expired
//      ├──after a crash, past expires_at, a product cannot be asked──▶ expiring
//      └──a line short, or a crash before every hold──▶ aborting ──all products──▶ failed
//                                                       (a retry may start over)

import { backoffDelay } from "../lib/retry";
import { RESERVATION_PENDING_TIMEOUT_MS, RESERVATION_RETRY_BACKOFF_MS, RESERVATION_SHARDS } from "../limits";

export type ReservationPhase =
  | "pending"
  | "aborting"
  | "failed"
  | "held"
  | "committing"
  | "committed"
  | "releasing"
  | "released"
  | "expiring"
  | "expired";

export type ReservationStatus = "held" | "committed" | "released" | "expired";

export interface ReservationLine {
  product_id: string;
  location_id: string;
  quantity: number;
}

export interface ReservationRecord {
  id: string;
  phase: ReservationPhase;
  reason: string;
  ttl_seconds: number;
  expires_at: string;
  created_by: string;
  created_at: string;
  lines: ReservationLine[];
  idempotency_key: string;
  fingerprint: string;
  /** Each creation attempt gets a number; product objects refuse holds of older attempts. */
  attempt: number;
  /** Consecutive failed tries of the current unfinished step, for the retry backoff. */
  retries: number;
  /** Who asked for the commit or release (or the system, for expiry and aborts), stamped on those rows as created_by. */
  closed_by: string | null;
  /** The key stamped on those rows. */
  closed_key: string | null;
}

/** A new creation attempt, saved before any product is called: `pending`, expiring ttl_seconds from `now`. */
export function pendingRecord(
  request: Pick<ReservationRecord, "id" | "reason" | "ttl_seconds" | "lines" | "created_by" | "idempotency_key" | "fingerprint">,
  attempt: number,
  now: string,
): ReservationRecord {
  return {
    id: request.id,
    phase: "pending",
    reason: request.reason,
    ttl_seconds: request.ttl_seconds,
    expires_at: new Date(Date.parse(now) + request.ttl_seconds * 1000).toISOString(),
    created_by: request.created_by,
    created_at: now,
    lines: request.lines,
    idempotency_key: request.idempotency_key,
    fingerprint: request.fingerprint,
    attempt,
    retries: 0,
    closed_by: null,
    closed_key: null,
  };
}

/** What clients see of a reservation (the body of every reservation response). */
export interface ReservationView {
  id: string;
  status: ReservationStatus;
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  lines: ReservationLine[];
}

/** The view of a reservation whose outcome is decided (publicStatus is not null). */
export function viewOf(record: ReservationRecord): ReservationView {
  const status = publicStatus(record.phase);
  if (status === null) throw new Error(`reservation ${record.id} in phase ${record.phase} has no public view`);
  return {
    id: record.id,
    status,
    reason: record.reason,
    expires_at: record.expires_at,
    created_by: record.created_by,
    created_at: record.created_at,
    lines: record.lines,
  };
}

/** The record moved to a phase whose product-side work is done by `closed_by` under `closed_key`. */
export function transitioned(record: ReservationRecord, phase: ReservationPhase, closed_by: string, closed_key: string): ReservationRecord {
  return { ...record, phase, closed_by, closed_key, retries: 0 };
}

/** Where each unfinished phase ends once every product has done its part (undefined: nothing to finish). */
export function finalPhaseOf(phase: ReservationPhase): ReservationPhase | undefined {
  switch (phase) {
    case "pending":
    case "aborting":
      return "failed";
    case "committing":
      return "committed";
    case "releasing":
      return "released";
    case "expiring":
      return "expired";
    case "held":
    case "failed":
    case "committed":
    case "released":
    case "expired":
      return undefined;
  }
}

/** What clients see: the decided outcome. Unfinished creations and failed ones are not visible. */
export function publicStatus(phase: ReservationPhase): ReservationStatus | null {
  switch (phase) {
    case "held":
      return "held";
    case "committing":
    case "committed":
      return "committed";
    case "releasing":
    case "released":
      return "released";
    case "expiring":
    case "expired":
      return "expired";
    case "pending":
    case "aborting":
    case "failed":
      return null;
  }
}

export function isExpired(record: Pick<ReservationRecord, "expires_at">, now: string): boolean {
  return now >= record.expires_at;
}

/** When the object must wake up next, or null when nothing is left to do. */
export function nextAlarmAt(record: ReservationRecord, now_ms: number): number | null {
  switch (record.phase) {
    case "pending":
      // Once settling it has been tried and failed, back off like every other unfinished step,
      // but not past expires_at: from then on it ends as an expiry, decided or not.
      if (record.retries > 0) return Math.min(now_ms + retryDelayMs(record.retries), Date.parse(record.expires_at));
      return Math.min(Date.parse(record.created_at) + RESERVATION_PENDING_TIMEOUT_MS, Date.parse(record.expires_at));
    case "held":
      return Date.parse(record.expires_at);
    case "aborting":
    case "committing":
    case "releasing":
    case "expiring":
      return now_ms + retryDelayMs(record.retries);
    case "failed":
    case "committed":
    case "released":
    case "expired":
      return null;
  }
}

export function retryDelayMs(retries: number): number {
  return backoffDelay(retries, RESERVATION_RETRY_BACKOFF_MS);
}

/**
 * The name of the Reservation object that holds a reservation: FNV-1a (32-bit) of the id's
 * UTF-16 code units, modulo RESERVATION_SHARDS. Stable across deployments and runtimes.
 */
export function reservationShard(id: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `reservations-${hash % RESERVATION_SHARDS}`;
}

export interface DueReservation {
  id: string;
  /** Product objects its step calls: one per product among its lines. */
  product_calls: number;
}

/**
 * The due reservations one alarm run works on: the longest prefix (earliest first) whose product
 * calls stay within `calls_max`, and always the first, however many products it has.
 */
export function withinProductCalls(due: readonly DueReservation[], calls_max: number): string[] {
  const taken: string[] = [];
  let calls = 0;
  for (const reservation of due) {
    if (taken.length > 0 && calls + reservation.product_calls > calls_max) break;
    calls += reservation.product_calls;
    taken.push(reservation.id);
  }
  return taken;
}

/** Lines grouped by product, in first-seen order: one call per product object. */
export function linesByProduct(lines: readonly ReservationLine[]): Map<string, { location_id: string; quantity: number }[]> {
  const grouped = new Map<string, { location_id: string; quantity: number }[]>();
  for (const line of lines) {
    const group = grouped.get(line.product_id) ?? [];
    group.push({ location_id: line.location_id, quantity: line.quantity });
    grouped.set(line.product_id, group);
  }
  return grouped;
}

/** Two lines with the same product and location: the contract refuses them (400). */
export function duplicateLineIndexes(lines: readonly Pick<ReservationLine, "product_id" | "location_id">[]): number[] {
  const seen = new Set<string>();
  const duplicates: number[] = [];
  lines.forEach((line, index) => {
    const key = `${line.product_id}\u0000${line.location_id}`;
    if (seen.has(key)) duplicates.push(index);
    seen.add(key);
  });
  return duplicates;
}
