// Every response carries X-Request-Id: the caller's, when it looks like an id, else a new one.
import { createMiddleware } from "hono/factory";
import { REQUEST_ID_PATTERN } from "../../ledger/constants";
import type { AppEnv } from "../app-env";

export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  c.res.headers.set("X-Request-Id", id);
});
