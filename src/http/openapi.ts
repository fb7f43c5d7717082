// The OpenAPI 3.1 document at /openapi.json: every route (registered by its own createRoute),
// the bearer scheme, and every change-feed event under the top-level `webhooks` object, from
// the same zod schemas that validate the API.
import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../ledger/events";
import { eventSchema } from "./feed-schemas";
import type { createRouter } from "./router";

const EVENT_SUMMARIES: Record<(typeof EVENT_TYPES)[number], string> = {
  "stock.changed": "Every ledger row, with the product's stock right after it",
  "stock.low": "available went from above low_stock_threshold to at or below it",
  "stock.out": "available went from above 0 to 0 or below",
  "stock.back_in": "available went from 0 or below to above 0",
  "stock.oversold": "oversold went from false to true",
  "product.settings_changed": "A settings PUT changed a value",
};

export function describeApi(app: ReturnType<typeof createRouter>): void {
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Inventory ledger", version: "1.1.0", description: "An append-only inventory ledger: one Durable Object per product." },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/openapi.json",
    summary: "This document (OpenAPI 3.1)",
    security: [],
    responses: {
      200: { description: "The OpenAPI document of every route", content: { "application/json": { schema: { type: "object" } } } },
    },
  });
  for (const type of EVENT_TYPES) {
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      summary: EVENT_SUMMARIES[type],
      description:
        "Sent to every subscription that names this type, signed by Standard Webhooks; at least once, in order per product (docs/events.md).",
      security: [],
      request: {
        headers: z.object({
          "webhook-id": z.string().openapi({ description: "The event id, the same on every retry: dedupe on it" }),
          "webhook-timestamp": z.string().openapi({ description: "Unix seconds of this attempt" }),
          "webhook-signature": z
            .string()
            .openapi({ description: "Space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per secret" }),
        }),
        body: { content: { "application/json": { schema: eventSchema(z.literal(type)) } } },
      },
      responses: {
        200: { description: "Any 2xx within 10 s: delivered" },
        410: { description: "Gone: the subscription is disabled at once" },
      },
    });
  }
}
