// GET /healthz: no auth, no storage; says the worker is up.
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../router";

const health = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness",
  security: [],
  responses: { 200: { description: "Up", content: { "application/json": { schema: z.object({ ok: z.literal(true) }) } } } },
});

export const healthRoutes = createRouter().openapi(health, (c) => c.json({ ok: true as const }, 200));
