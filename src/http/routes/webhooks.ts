// Webhooks in: POST /v1/webhooks/{source_id}, authenticated by its Standard Webhooks signature
// instead of a bearer token; and the admin's delivery log.
import { createRoute, z } from "@hono/zod-openapi";
import { auditDb } from "../../d1/db";
import {
  TOTAL_MAX,
  WEBHOOK_BODY_BYTES_MAX,
  WEBHOOK_DELIVERIES_PAGE_LIMIT_DEFAULT,
  WEBHOOK_DELIVERIES_PAGE_LIMIT_MAX,
  WEBHOOK_ID_LENGTH_MAX,
} from "../../limits";
import { listDeliveries } from "../../webhooks/deliveries";
import { verifySignature } from "../../webhooks/signature";
import { SOURCE_ID_PATTERN, webhookSourcesFrom } from "../../webhooks/sources";
import { requireRole } from "../middleware/auth";
import { bodyWithin } from "../middleware/body-within";
import { invalidRequest, ProblemError } from "../problem";
import { bodyNotRead } from "../read-body";
import { createRouter } from "../router";
import { optionalQueryInteger, Problem, problemResponses, queryIntegerOr } from "../schemas";
import { deliver } from "../webhook-delivery";

const SourceId = z.string().regex(SOURCE_ID_PATTERN);

const WebhookAnswer = z
  .object({ status: z.enum(["applied", "duplicate", "ignored"]), results: z.array(z.record(z.string(), z.unknown())) })
  .openapi("WebhookAnswer");

const receiveWebhook = createRoute({
  method: "post",
  path: "/webhooks/{source_id}",
  summary: "Receive a signed event (Standard Webhooks): stock.received, stock.counted, order.placed, order.cancelled, return.received",
  description:
    "No bearer token: the webhook-id, webhook-timestamp and webhook-signature headers authenticate the raw body. Body: { type, data }. See the README for each type's data.",
  security: [],
  middleware: bodyWithin(WEBHOOK_BODY_BYTES_MAX),
  request: { params: z.object({ source_id: SourceId }) },
  // The headers and the body are documented here but not validated by the framework: the
  // signature is checked on the raw bytes before anything parses them, and a missing header
  // is a 401 invalid_signature, not a 400.
  parameters: [
    {
      in: "header",
      name: "webhook-id",
      required: true,
      description: "The delivery's id; the same id again is a duplicate",
      schema: { type: "string", minLength: 1, maxLength: WEBHOOK_ID_LENGTH_MAX },
    },
    {
      in: "header",
      name: "webhook-timestamp",
      required: true,
      description: "Unix seconds; refused beyond 5 minutes from now",
      schema: { type: "string", pattern: "^[0-9]{1,12}$" },
    },
    {
      in: "header",
      name: "webhook-signature",
      required: true,
      description: "Space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body>",
      schema: { type: "string" },
    },
  ],
  requestBody: {
    required: true,
    content: {
      "application/json": {
        schema: {
          type: "object",
          required: ["type", "data"],
          properties: {
            type: { type: "string", examples: ["stock.received", "stock.counted", "order.placed", "order.cancelled", "return.received"] },
            data: { type: "object", description: "Depends on the type; see the README (Webhooks in)" },
          },
        },
      },
    },
  },
  responses: {
    200: { description: "Applied, duplicate, or ignored (unknown type)", content: { "application/json": { schema: WebhookAnswer } } },
    ...problemResponses(400, 401, 404, 413, 422),
    503: {
      description: "delivery_in_progress: another copy of this webhook-id is being applied; send it again later",
      headers: { "Retry-After": { description: "Seconds to wait before sending the delivery again", schema: { type: "integer" } } },
      content: { "application/problem+json": { schema: Problem } },
    },
  },
});

const listWebhooks = createRoute({
  method: "get",
  path: "/admin/webhooks",
  summary: "Webhook deliveries received, newest first",
  middleware: requireRole("admin"),
  request: {
    query: z.object({
      source_id: SourceId.optional(),
      after: optionalQueryInteger(1, TOTAL_MAX),
      limit: queryIntegerOr(1, WEBHOOK_DELIVERIES_PAGE_LIMIT_MAX, WEBHOOK_DELIVERIES_PAGE_LIMIT_DEFAULT),
    }),
  },
  responses: {
    200: {
      description: "One page of deliveries",
      content: {
        "application/json": {
          schema: z.object({ data: z.array(z.record(z.string(), z.unknown())), next_after: z.number().int().nullable() }),
        },
      },
    },
    ...problemResponses(400, 401, 403),
  },
});

export const webhooks = createRouter()
  .openapi(receiveWebhook, async (c) => {
    const { source_id } = c.req.valid("param");
    const source = webhookSourcesFrom(c.env.WEBHOOK_SOURCES).get(source_id);
    if (source === undefined) throw new ProblemError("not_found", "No such webhook source.");

    // Verify the raw bytes before anything reads them as JSON.
    const body = await c.req.arrayBuffer().then(
      (bytes) => new Uint8Array(bytes),
      () => Promise.reject(bodyNotRead()),
    );
    const headers = {
      id: c.req.header("webhook-id"),
      timestamp: c.req.header("webhook-timestamp"),
      signature: c.req.header("webhook-signature"),
    };
    if (!(await verifySignature(source.keys, headers, body, Math.floor(Date.now() / 1000)))) {
      throw new ProblemError("invalid_signature", "The webhook signature is not valid.");
    }
    const webhook_id = headers.id!;

    let event: unknown;
    try {
      event = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw invalidRequest([{ path: "body", message: "not valid JSON" }]);
    }
    const type = typeof event === "object" && event !== null ? (event as { type?: unknown }).type : undefined;
    // Carried to the end even if the provider hangs up: a run cut off between its claim and
    // the record of its end would hold the delivery until its lease ran out.
    const run = deliver(c.env, auditDb(c.env.AUDIT_DB), source_id, webhook_id, type, event);
    c.executionCtx.waitUntil(run.catch(() => undefined));
    return c.json(await run, 200);
  })
  .openapi(listWebhooks, async (c) => {
    const page = await listDeliveries(auditDb(c.env.AUDIT_DB), c.req.valid("query"));
    return c.json(page, 200);
  });
