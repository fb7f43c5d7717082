// Subscriptions to the change feed (webhooks out), admin only: create (the secret is shown once),
// list, read, delete, rotate the secret, and each subscription's delivery log with a retry.
import { createRoute, z } from "@hono/zod-openapi";
import { auditDb } from "../../d1/db";
import { countActiveSubscriptions, listSubscriptions } from "../../d1/subscriptions";
import { newSecret } from "../../lib/standard-webhooks";
import { SUBSCRIPTIONS_ACTIVE_MAX } from "../../limits";
import {
  DeliveriesQuery,
  DeliveryPage,
  Subscription,
  SubscriptionBody,
  SubscriptionId,
  SubscriptionPage,
  SubscriptionsQuery,
  SubscriptionWithSecret,
} from "../feed-schemas";
import { requireRole } from "../middleware/auth";
import { bodyWithin } from "../middleware/body-within";
import { jsonBody } from "../middleware/json-body";
import { ProblemError } from "../problem";
import { unwrap } from "../problems";
import { createRouter } from "../router";
import { problemResponses } from "../schemas";
import { urlRefusal } from "../subscription-url";

const admin = requireRole("admin");
const json = <T>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const IdParams = z.object({ id: SubscriptionId });

const create = createRoute({
  method: "post",
  path: "/subscriptions",
  summary: "Subscribe a URL to events; the answer carries the signing secret, shown this once",
  middleware: [admin, ...jsonBody()] as const,
  request: { body: { required: true, content: { "application/json": { schema: SubscriptionBody } } } },
  responses: { 201: json(SubscriptionWithSecret, "Created"), ...problemResponses(400, 401, 403, 413, 415, 422) },
});
const list = createRoute({
  method: "get",
  path: "/subscriptions",
  summary: "Every subscription, by id",
  middleware: admin,
  request: { query: SubscriptionsQuery },
  responses: { 200: json(SubscriptionPage, "One page"), ...problemResponses(400, 401, 403) },
});
const read = createRoute({
  method: "get",
  path: "/subscriptions/{id}",
  summary: "One subscription",
  middleware: admin,
  request: { params: IdParams },
  responses: { 200: json(Subscription, "The subscription"), ...problemResponses(400, 401, 403, 404) },
});
const remove = createRoute({
  method: "delete",
  path: "/subscriptions/{id}",
  summary: "Delete a subscription: no delivery starts after the answer, pending ones are dropped",
  middleware: admin,
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});
const rotate = createRoute({
  method: "post",
  path: "/subscriptions/{id}/rotate-secret",
  summary: "A new signing secret; the old one keeps signing beside it for 24 h",
  middleware: [admin, bodyWithin()] as const,
  request: { params: IdParams },
  responses: { 200: json(SubscriptionWithSecret, "The new secret, shown this once"), ...problemResponses(400, 401, 403, 404, 413) },
});
const deliveries = createRoute({
  method: "get",
  path: "/subscriptions/{id}/deliveries",
  summary: "The subscription's deliveries, newest first",
  middleware: admin,
  request: { params: IdParams, query: DeliveriesQuery },
  responses: { 200: json(DeliveryPage, "One page"), ...problemResponses(400, 401, 403, 404) },
});
const retry = createRoute({
  method: "post",
  path: "/subscriptions/{id}/deliveries/{event_id}/retry",
  summary: "Send one event again now",
  middleware: [admin, bodyWithin()] as const,
  request: { params: IdParams.extend({ event_id: z.string().min(1).max(200) }) },
  responses: {
    202: json(z.object({ event_id: z.string(), status: z.literal("pending") }), "Queued to be sent now"),
    ...problemResponses(400, 401, 403, 404, 413),
  },
});

export const subscriptions = createRouter()
  .openapi(create, async (c) => {
    const body = c.req.valid("json");
    const refusal = urlRefusal(body.url, c.env.ALLOW_LOCAL_WEBHOOK_URLS === "true");
    if (refusal !== null)
      throw new ProblemError("subscription_url_refused", `The URL ${refusal}.`, { errors: [{ path: "body.url", message: refusal }] });
    if ((await countActiveSubscriptions(auditDb(c.env.AUDIT_DB))) >= SUBSCRIPTIONS_ACTIVE_MAX) {
      throw new ProblemError("limit_exceeded", `At most ${SUBSCRIPTIONS_ACTIVE_MAX} subscriptions may be active at once.`);
    }
    const id = `sub_${crypto.randomUUID().replaceAll("-", "")}`;
    const secret = newSecret();
    const config = {
      id,
      url: body.url,
      event_types: body.event_types,
      product_ids: body.product_ids ?? null,
      description: body.description ?? null,
    };
    const { subscription } = unwrap(await c.env.SUBSCRIPTION.getByName(id).create(config, secret));
    return c.json({ ...subscription, secret }, 201);
  })
  .openapi(list, async (c) => {
    const { after, limit } = c.req.valid("query");
    const page = await listSubscriptions(auditDb(c.env.AUDIT_DB), after, limit);
    const data = page.data.map(({ id, url, event_types, product_ids, description, status, disabled_reason, created_at }) => ({
      id,
      url,
      event_types,
      product_ids,
      description,
      status,
      disabled_reason,
      created_at,
    }));
    return c.json({ data, next_after: page.next_after }, 200);
  })
  .openapi(read, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(unwrap(await c.env.SUBSCRIPTION.getByName(id).view(id)).subscription, 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    unwrap(await c.env.SUBSCRIPTION.getByName(id).remove(id));
    return c.body(null, 204);
  })
  .openapi(rotate, async (c) => {
    const { id } = c.req.valid("param");
    const { subscription, secret } = unwrap(await c.env.SUBSCRIPTION.getByName(id).rotateSecret(id, newSecret()));
    return c.json({ ...subscription, secret }, 200);
  })
  .openapi(deliveries, async (c) => {
    const { id } = c.req.valid("param");
    const { data, next_after } = unwrap(await c.env.SUBSCRIPTION.getByName(id).deliveries(id, c.req.valid("query")));
    return c.json({ data, next_after }, 200);
  })
  .openapi(retry, async (c) => {
    const { id, event_id } = c.req.valid("param");
    unwrap(await c.env.SUBSCRIPTION.getByName(id).retry(id, event_id));
    return c.json({ event_id, status: "pending" as const }, 202);
  });
