// POST /v1/products/{product_id}/transactions without the framework: the route a flash sale
// hammers. Through Hono, the middleware chain, three validators and zod took about 5-10% of the
// CPU of every write (README, Performance), so the worker tries this first.
//
// It answers only a request the Hono app would accept, and answers it exactly as the app would.
// Anything it is not sure of (no token, a read-only token, If-Match, metadata, a body that is not
// plainly valid...) is handed to the app unchanged, which answers it as always, with its precise
// problem. test/unit/write-fast-path.test.ts checks that every body accepted here is accepted by
// the zod schema with the same value; test/integration/write-fast-path.test.ts that the app and
// this path give the same responses.

import { ACTOR_LENGTH_MAX, ID_PATTERN, IDEMPOTENCY_KEY_PATTERN, QUANTITY_MAX, QUANTITY_MIN, REASON_LENGTH_MAX, REQUEST_BODY_BYTES_MAX, TOTAL_MAX } from "../ledger/constants";
import type { TransactionBody } from "./schemas";
import { roleAllows } from "./api-keys";
import { toErrorResponse } from "./error-response";
import { productLedger } from "./ledger-stub";
import { principalFor } from "./middleware/auth";
import { payloadTooLarge } from "./middleware/body-within";
import { declaredLength, readBody } from "./read-body";
import { requestIdFor } from "./middleware/request-id";
import { writeAnswer, writeCommandFor } from "./routes/product-transactions";

const PLAIN_JSON_CONTENT_TYPE = /^application\/json(?:; ?charset=[A-Za-z0-9-]+)?$/i;
const TRANSACTIONS_PATH = /^\/v1\/products\/([^/]+)\/transactions$/;
const MOVEMENT_TYPES: ReadonlySet<unknown> = new Set(["ADD", "REMOVE", "RETURN", "RESERVE", "RELEASE"]);
// U+FFFD for bad bytes, as Body.json() decodes. A leading BOM is kept, so JSON.parse fails and
// the app decides (whether Body.json() drops it depends on the compatibility date).
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set(["reason", "location_id", "actor", "expected_version"]);

/**
 * The response to a plainly valid write, or the request to give to the Hono app: the same one,
 * or, once the body has been read here, a copy carrying it.
 */
export async function writeFastPath(request: Request, env: Env): Promise<Response | Request> {
  if (request.method !== "POST") return request;
  const product_id = TRANSACTIONS_PATH.exec(pathOf(request.url))?.[1];
  if (product_id === undefined || !ID_PATTERN.test(product_id)) return request;
  const headers = request.headers;
  const idempotency_key = headers.get("idempotency-key");
  if (
    idempotency_key === null ||
    !IDEMPOTENCY_KEY_PATTERN.test(idempotency_key) ||
    headers.has("if-match") ||
    !isPlainJsonMediaType(headers.get("content-type")) ||
    declaredTooLarge(headers)
  ) {
    return request;
  }
  // After the header checks: a request handed to the app here has its token hashed only there.
  const principal = principalFor(headers.get("authorization"), env.API_KEYS);
  if (principal === undefined || !roleAllows(principal.role, "write")) return request;

  const request_id = requestIdFor(headers.get("x-request-id"));
  // A body that declares no length (chunked, or a Request built in code) is counted as it is
  // read, and refused past the limit as the app's body-limit guard refuses it.
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readBody(request, REQUEST_BODY_BYTES_MAX);
  } catch (error) {
    return toErrorResponse(error instanceof Error ? error : new Error(String(error)), request_id);
  }
  if (bytes === undefined) return toErrorResponse(payloadTooLarge(REQUEST_BODY_BYTES_MAX), request_id);
  const body = certainTransactionBody(parsedOrUndefined(utf8.decode(bytes)));
  if (body === undefined) return new Request(request.url, { method: request.method, headers, body: bytes });

  try {
    const command = writeCommandFor(product_id, idempotency_key, principal.id, body.expected_version ?? null, body);
    const answer = writeAnswer(await productLedger(env, product_id).write(command));
    return Response.json(answer.body, { status: answer.status, headers: { ...answer.headers, "X-Request-Id": request_id } });
  } catch (error) {
    return toErrorResponse(error instanceof Error ? error : new Error(String(error)), request_id);
  }
}

/**
 * The body as the schema would parse it, when it is certainly valid; otherwise undefined, and
 * the schema decides (and explains). Bodies with metadata always go to the schema.
 */
export function certainTransactionBody(value: unknown): TransactionBody | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const body = value as Record<string, unknown>;
  const amount_field = body.type === "ADJUST" ? "on_hand" : MOVEMENT_TYPES.has(body.type) ? "quantity" : undefined;
  if (amount_field === undefined) return undefined;
  for (const field of Object.keys(body)) {
    if (field !== "type" && field !== amount_field && !OPTIONAL_FIELDS.has(field)) return undefined;
  }
  const amount = body[amount_field];
  const [amount_min, amount_max] = amount_field === "on_hand" ? [0, TOTAL_MAX] : [QUANTITY_MIN, QUANTITY_MAX];
  if (!isIntegerIn(amount, amount_min, amount_max) || !isStoredText(body.reason, REASON_LENGTH_MAX)) return undefined;
  if ("location_id" in body && !(typeof body.location_id === "string" && ID_PATTERN.test(body.location_id))) return undefined;
  if ("actor" in body && !isStoredText(body.actor, ACTOR_LENGTH_MAX)) return undefined;
  if ("expected_version" in body && !isIntegerIn(body.expected_version, 0, TOTAL_MAX)) return undefined;
  return body as TransactionBody;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** What storedText() in schemas.ts accepts: 1 to `length_max` UTF-16 units of valid Unicode. */
function isStoredText(value: unknown, length_max: number): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= length_max && value.isWellFormed();
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * `application/json`, alone or with a charset: a form that every gate of the app accepts (the
 * json-body guard, hono's validator, and @hono/zod-openapi's own content-type check, which
 * refuses for example a trailing ";" or a parameter without a value). Other forms go to the app.
 */
function isPlainJsonMediaType(content_type: string | null): boolean {
  return content_type !== null && PLAIN_JSON_CONTENT_TYPE.test(content_type);
}

/** A Content-Length over the limit, or one that cannot be trusted: the app's body-limit guard decides those. */
function declaredTooLarge(headers: Headers): boolean {
  if (!headers.has("content-length")) return false;
  const declared = declaredLength(headers);
  return declared === undefined || declared > REQUEST_BODY_BYTES_MAX;
}

/** The URL's path as hono reads it; a percent-encoded one is left to hono, which decodes it. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf(":") + 3);
  let end = start;
  while (end < url.length && url[end] !== "?" && url[end] !== "#") end++;
  const path = url.slice(start, end);
  return path.includes("%") ? "" : path;
}
