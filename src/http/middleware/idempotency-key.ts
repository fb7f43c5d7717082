// Writes must name an Idempotency-Key; its format is checked by the route's header schema.
import { createMiddleware } from "hono/factory";
import { IDEMPOTENCY_KEY_RULE } from "../../ledger/ids";
import type { AppEnv } from "../app-env";
import { ProblemError } from "../problem";

export const requireIdempotencyKey = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.header("idempotency-key") === undefined) {
    throw new ProblemError("idempotency_key_required", `Send an Idempotency-Key header (${IDEMPOTENCY_KEY_RULE}) with every write.`);
  }
  await next();
});
