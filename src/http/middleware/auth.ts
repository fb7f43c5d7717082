// Bearer-token authentication for /v1, and the role check each route declares.
import { createMiddleware } from "hono/factory";
import { BEARER_TOKEN_LENGTH_MAX } from "../../limits";
import { apiKeysFrom, findApiKey, type Role, roleAllows } from "../api-keys";
import type { AppEnv, Principal } from "../app-env";
import { ProblemError } from "../problem";

const BEARER = /^Bearer +([\x21-\x7e]+)$/i;

/** 401 unless the request carries a token whose hash is configured in API_KEYS. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const principal = principalFor(c.req.header("authorization"), c.env.API_KEYS);
  if (principal === undefined) {
    throw new ProblemError("unauthorized", "Send Authorization: Bearer <token> with a token configured in API_KEYS.");
  }
  c.set("principal", principal);
  await next();
});

/**
 * For the routes that take no bearer token (webhooks, authenticated by their signature): 401
 * all the same while API_KEYS configures no key, so that an unconfigured deployment accepts
 * nothing on /v1 (fail closed), as API.md says.
 */
export const requireConfiguredKeys = createMiddleware<AppEnv>(async (c, next) => {
  if (apiKeysFrom(c.env.API_KEYS).length === 0) {
    throw new ProblemError("unauthorized", "No API_KEYS are configured, so this service accepts no /v1 request (fail closed).");
  }
  await next();
});

/** Who an Authorization header authenticates, given the API_KEYS secret; undefined for nobody. */
export function principalFor(authorization: string | null | undefined, apiKeys: unknown): Principal | undefined {
  const token = BEARER.exec(authorization ?? "")?.[1];
  const keys = apiKeysFrom(apiKeys);
  const key = token !== undefined && token.length <= BEARER_TOKEN_LENGTH_MAX && keys.length > 0 ? findApiKey(keys, token) : undefined;
  return key === undefined ? undefined : { id: key.principal, role: key.role };
}

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
