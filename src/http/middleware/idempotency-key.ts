// Writes must name an Idempotency-Key; its format is checked by the route's header schema.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { ProblemError } from "../problem";

export const requireIdempotencyKey = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.header("idempotency-key") === undefined) {
    throw new ProblemError("idempotency_key_required", "Send an Idempotency-Key header (1 to 255 printable ASCII characters) with every write.");
  }
  await next();
});
