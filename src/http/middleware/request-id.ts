// Every response carries X-Request-Id: the caller's, when it looks like an id, else a new one.
import { createMiddleware } from "hono/factory";
import { REQUEST_ID_PATTERN } from "../../ledger/constants";
import type { AppEnv } from "../app-env";

export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = requestIdFor(c.req.header("x-request-id"));
  c.set("requestId", id);
  await next();
  c.res.headers.set("X-Request-Id", id);
});

/** The caller's X-Request-Id when it looks like an id, else a new one. */
export function requestIdFor(incoming: string | null | undefined): string {
  return incoming != null && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
}
