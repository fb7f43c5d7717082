// Event types and how each becomes facts for the ledger (src/ledger/facts.ts), keyed by stable
// business ids (never by the delivery), so an event re-sent under a new webhook-id writes
// nothing twice. Pure.

import { z } from "zod";
import type { FactOp } from "../ledger/facts";
import { BUSINESS_ID_PATTERN, BUSINESS_ID_RULE, ID_PATTERN } from "../ledger/ids";
import { DEFAULT_LOCATION_ID, type TransactionRequest } from "../ledger/types";
import { QUANTITY_MAX, QUANTITY_MIN, TOTAL_MAX, WEBHOOK_LINES_MAX } from "../limits";

const BusinessId = z.string().regex(BUSINESS_ID_PATTERN, BUSINESS_ID_RULE);
const ProductId = z.string().regex(ID_PATTERN, "a product id");
const LocationId = z.string().regex(ID_PATTERN, "a location id").optional();
const Quantity = z.number().int().min(QUANTITY_MIN).max(QUANTITY_MAX);

const Line = z.strictObject({ line_id: BusinessId, product_id: ProductId, quantity: Quantity, location_id: LocationId });
const Lines = z
  .array(Line)
  .min(1)
  .max(WEBHOOK_LINES_MAX)
  .refine((lines) => new Set(lines.map((line) => line.line_id)).size === lines.length, {
    message: "line_id must be unique within the event",
  });

export const EVENT_SCHEMAS = {
  "stock.received": z.strictObject({ product_id: ProductId, quantity: Quantity, reference: BusinessId, location_id: LocationId }),
  "stock.counted": z.strictObject({
    product_id: ProductId,
    on_hand: z.number().int().min(0).max(TOTAL_MAX),
    reference: BusinessId,
    location_id: LocationId,
  }),
  "order.placed": z.strictObject({ order_id: BusinessId, lines: Lines }),
  "order.cancelled": z.strictObject({ order_id: BusinessId, lines: Lines }),
  "return.received": z.strictObject({ return_id: BusinessId, lines: Lines }),
} as const;

export type EventType = keyof typeof EVENT_SCHEMAS;

export function isKnownEventType(type: unknown): type is EventType {
  return typeof type === "string" && Object.hasOwn(EVENT_SCHEMAS, type);
}

type EventData<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;

function request(type: TransactionRequest["type"], quantity: number, location_id: string | undefined, reason: string): TransactionRequest {
  return { type, quantity, location_id: location_id ?? DEFAULT_LOCATION_ID, reason, actor: null, metadata: null, reservation_id: null };
}

export function operationsFor<T extends EventType>(type: T, data: EventData<T>): FactOp[] {
  switch (type) {
    case "stock.received": {
      const d = data as EventData<"stock.received">;
      const location_id = d.location_id ?? DEFAULT_LOCATION_ID;
      return [
        {
          kind: "record",
          product_id: d.product_id,
          key: `received:${d.reference}:${d.product_id}:${location_id}`,
          request: request("ADD", d.quantity, location_id, `received:${d.reference}`),
        },
      ];
    }
    case "stock.counted": {
      const d = data as EventData<"stock.counted">;
      const location_id = d.location_id ?? DEFAULT_LOCATION_ID;
      return [
        {
          kind: "record",
          product_id: d.product_id,
          key: `counted:${d.reference}:${d.product_id}:${location_id}`,
          request: request("ADJUST", d.on_hand, location_id, `counted:${d.reference}`),
        },
      ];
    }
    case "order.placed": {
      const d = data as EventData<"order.placed">;
      return d.lines.map((line) => ({
        kind: "place" as const,
        product_id: line.product_id,
        key: `order:${d.order_id}:${line.line_id}:placed`,
        cancel_key: `order:${d.order_id}:${line.line_id}:cancelled`,
        request: request("REMOVE", line.quantity, line.location_id, `order:${d.order_id}`),
      }));
    }
    case "order.cancelled": {
      const d = data as EventData<"order.cancelled">;
      return d.lines.map((line) => ({
        kind: "cancel" as const,
        product_id: line.product_id,
        key: `order:${d.order_id}:${line.line_id}:cancelled`,
        place_key: `order:${d.order_id}:${line.line_id}:placed`,
        reason: `order:${d.order_id}:cancelled`,
      }));
    }
    case "return.received": {
      const d = data as EventData<"return.received">;
      return d.lines.map((line) => ({
        kind: "record" as const,
        product_id: line.product_id,
        key: `return:${d.return_id}:${line.line_id}`,
        request: request("RETURN", line.quantity, line.location_id, `return:${d.return_id}`),
      }));
    }
  }
  // Unreachable: `type` is a known event type.
  throw new Error(`no mapping for ${String(type)}`);
}
