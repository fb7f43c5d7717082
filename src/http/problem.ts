// RFC 9457 problem details. Every error a client sees is one of these, with a stable `code`.
// Handlers and middleware throw ProblemError; the one onError in app.ts writes it to the wire.

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export type ProblemCode =
  | "invalid_request"
  | "idempotency_key_required"
  | "unauthorized"
  | "invalid_signature"
  | "forbidden"
  | "not_found"
  | "insufficient_stock"
  | "insufficient_reserved"
  | "reservation_not_active"
  | "reservation_exists"
  | "version_conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "idempotency_key_reused"
  | "limit_exceeded"
  | "internal_error"
  | "delivery_in_progress"
  | "subscription_url_refused"
  | "conflict"
  | "rate_limited";

const STATUS_AND_TITLE: Record<ProblemCode, [number, string]> = {
  invalid_request: [400, "The request is not valid"],
  idempotency_key_required: [400, "An Idempotency-Key header is required"],
  unauthorized: [401, "Authentication is required"],
  invalid_signature: [401, "The webhook signature is not valid"],
  forbidden: [403, "The token's role does not allow this"],
  not_found: [404, "Not found"],
  insufficient_stock: [409, "Not enough stock is available"],
  insufficient_reserved: [409, "Not enough stock is reserved"],
  reservation_not_active: [409, "The reservation is no longer held"],
  reservation_exists: [409, "A reservation with this id already exists"],
  version_conflict: [412, "The product's version has changed"],
  payload_too_large: [413, "The request body is too large"],
  unsupported_media_type: [415, "The request body must be JSON"],
  idempotency_key_reused: [422, "The Idempotency-Key was already used for a different request"],
  limit_exceeded: [422, "A limit would be exceeded"],
  subscription_url_refused: [400, "The subscription's URL is not allowed"],
  conflict: [409, "The request conflicts with the resource's state"],
  rate_limited: [429, "Too many requests"],
  internal_error: [500, "Internal error"],
  // Not in API.md's list: a webhook copy that arrived while the first copy is being applied.
  delivery_in_progress: [503, "This webhook delivery is still being applied"],
};

export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  readonly problem: Problem;

  constructor(code: ProblemCode, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    const [status, title] = STATUS_AND_TITLE[code];
    // Extensions come first so none can overwrite a standard member (an extension named
    // `status` once turned a 409 into an invalid status code).
    this.problem = { ...extensions, type: `urn:inventory-ledger:problem:${code}`, title, status, detail, code };
  }
}

export function invalidRequest(errors: FieldError[]): ProblemError {
  const detail = errors.map((error) => `${error.path}: ${error.message}`).join("; ");
  return new ProblemError("invalid_request", detail, { errors });
}

export function problemResponse(problem: Problem, headers: HeadersInit = {}): Response {
  const response = new Response(JSON.stringify(problem), { status: problem.status, headers });
  response.headers.set("Content-Type", PROBLEM_CONTENT_TYPE);
  return response;
}
