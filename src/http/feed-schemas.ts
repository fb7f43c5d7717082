// Request and response schemas of products, their settings, the change feed and subscriptions:
// they validate requests AND generate /openapi.json, including every event under `webhooks`.
import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../ledger/events";
import {
  DELIVERIES_PAGE_LIMIT_DEFAULT,
  DELIVERIES_PAGE_LIMIT_MAX,
  EVENTS_PAGE_LIMIT_DEFAULT,
  EVENTS_PAGE_LIMIT_MAX,
  ID_LENGTH_MAX,
  LOW_STOCK_THRESHOLD_MAX,
  PRODUCTS_PAGE_LIMIT_DEFAULT,
  PRODUCTS_PAGE_LIMIT_MAX,
  SHARDS_MAX,
  SHARDS_MIN,
  SUBSCRIPTION_DESCRIPTION_LENGTH_MAX,
  SUBSCRIPTION_PRODUCT_IDS_MAX,
  SUBSCRIPTION_URL_LENGTH_MAX,
  SUBSCRIPTIONS_PAGE_LIMIT_MAX,
  TOTAL_MAX,
} from "../limits";
import { optionalQueryInteger, ProductId, queryIntegerOr, Stock, storedText, Transaction } from "./schemas";

export const EventType = z.enum(EVENT_TYPES).openapi("EventType");

export const ProductsQuery = z.object({
  prefix: z.string().min(1).max(ID_LENGTH_MAX).optional().openapi({ example: "sku-" }),
  after: ProductId.optional(),
  limit: queryIntegerOr(1, PRODUCTS_PAGE_LIMIT_MAX, PRODUCTS_PAGE_LIMIT_DEFAULT),
});

export const ProductsPage = z
  .object({ data: z.array(z.object({ product_id: z.string(), created_at: z.string() })), next_after: z.string().nullable() })
  .openapi("ProductPage");

export const Settings = z
  .object({
    product_id: z.string(),
    low_stock_threshold: z.number().int().nullable(),
    shards: z.number().int(),
    updated_by: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi("ProductSettings");

export const SettingsBody = z
  .strictObject({
    low_stock_threshold: z.number().int().min(0).max(LOW_STOCK_THRESHOLD_MAX).nullable().optional(),
    shards: z.number().int().min(SHARDS_MIN).max(SHARDS_MAX).optional(),
  })
  .openapi("ProductSettingsChange");

const EventData = z.object({
  stock: Stock,
  transaction: Transaction.optional().openapi({ description: "The ledger row at seq (stock events but a reconciliation repair's)." }),
  settings: Settings.optional().openapi({ description: "The settings after the change (product.settings_changed)." }),
});

/** The event object: the body of every delivery and of every item of the feed. */
export function eventSchema(type: z.ZodType<string> = EventType) {
  return z.object({
    id: z.string().openapi({ example: "evt_3f2a9c0d1b7e4f60_42", description: "Stable and unique: receivers dedupe on it (webhook-id)." }),
    type,
    product_id: z.string(),
    seq: z.number().int().openapi({ description: "The ledger seq that caused it (for settings: the version at that moment)." }),
    occurred_at: z.string(),
    data: EventData,
  });
}
export const ChangeEvent = eventSchema().openapi("Event");

const TypeList = z
  .string()
  .transform((value) => value.split(","))
  .pipe(z.array(EventType).min(1).max(EVENT_TYPES.length))
  .openapi({ type: "string", example: "stock.out,stock.back_in" });

export const EventsQuery = z.object({
  after: z.string().min(1).max(200).optional().openapi({ description: "An event id: the page starts after it." }),
  limit: queryIntegerOr(1, EVENTS_PAGE_LIMIT_MAX, EVENTS_PAGE_LIMIT_DEFAULT),
  type: TypeList.optional(),
});

export const EventPage = z.object({ data: z.array(ChangeEvent), next_after: z.string().nullable() }).openapi("EventPage");

export const SubscriptionId = z
  .string()
  .regex(/^sub_[0-9a-f]{32}$/, "a subscription id as returned when it was created")
  .openapi({ example: "sub_0c9f3a1e5b7d4c2a9e8f6d4b2a0c8e6f" });

export const SubscriptionBody = z
  .strictObject({
    url: z.string().min(1).max(SUBSCRIPTION_URL_LENGTH_MAX).openapi({ example: "https://hooks.example.com/inventory" }),
    event_types: z
      .array(EventType)
      .min(1)
      .max(EVENT_TYPES.length)
      .refine((types) => new Set(types).size === types.length, { message: "event types must be distinct" }),
    product_ids: z
      .array(ProductId)
      .min(1)
      .max(SUBSCRIPTION_PRODUCT_IDS_MAX)
      .refine((ids) => new Set(ids).size === ids.length, { message: "product ids must be distinct" })
      .nullable()
      .optional()
      .openapi({ description: "null or left out: every product." }),
    description: storedText(SUBSCRIPTION_DESCRIPTION_LENGTH_MAX).optional(),
  })
  .openapi("SubscriptionRequest");

export const Subscription = z
  .object({
    id: z.string(),
    url: z.string(),
    event_types: z.array(EventType),
    product_ids: z.array(z.string()).nullable(),
    description: z.string().nullable(),
    status: z.enum(["active", "disabled"]),
    disabled_reason: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Subscription");

export const SubscriptionWithSecret = Subscription.extend({
  secret: z.string().openapi({ description: "whsec_<base64>: shown in this answer only." }),
}).openapi("SubscriptionWithSecret");

export const SubscriptionPage = z.object({ data: z.array(Subscription), next_after: z.string().nullable() }).openapi("SubscriptionPage");

export const SubscriptionsQuery = z.object({
  after: SubscriptionId.optional(),
  limit: queryIntegerOr(1, SUBSCRIPTIONS_PAGE_LIMIT_MAX, SUBSCRIPTIONS_PAGE_LIMIT_MAX),
});

export const DeliveriesQuery = z.object({
  status: z.enum(["pending", "delivered", "failed"]).optional(),
  product_id: ProductId.optional(),
  after: optionalQueryInteger(1, TOTAL_MAX),
  limit: queryIntegerOr(1, DELIVERIES_PAGE_LIMIT_MAX, DELIVERIES_PAGE_LIMIT_DEFAULT),
});

export const Delivery = z
  .object({
    event_id: z.string(),
    product_id: z.string(),
    seq: z.number().int(),
    type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    last_attempt_at: z.string().nullable(),
    last_status: z.number().int().nullable().openapi({ description: "The receiver's HTTP status, or null when it did not answer." }),
    next_attempt_at: z.string().nullable(),
  })
  .openapi("Delivery");

export const DeliveryPage = z.object({ data: z.array(Delivery), next_after: z.number().int().nullable() }).openapi("DeliveryPage");
