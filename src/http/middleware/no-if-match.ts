// If-Match on a write route that has no version check is refused (400), not ignored: the client
// believes it made a check. Only POST /v1/products/{id}/transactions takes If-Match.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { invalidRequest } from "../problem";

export function refuseIfMatch(instead: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.header("if-match") !== undefined)
      throw invalidRequest([{ path: "header.if-match", message: `not supported on this route: ${instead}` }]);
    await next();
  });
}
