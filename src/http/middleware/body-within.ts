// The size limit on request bodies (413), for every /v1 POST: JSON routes, webhooks, and the
// routes that take no body (commit, release, starting a run), which ignore one within it.
import { createMiddleware } from "hono/factory";
import { REQUEST_BODY_BYTES_MAX } from "../../limits";
import type { AppEnv } from "../app-env";
import { ProblemError } from "../problem";
import { declaredLength, readAtMost } from "../read-body";

/**
 * 413 for a body over `bytes_max`: by a trustworthy Content-Length, or else by reading it (at
 * most `bytes_max` bytes are kept; see readAtMost), after which the route reads the bytes read.
 */
export function bodyWithin(bytes_max: number = REQUEST_BODY_BYTES_MAX) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const raw = c.req.raw;
    if (raw.body === null) return next();
    const declared = declaredLength(raw.headers);
    if (declared !== undefined) {
      if (declared > bytes_max) throw payloadTooLarge(bytes_max);
      return next();
    }
    const bytes = await readAtMost(raw.body, bytes_max);
    if (bytes === undefined) throw payloadTooLarge(bytes_max);
    c.req.raw = new Request(raw, { body: bytes });
    return next();
  });
}

export function payloadTooLarge(bytes_max: number): ProblemError {
  return new ProblemError("payload_too_large", `Request bodies are limited to ${bytes_max} bytes.`);
}
