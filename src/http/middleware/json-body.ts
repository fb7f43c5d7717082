// Guards for JSON endpoints, before the schema validator reads the body: size, media type,
// and syntax, each with its own problem code.
import { createMiddleware } from "hono/factory";
import { REQUEST_BODY_BYTES_MAX } from "../../ledger/constants";
import type { AppEnv } from "../app-env";
import { ProblemError } from "../problem";
import { readAtMost } from "../read-body";

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;.*)?$/i;

/**
 * 413 for a body over `bytes_max`: by its Content-Length, or, for a body sent without one, by
 * reading it (at most `bytes_max` bytes are kept; see readAtMost). Also on routes that take no
 * body (commit, release, starting a run), which ignore one within the limit.
 */
export function bodyWithin(bytes_max: number = REQUEST_BODY_BYTES_MAX) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const raw = c.req.raw;
    if (raw.body === null) return next();
    const declared = raw.headers.get("content-length");
    if (declared !== null && !raw.headers.has("transfer-encoding")) {
      if (Number(declared) > bytes_max) throw payloadTooLarge(bytes_max);
      return next();
    }
    const bytes = await readAtMost(raw.body, bytes_max);
    if (bytes === undefined) throw payloadTooLarge(bytes_max);
    c.req.raw = new Request(raw, { body: bytes });
    return next();
  });
}

export function jsonBody(bytes_max: number = REQUEST_BODY_BYTES_MAX) {
  const limit = bodyWithin(bytes_max);
  const parse = createMiddleware<AppEnv>(async (c, next) => {
    if (!JSON_MEDIA_TYPE.test(c.req.header("content-type") ?? "")) {
      throw new ProblemError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
    }
    // Hono caches the parsed body, so the schema validator's c.req.json() reuses this parse.
    try {
      await c.req.json();
    } catch (error) {
      // Only a syntax error is the client's malformed JSON; a body over the limit stays a 413.
      if (!(error instanceof SyntaxError)) throw error;
      throw new ProblemError("invalid_request", "The body is not valid JSON.", { errors: [{ path: "body", message: "not valid JSON" }] });
    }
    await next();
  });
  return [limit, parse] as const;
}

export function payloadTooLarge(bytes_max: number): ProblemError {
  return new ProblemError("payload_too_large", `Request bodies are limited to ${bytes_max} bytes.`);
}
