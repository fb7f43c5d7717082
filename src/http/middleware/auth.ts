// Bearer-token authentication for /v1, and the role check each route declares.
import { createMiddleware } from "hono/factory";
import { apiKeysFrom, findApiKey, roleAllows, type Role } from "../api-keys";
import type { AppEnv } from "../app-env";
import { ProblemError } from "../problem";

const TOKEN_LENGTH_MAX = 512;
const BEARER = /^Bearer +([\x21-\x7e]+)$/i;

/** 401 unless the request carries a token whose hash is configured in API_KEYS. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const match = BEARER.exec(c.req.header("authorization") ?? "");
  const token = match?.[1];
  const keys = apiKeysFrom(c.env.API_KEYS);
  const key = token !== undefined && token.length <= TOKEN_LENGTH_MAX && keys.length > 0 ? findApiKey(keys, token) : undefined;
  if (key === undefined) {
    throw new ProblemError("unauthorized", "Send Authorization: Bearer <token> with a token configured in API_KEYS.");
  }
  c.set("principal", { id: key.principal, role: key.role });
  await next();
});

/** 403 unless the authenticated principal's role is at least `required`. */
export function requireRole(required: Role) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get("principal");
    if (!roleAllows(principal.role, required)) {
      throw new ProblemError("forbidden", `This needs the ${required} role; the token has ${principal.role}.`);
    }
    await next();
  });
}
