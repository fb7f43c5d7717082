// Guards for JSON endpoints, before the schema validator reads the body: size, media type,
// and syntax, each with its own problem code.
import { createMiddleware } from "hono/factory";
import { REQUEST_BODY_BYTES_MAX } from "../../limits";
import type { AppEnv } from "../app-env";
import { ProblemError } from "../problem";
import { bodyNotRead } from "../read-body";
import { bodyWithin } from "./body-within";

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;.*)?$/i;

export function jsonBody(bytes_max: number = REQUEST_BODY_BYTES_MAX) {
  const parse = createMiddleware<AppEnv>(async (c, next) => {
    if (!JSON_MEDIA_TYPE.test(c.req.header("content-type") ?? "")) {
      throw new ProblemError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
    }
    // Hono caches the parsed body, so the schema validator's c.req.json() reuses this parse.
    try {
      await c.req.json();
    } catch (error) {
      // A syntax error is the client's malformed JSON; anything else here is the reading of a
      // body (with a trusted length, not read before) that broke off.
      if (!(error instanceof SyntaxError)) throw bodyNotRead();
      throw new ProblemError("invalid_request", "The body is not valid JSON.", { errors: [{ path: "body", message: "not valid JSON" }] });
    }
    await next();
  });
  return [bodyWithin(bytes_max), parse] as const;
}
