// The zod schemas that validate requests AND generate /openapi.json: one source for both.
import { z } from "@hono/zod-openapi";
import { ID_PATTERN, ID_RULE, IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from "../ledger/ids";
import { DEFAULT_LOCATION_ID, TRANSACTION_TYPES } from "../ledger/types";
import {
  ACTOR_LENGTH_MAX,
  METADATA_BYTES_MAX,
  QUANTITY_MAX,
  QUANTITY_MIN,
  QUERY_INTEGER_DIGITS_MAX,
  REASON_LENGTH_MAX,
  TOTAL_MAX,
  TRANSACTIONS_PAGE_LIMIT_DEFAULT,
  TRANSACTIONS_PAGE_LIMIT_MAX,
} from "../limits";

export const ProductId = z.string().regex(ID_PATTERN, ID_RULE).openapi({ example: "sku-1" });
/** UTF-8 size of a value as JSON; absurdly deep nesting (which overflows the stack) counts as too big. */
function jsonBytes(value: unknown): number {
  try {
    return new TextEncoder().encode(JSON.stringify(value)).length;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export const ProductIdParams = z.object({ product_id: ProductId });
export const LocationId = z.string().regex(ID_PATTERN, ID_RULE).openapi({ example: DEFAULT_LOCATION_ID });
export const TransactionType = z.enum(TRANSACTION_TYPES);

export const Quantity = z.number().int().min(QUANTITY_MIN).max(QUANTITY_MAX);

/**
 * Free text that is stored as is (reason, actor): 1 to `length_max` characters of valid
 * Unicode. JSON allows an unpaired surrogate ("\ud800"); SQLite would store it as U+FFFD and
 * the row would no longer match its own hash, so it is refused here.
 */
export function storedText(length_max: number) {
  return z
    .string()
    .min(1)
    .max(length_max)
    .refine((text) => text.isWellFormed(), { message: "must be valid Unicode (an unpaired surrogate is not)" });
}
const Version = z.number().int().min(0).max(TOTAL_MAX);

/** Whether a JSON value has an object key "__proto__" anywhere; iterative, so no depth overflows the stack. */
function hasProtoKey(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== "object" || next === null) continue;
    if (!Array.isArray(next) && Object.hasOwn(next, "__proto__")) return true;
    pending.push(...Object.values(next));
  }
  return false;
}

/**
 * A JSON object, kept exactly as sent. z.record would silently drop a "__proto__" key (its
 * guard against prototype pollution), and the ledger would store something other than what
 * the client sent; such a key is refused instead, at any depth, which also spares every
 * consumer of the audit data from meeting one.
 */
const Metadata = z
  .custom<Record<string, unknown>>((value) => typeof value === "object" && value !== null && !Array.isArray(value), {
    message: "must be a JSON object",
  })
  .refine((value) => !hasProtoKey(value), { message: 'metadata may not contain a key named "__proto__"' })
  .refine((value) => jsonBytes(value) <= METADATA_BYTES_MAX, {
    message: `metadata must be at most ${METADATA_BYTES_MAX} bytes as JSON`,
  })
  .openapi({ type: "object", example: { channel: "web" } });

const commonFields = {
  reason: storedText(REASON_LENGTH_MAX).openapi({ example: "order-1001:line-1" }),
  location_id: LocationId.optional(),
  actor: storedText(ACTOR_LENGTH_MAX).optional(),
  metadata: Metadata.optional(),
  expected_version: Version.optional(),
};

export const MovementBody = z.strictObject({
  type: z.enum(["ADD", "REMOVE", "RETURN", "RESERVE", "RELEASE"]),
  quantity: Quantity,
  ...commonFields,
});

export const AdjustBody = z.strictObject({
  type: z.literal("ADJUST"),
  on_hand: z.number().int().min(0).max(TOTAL_MAX).openapi({ description: "The counted total at the location." }),
  ...commonFields,
});

export const TransactionBody = z.discriminatedUnion("type", [MovementBody, AdjustBody]).openapi("TransactionRequest");
export type TransactionBody = z.infer<typeof TransactionBody>;

const IdempotencyKey = z.string().regex(IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE);

export const IdempotencyKeyHeader = z.object({ "idempotency-key": IdempotencyKey });

export const WriteHeaders = z.object({
  "idempotency-key": IdempotencyKey,
  "if-match": z.string().optional().openapi({ example: '"17"' }),
});

export const Transaction = z
  .object({
    id: z.string(),
    product_id: z.string(),
    seq: z.number().int(),
    type: TransactionType,
    quantity: z.number().int().openapi({ description: "For ADJUST, the counted on_hand; otherwise the quantity moved." }),
    delta: z.number().int(),
    location_id: z.string(),
    reason: z.string(),
    created_by: z.string(),
    actor: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    reservation_id: z.string().nullable(),
    idempotency_key: z.string(),
    created_at: z.string(),
    prev_hash: z.string().openapi({ description: "The previous row's hash; 64 zeros for seq 1." }),
    hash: z.string().openapi({ description: "hex SHA-256 over prev_hash and the row's canonical encoding (README, Tamper evidence)." }),
  })
  .openapi("Transaction");

export const Stock = z
  .object({
    product_id: z.string(),
    on_hand: z.number().int(),
    reserved: z.number().int(),
    available: z.number().int(),
    version: z.number().int(),
    oversold: z.boolean(),
    updated_at: z.string().nullable(),
  })
  .openapi("Stock");

export const LocationStock = z.object({
  location_id: z.string(),
  on_hand: z.number().int(),
  reserved: z.number().int(),
  available: z.number().int(),
});

export const StockWithLocations = Stock.extend({
  locations: z.array(LocationStock),
  derived: z.literal(true).optional(),
}).openapi("StockWithLocations");

export const WriteResponse = z.object({ transaction: Transaction, stock: Stock }).openapi("TransactionWritten");

export const TransactionPage = z.object({ data: z.array(Transaction), next_after: z.number().int().nullable() }).openapi("TransactionPage");

/**
 * A whole number in a query string, from `min` to `max`. Decimal digits only: z.coerce would
 * read "" and " " as 0, "0x5" as 5, "1e1" as 10 and "+3" as 3, so `?at_version=` would
 * silently mean version 0.
 */
function queryInteger(min: number, max: number) {
  return z
    .string()
    .regex(new RegExp(`^[0-9]{1,${QUERY_INTEGER_DIGITS_MAX}}$`), `must be a whole number from ${min} to ${max}, in decimal digits`)
    .transform(Number)
    .pipe(z.number().min(min).max(max));
}

/** An optional whole number in a query string (see queryInteger). */
export function optionalQueryInteger(min: number, max: number) {
  return queryInteger(min, max).optional().openapi({ type: "integer", minimum: min, maximum: max });
}

/** A whole number in a query string (see queryInteger), `fallback` when absent; documented with it. */
export function queryIntegerOr(min: number, max: number, fallback: number) {
  return queryInteger(min, max).default(fallback).openapi({ type: "integer", minimum: min, maximum: max, default: fallback });
}

export const TransactionQuery = z.object({
  after: queryIntegerOr(0, TOTAL_MAX, 0),
  limit: queryIntegerOr(1, TRANSACTIONS_PAGE_LIMIT_MAX, TRANSACTIONS_PAGE_LIMIT_DEFAULT),
  type: TransactionType.optional(),
  reason: z.string().min(1).max(REASON_LENGTH_MAX).optional(),
  location_id: LocationId.optional(),
});

export const StockQuery = z.object({
  at_version: optionalQueryInteger(0, TOTAL_MAX),
  as_of: z.iso.datetime({ offset: true }).optional().openapi({ example: "2026-11-26T23:01:02.345Z" }),
});

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .openapi("Problem");

/** The problem+json responses a route documents, for the OpenAPI document; every route may also answer 500 internal_error. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    [...statuses, 500].map((status) => [
      status,
      { description: "Problem details (RFC 9457)", content: { "application/problem+json": { schema: Problem } } },
    ]),
  );
}
