// Every response carries X-Request-Id: the caller's, when it looks like an id, else a new one.
import { createMiddleware } from "hono/factory";
import { REQUEST_ID_LENGTH_MAX } from "../../limits";
import type { AppEnv } from "../app-env";

/** An incoming X-Request-Id is echoed only when it looks like an id, never arbitrary text. */
const REQUEST_ID_PATTERN = new RegExp(`^[A-Za-z0-9._:-]{1,${REQUEST_ID_LENGTH_MAX}}$`);

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
