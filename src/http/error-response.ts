// The one place an error becomes a response: the Hono app's onError.
import { HTTPException } from "hono/http-exception";
import { WEBHOOK_PROCESSING_LEASE_MS } from "../limits";
import { type ProblemCode, ProblemError, problemResponse } from "./problem";

/** Headers that a problem code always carries: a 401's challenge, when to come back after a 503. */
const HEADERS_BY_CODE: Partial<Record<ProblemCode, Record<string, string>>> = {
  unauthorized: { "WWW-Authenticate": 'Bearer realm="inventory-ledger"' },
  delivery_in_progress: { "Retry-After": String(WEBHOOK_PROCESSING_LEASE_MS / 1000) },
};

export function toErrorResponse(error: Error, request_id: string | undefined): Response {
  const headers: Record<string, string> = request_id === undefined ? {} : { "X-Request-Id": request_id };
  if (error instanceof ProblemError) return problemResponse(error.problem, { ...headers, ...HEADERS_BY_CODE[error.problem.code] });
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own guards (e.g. a malformed body) are client errors; answer 400, hide their text.
    return problemResponse(new ProblemError("invalid_request", "The request could not be read.").problem, headers);
  }
  // A bug or an infrastructure failure: log it with the request id, tell the client nothing more.
  console.error(JSON.stringify({ level: "error", request_id, name: error.name, message: error.message, stack: error.stack }));
  return problemResponse(
    new ProblemError("internal_error", `Unexpected error. Quote request id ${request_id ?? "unknown"} when reporting it.`).problem,
    headers,
  );
}
