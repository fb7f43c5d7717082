// Helpers for reservation tests: create/commit/release over HTTP, what they leave on the
// products, a look inside the object, and the state a crashed creation leaves behind.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Reservation as ReservationObject } from "../../src/durable/reservation/object";
import { saveReservation } from "../../src/durable/reservation/store";
import { reservationObject } from "../../src/http/objects";
import { RESERVATION_PENDING_TIMEOUT_MS } from "../../src/limits";
import { call, freshKey, stocked, stockOf } from "./http";
import { ledgerStub, rawState, sumsFromRows } from "./ledger-object";
import type { TestRole } from "./tokens";
import { expectStatus, type Reservation, type Transaction } from "./wire";

export interface LineInput {
  product_id: string;
  quantity: number;
  location_id?: string;
}

/** A body for POST /v1/reservations; loose on purpose, so that tests can send invalid ones. */
export interface ReservationRequest {
  reservation_id?: string;
  reason?: string;
  ttl_seconds?: number;
  lines?: LineInput[];
  [field: string]: unknown;
}

/** `key: null` sends no Idempotency-Key; the role is writer unless told otherwise. */
export interface RequestOptions {
  key?: string | null;
  role?: TestRole;
}

function idempotencyHeader(key: string | null | undefined): Record<string, string> {
  const sent = key === undefined ? freshKey() : key;
  return sent === null ? {} : { "idempotency-key": sent };
}

export function freshReservationId(): string {
  return `rsv-test-${crypto.randomUUID()}`;
}

export function createReservation(body: ReservationRequest, options: RequestOptions = {}): Promise<Response> {
  return call("POST", "/v1/reservations", {
    role: options.role ?? "writer",
    headers: idempotencyHeader(options.key),
    body: { reason: "checkout", ...body },
  });
}

/** Creates a reservation and expects 201; returns the parsed body. */
export async function created(body: ReservationRequest, options: { key?: string; role?: TestRole } = {}): Promise<Reservation> {
  return expectStatus<Reservation>(await createReservation(body, options), 201);
}

export function closeReservation(id: string, action: "commit" | "release", options: RequestOptions = {}): Promise<Response> {
  return call("POST", `/v1/reservations/${encodeURIComponent(id)}/${action}`, {
    role: options.role ?? "writer",
    headers: idempotencyHeader(options.key),
  });
}

export function getReservation(id: string, role: TestRole = "reader"): Promise<Response> {
  return call("GET", `/v1/reservations/${encodeURIComponent(id)}`, { role });
}

export async function reservationStatus(id: string): Promise<string | null> {
  const response = await call("GET", `/v1/reservations/${id}`, { role: "reader" });
  if (response.status === 404) return null;
  return ((await response.json()) as { status: string }).status;
}

/** The cache of a product equals the sums of its raw ledger rows, and nothing is reserved. */
export async function expectNothingReserved(product_id: string, on_hand: number): Promise<void> {
  const body = await stockOf(product_id);
  expect(body).toMatchObject({ on_hand, reserved: 0, available: on_hand });
  const raw = await rawState(product_id);
  const sums = sumsFromRows(raw.rows);
  for (const level of raw.levels) {
    expect(level.reserved).toBe(0);
    expect(level).toEqual({ location_id: level.location_id, ...sums.get(level.location_id)! });
  }
  for (const sum of sums.values()) expect(sum.reserved).toBe(0);
}

/** Every RESERVE row of this reservation is matched by a RELEASE row of it, per location and quantity. */
export function expectReservesGivenBack(rows: Transaction[], reservation_id: string): void {
  const mine = rows.filter((row) => row.reservation_id === reservation_id);
  const reserves = mine
    .filter((row) => row.type === "RESERVE")
    .map((row) => `${row.location_id}:${row.quantity}`)
    .sort();
  const releases = mine
    .filter((row) => row.type === "RELEASE")
    .map((row) => `${row.location_id}:${row.quantity}`)
    .sort();
  expect(releases).toEqual(reserves);
  expect(mine.every((row) => row.type === "RESERVE" || row.type === "RELEASE")).toBe(true);
}

/** The Reservation object that holds this reservation (one of RESERVATION_SHARDS). */
export function reservationStub(id: string) {
  return reservationObject(env, id);
}

/**
 * Called after the creations have answered: resolves once the save each reservation's object
 * makes after answering (a creation's `held`) is done, since the next operation on an id runs
 * after it and a read is the lightest one. Tests that edit a reservation's row directly call
 * this first, as the object's own operations would wait.
 */
export async function savesAfterAnswerDone(ids: readonly string[]): Promise<void> {
  await Promise.all(ids.map((id) => reservationStub(id).read(id)));
}

/** The internal phase (pending, aborting, committing…) that clients never see. */
export function reservationPhase(id: string): Promise<string | null> {
  return runInDurableObject<ReservationObject, string | null>(reservationStub(id), (_instance, state) => {
    const row = state.storage.sql.exec("SELECT phase FROM reservations WHERE id = ?", id).toArray()[0];
    return row === undefined ? null : String(row.phase);
  });
}

/** Two products with 5 units each, and a creation over both that crashed before any hold. */
export async function crashedCreation(prefix: string): Promise<{ id: string; expires_at: string; products: [string, string] }> {
  const products: [string, string] = [await stocked(5, `${prefix}-a`), await stocked(5, `${prefix}-b`)];
  const id = `${prefix}-${crypto.randomUUID()}`;
  const expires_at = new Date(Date.now() + 900_000).toISOString();
  await savePendingAsACrashLeavesIt(id, products, expires_at);
  return { id, expires_at, products };
}

/**
 * What a creation that crashed before answering leaves: its record pending (attempt 1, 3 units
 * per product), and the alarm at the pending timeout (runDurableObjectAlarm runs it early).
 */
function savePendingAsACrashLeavesIt(id: string, products: string[], expires_at: string): Promise<void> {
  const now = new Date();
  const pendingDue = now.getTime() + RESERVATION_PENDING_TIMEOUT_MS;
  return runInDurableObject<ReservationObject, void>(reservationStub(id), async (_instance, state) => {
    saveReservation(
      state.storage.sql,
      {
        id,
        phase: "pending",
        reason: "checkout",
        ttl_seconds: 900,
        expires_at,
        created_by: "test-writer",
        created_at: now.toISOString(),
        lines: products.map((product_id) => ({ product_id, location_id: "default", quantity: 3 })),
        idempotency_key: "k",
        fingerprint: "f",
        attempt: 1,
        retries: 0,
        closed_by: null,
        closed_key: null,
      },
      now.toISOString(),
      pendingDue,
    );
    await state.storage.setAlarm(pendingDue);
  });
}

/** The hold a crashed creation's coordinator sent to one product (3 units). */
export function holdOfAttempt(product_id: string, reservation_id: string, attempt: number, expires_at: string) {
  return ledgerStub(product_id).hold({
    reservation_id,
    created_by: "test-writer",
    reason: "checkout",
    idempotency_key: "k",
    attempt,
    expires_at,
    lines: [{ location_id: "default", quantity: 3 }],
  });
}

export { waitFor } from "./wait";
