// GET /v1/products/{product_id}/events: the change feed, pulled by cursor, for replay from any
// point and for reconciling a receiver that lost deliveries.
import { createRoute } from "@hono/zod-openapi";
import { EventPage, EventsQuery } from "../feed-schemas";
import { requireRole } from "../middleware/auth";
import { productLedger } from "../objects";
import { unwrap } from "../problems";
import { createRouter } from "../router";
import { ProductIdParams, problemResponses } from "../schemas";

const listEvents = createRoute({
  method: "get",
  path: "/products/{product_id}/events",
  summary: "A product's change feed in order, after an event id",
  middleware: [requireRole("read")] as const,
  request: { params: ProductIdParams, query: EventsQuery },
  responses: {
    200: { description: "One page, ascending", content: { "application/json": { schema: EventPage } } },
    ...problemResponses(400, 401, 403),
  },
});

export const events = createRouter().openapi(listEvents, async (c) => {
  const { product_id } = c.req.valid("param");
  const { after, limit, type } = c.req.valid("query");
  const { data, next_after } = unwrap(await productLedger(c.env, product_id).events({ after, limit, types: type ?? [] }));
  return c.json({ data, next_after }, 200);
});
