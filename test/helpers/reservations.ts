// Helpers for reservation tests: create/commit/release over HTTP, and a look inside the object.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Reservation } from "../../src/durable/reservation/object";
import { reservationObject } from "../../src/http/objects";
import { call, freshKey } from "./http";

export interface LineInput {
  product_id: string;
  quantity: number;
  location_id?: string;
}

export function createReservation(
  body: { reservation_id?: string; reason?: string; ttl_seconds?: number; lines: LineInput[] },
  key = freshKey(),
) {
  return call("POST", "/v1/reservations", { role: "writer", headers: { "idempotency-key": key }, body: { reason: "checkout", ...body } });
}

export function closeReservation(id: string, action: "commit" | "release", key = freshKey()) {
  return call("POST", `/v1/reservations/${id}/${action}`, { role: "writer", headers: { "idempotency-key": key } });
}

export async function reservationStatus(id: string): Promise<string | null> {
  const response = await call("GET", `/v1/reservations/${id}`, { role: "reader" });
  if (response.status === 404) return null;
  return ((await response.json()) as { status: string }).status;
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
  return runInDurableObject<Reservation, string | null>(reservationStub(id), (_instance, state) => {
    const row = state.storage.sql.exec("SELECT phase FROM reservations WHERE id = ?", id).toArray()[0];
    return row === undefined ? null : String(row.phase);
  });
}

export { waitFor } from "./wait";
