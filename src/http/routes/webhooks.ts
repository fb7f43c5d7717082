// Webhooks in: POST /v1/webhooks/{source_id}, authenticated by its Standard Webhooks signature
// instead of a bearer token; and the admin's delivery log.
import { createRoute, z } from "@hono/zod-openapi";
import { drizzle } from "drizzle-orm/d1";
import { auditSchema } from "../../export/audit-tables";
import { WEBHOOK_BODY_BYTES_MAX, WEBHOOK_DELIVERIES_PAGE_LIMIT_MAX, WEBHOOK_ID_LENGTH_MAX } from "../../ledger/constants";
import { applyOperations } from "../../webhooks/apply";
import type { AuditDb } from "../../export/d1-writer";
import { claimOrWait, finishDelivery, listDeliveries, type DeliveryStatus } from "../../webhooks/deliveries";
import { EVENT_SCHEMAS, isKnownEventType, operationsFor } from "../../webhooks/events";
import { verifySignature } from "../../webhooks/signature";
import { webhookSourcesFrom } from "../../webhooks/sources";
import { requireRole } from "../middleware/auth";
import { bodyWithin } from "../middleware/body-within";
import { invalidRequest, ProblemError } from "../problem";
import { createRouter } from "../router";
import { optionalQueryInteger, problemResponses, queryIntegerOr } from "../schemas";

const SourceId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);

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
    { in: "header", name: "webhook-id", required: true, description: "The delivery's id; the same id again is a duplicate", schema: { type: "string", minLength: 1, maxLength: WEBHOOK_ID_LENGTH_MAX } },
    { in: "header", name: "webhook-timestamp", required: true, description: "Unix seconds; refused beyond 5 minutes from now", schema: { type: "string", pattern: "^[0-9]{1,12}$" } },
    { in: "header", name: "webhook-signature", required: true, description: "Space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body>", schema: { type: "string" } },
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
    ...problemResponses(400, 401, 404, 413, 422, 503),
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
      after: optionalQueryInteger(1, Number.MAX_SAFE_INTEGER),
      limit: queryIntegerOr(1, WEBHOOK_DELIVERIES_PAGE_LIMIT_MAX, 50),
    }),
  },
  responses: {
    200: {
      description: "One page of deliveries",
      content: { "application/json": { schema: z.object({ data: z.array(z.record(z.string(), z.unknown())), next_after: z.number().int().nullable() }) } },
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
    const body = new Uint8Array(await c.req.arrayBuffer());
    const headers = { id: c.req.header("webhook-id"), timestamp: c.req.header("webhook-timestamp"), signature: c.req.header("webhook-signature") };
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
    const db = drizzle(c.env.AUDIT_DB, { schema: auditSchema });
    const claim = await claimOrWait(db, source_id, webhook_id, typeof type === "string" ? type.slice(0, 100) : "(none)");
    if (claim.kind === "done") return c.json({ status: "duplicate" as const, results: resultsOf(claim.result) }, 200);
    if (claim.kind === "in_progress") {
      throw new ProblemError("delivery_in_progress", "Another copy of this delivery is still being applied; send it again later under the same webhook-id, and it will answer duplicate with the results.");
    }
    // Run to the end even if the provider hangs up: a run cut off between applying the event
    // and recording how it ended would hold the delivery until its lease ran out.
    const run = applyClaimed(c.env, db, { source_id, webhook_id, attempt: claim.attempt }, type, event);
    c.executionCtx.waitUntil(run.catch(() => undefined));
    return c.json(await run, 200);
  })
  .openapi(listWebhooks, async (c) => {
    const page = await listDeliveries(drizzle(c.env.AUDIT_DB, { schema: auditSchema }), c.req.valid("query"));
    return c.json(page, 200);
  });

/**
 * Applies a delivery this request claimed, and records how it ended: `ignored` for an unknown
 * type, `rejected` (400, 422) or `failed` (500) as a ProblemError, or `applied`.
 */
async function applyClaimed(env: Env, db: AuditDb, delivery: { source_id: string; webhook_id: string; attempt: number }, type: unknown, event: unknown): Promise<{ status: "applied" | "ignored"; results: Record<string, unknown>[] }> {
  const finish = (status: DeliveryStatus, result: unknown) => finishDelivery(db, delivery.source_id, delivery.webhook_id, delivery.attempt, status, result);
  if (!isKnownEventType(type)) {
    await finish("ignored", []);
    return { status: "ignored", results: [] };
  }
  const parsed = EVENT_SCHEMAS[type].safeParse((event as { data?: unknown }).data);
  if (!parsed.success) {
    const problem = invalidRequest(parsed.error.issues.map((issue) => ({ path: ["body", "data", ...issue.path.map(String)].join("."), message: issue.message })));
    await finish("rejected", problem.problem);
    throw problem;
  }

  const outcome = await applyOperations(env, delivery.source_id, operationsFor(type, parsed.data));
  if (!outcome.ok) {
    await finish("failed", outcome.results);
    throw new ProblemError("internal_error", "Part of this event could not be applied yet; retry the delivery (what did apply will not be applied twice).", { results: outcome.results });
  }
  const refused = outcome.results.find((result) => result.status === "refused");
  if (refused !== undefined) {
    // A line that conflicts with what its business id already recorded (or would pass a
    // limit) cannot be fixed by a retry: answer 4xx so the provider stops, and log it.
    await finish("rejected", outcome.results);
    const code = refused.error === "limit_exceeded" ? "limit_exceeded" : "idempotency_key_reused";
    throw new ProblemError(code, `Line ${refused.key} was refused (${refused.error}); the other lines are in results.`, { results: outcome.results });
  }
  await finish("applied", outcome.results);
  return { status: "applied", results: outcome.results };
}

function resultsOf(stored: unknown): Record<string, unknown>[] {
  return Array.isArray(stored) ? (stored as Record<string, unknown>[]) : [];
}
