// Reservations: all-or-nothing holds across products, committed, released, or expired by alarm.
import { createRoute } from "@hono/zod-openapi";
import { canonicalJson } from "../../ledger/fingerprint";
import { DEFAULT_LOCATION_ID } from "../../ledger/types";
import { sha256Hex } from "../../lib/sha256";
import { requireRole } from "../middleware/auth";
import { bodyWithin } from "../middleware/body-within";
import { requireIdempotencyKey } from "../middleware/idempotency-key";
import { jsonBody } from "../middleware/json-body";
import { refuseIfMatch } from "../middleware/no-if-match";
import { reservationObject } from "../objects";
import { unwrap } from "../problems";
import { ReservationBody, ReservationIdParams, ReservationView } from "../reservation-schemas";
import { createRouter } from "../router";
import { IdempotencyKeyHeader, problemResponses } from "../schemas";

const NO_VERSION = "a reservation has no version to check";

const reservationResponse = (description: string) => ({ description, content: { "application/json": { schema: ReservationView } } });

const createReservation = createRoute({
  method: "post",
  path: "/reservations",
  summary: "Hold stock on several products, all or nothing, until expires_at",
  middleware: [requireRole("write"), requireIdempotencyKey, refuseIfMatch(NO_VERSION), ...jsonBody()] as const,
  request: { headers: IdempotencyKeyHeader, body: { required: true, content: { "application/json": { schema: ReservationBody } } } },
  responses: {
    201: reservationResponse("Every line is held"),
    200: reservationResponse("Replayed: the reservation this Idempotency-Key created, as it is now"),
    ...problemResponses(400, 401, 403, 409, 413, 415, 422),
  },
});

const getReservation = createRoute({
  method: "get",
  path: "/reservations/{id}",
  summary: "A reservation and its status",
  middleware: [requireRole("read")] as const,
  request: { params: ReservationIdParams },
  responses: { 200: reservationResponse("The reservation"), ...problemResponses(400, 401, 403, 404) },
});

const closeRoute = (action: "commit" | "release", summary: string) =>
  createRoute({
    method: "post",
    path: `/reservations/{id}/${action}`,
    summary,
    middleware: [requireRole("write"), requireIdempotencyKey, refuseIfMatch(NO_VERSION), bodyWithin()] as const,
    request: { params: ReservationIdParams, headers: IdempotencyKeyHeader },
    responses: { 200: reservationResponse("Done (also when it was already done)"), ...problemResponses(400, 401, 403, 404, 409, 413) },
  });

const commitReservation = closeRoute("commit", "Sell what the reservation holds: RELEASE + REMOVE per line");
const releaseReservation = closeRoute("release", "Give back what the reservation holds: RELEASE per line");

export const reservations = createRouter()
  .openapi(createReservation, async (c) => {
    const body = c.req.valid("json");
    const principal = c.get("principal").id;
    const idempotency_key = c.req.valid("header")["idempotency-key"];
    const id = body.reservation_id ?? generatedReservationId(principal, idempotency_key);
    const lines = body.lines.map((line) => ({
      product_id: line.product_id,
      location_id: line.location_id ?? DEFAULT_LOCATION_ID,
      quantity: line.quantity,
    }));
    const fingerprint = canonicalJson({
      principal,
      reservation_id: body.reservation_id ?? null,
      reason: body.reason,
      ttl_seconds: body.ttl_seconds,
      lines,
    });

    const created = unwrap(
      await reservationObject(c.env, id).create({
        id,
        reason: body.reason,
        ttl_seconds: body.ttl_seconds,
        lines,
        principal,
        idempotency_key,
        fingerprint,
      }),
    );
    if (created.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(created.reservation, created.replayed ? 200 : 201);
  })
  .openapi(getReservation, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(unwrap(await reservationObject(c.env, id).read(id)).reservation, 200);
  })
  .openapi(commitReservation, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(
      unwrap(await reservationObject(c.env, id).commit(id, c.get("principal").id, c.req.valid("header")["idempotency-key"])).reservation,
      200,
    );
  })
  .openapi(releaseReservation, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(
      unwrap(await reservationObject(c.env, id).release(id, c.get("principal").id, c.req.valid("header")["idempotency-key"])).reservation,
      200,
    );
  });

/**
 * Without a reservation_id, the id is derived from who asked and the Idempotency-Key, so a
 * retry of the same request reaches the same reservation instead of holding stock twice.
 */
function generatedReservationId(principal: string, idempotency_key: string): string {
  return `rsv-${sha256Hex(`${principal}\n${idempotency_key}`).slice(0, 32)}`;
}
