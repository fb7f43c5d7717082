// Request and response schemas of the reservation and batch endpoints.
import { z } from "@hono/zod-openapi";
import { duplicateLineIndexes } from "../ledger/reservations";
import {
  BATCH_ITEMS_MAX,
  REASON_LENGTH_MAX,
  RESERVATION_LINES_MAX,
  RESERVATION_TTL_SECONDS_DEFAULT,
  RESERVATION_TTL_SECONDS_MAX,
  RESERVATION_TTL_SECONDS_MIN,
} from "../limits";
import { AdjustBody, LocationId, MovementBody, Problem, ProductId, Quantity, Stock, storedText, Transaction } from "./schemas";

export const ReservationId = ProductId.openapi({ example: "checkout-7f3a" });
export const ReservationIdParams = z.object({ id: ReservationId });

const ReservationLineBody = z.strictObject({ product_id: ProductId, quantity: Quantity, location_id: LocationId.optional() });

export const ReservationBody = z
  .strictObject({
    reservation_id: ReservationId.optional(),
    reason: storedText(REASON_LENGTH_MAX),
    ttl_seconds: z
      .number()
      .int()
      .min(RESERVATION_TTL_SECONDS_MIN)
      .max(RESERVATION_TTL_SECONDS_MAX)
      .default(RESERVATION_TTL_SECONDS_DEFAULT),
    lines: z.array(ReservationLineBody).min(1).max(RESERVATION_LINES_MAX),
  })
  .superRefine((body, context) => {
    const normalized = body.lines.map((line) => ({ product_id: line.product_id, location_id: line.location_id ?? "default" }));
    for (const index of duplicateLineIndexes(normalized)) {
      context.addIssue({ code: "custom", path: ["lines", index], message: "another line has the same product and location" });
    }
  })
  .openapi("ReservationRequest");

export const ReservationLine = z.object({ product_id: z.string(), location_id: z.string(), quantity: z.number().int() });

export const ReservationView = z
  .object({
    id: z.string(),
    status: z.enum(["held", "committed", "released", "expired"]),
    reason: z.string(),
    expires_at: z.string(),
    created_by: z.string(),
    created_at: z.string(),
    lines: z.array(ReservationLine),
  })
  .openapi("Reservation");

const BatchItem = z.discriminatedUnion("type", [
  MovementBody.extend({ product_id: ProductId }),
  AdjustBody.extend({ product_id: ProductId }),
]);

export const BatchBody = z.strictObject({ transactions: z.array(BatchItem).min(1).max(BATCH_ITEMS_MAX) }).openapi("BatchRequest");
export type BatchBody = z.infer<typeof BatchBody>;

export const BatchResult = z.object({
  index: z.number().int(),
  status: z.number().int(),
  transaction: Transaction.optional(),
  stock: Stock.optional(),
  error: Problem.optional(),
});

export const BatchResponse = z.object({ results: z.array(BatchResult) }).openapi("BatchResults");
