// POST and GET /v1/products/{product_id}/transactions: append to and page through the ledger.
import { createRoute } from "@hono/zod-openapi";
import type { WriteResult } from "../../durable/product-ledger/rpc";
import {
  DEFAULT_LOCATION_ID,
  type JsonObject,
  type Stock,
  type Transaction,
  type TransactionRequest,
  type WriteCommand,
} from "../../ledger/types";
import { requireRole } from "../middleware/auth";
import { requireIdempotencyKey } from "../middleware/idempotency-key";
import { jsonBody } from "../middleware/json-body";
import { productLedger } from "../objects";
import { invalidRequest } from "../problem";
import { unwrap } from "../problems";
import { createRouter } from "../router";
import {
  ProductIdParams,
  problemResponses,
  TransactionBody,
  TransactionPage,
  TransactionQuery,
  WriteHeaders,
  WriteResponse,
} from "../schemas";

const postTransaction = createRoute({
  method: "post",
  path: "/products/{product_id}/transactions",
  summary: "Append a transaction to a product's ledger",
  middleware: [requireRole("write"), requireIdempotencyKey, ...jsonBody()] as const,
  request: {
    params: ProductIdParams,
    headers: WriteHeaders,
    body: { required: true, content: { "application/json": { schema: TransactionBody } } },
  },
  responses: {
    201: { description: "Written", content: { "application/json": { schema: WriteResponse } } },
    200: {
      description: "Replayed: the first success's body, with Idempotent-Replayed: true",
      content: { "application/json": { schema: WriteResponse } },
    },
    ...problemResponses(400, 401, 403, 409, 412, 413, 415, 422),
  },
});

const listTransactions = createRoute({
  method: "get",
  path: "/products/{product_id}/transactions",
  summary: "Page through a product's ledger in ascending seq",
  middleware: [requireRole("read")] as const,
  request: { params: ProductIdParams, query: TransactionQuery },
  responses: {
    200: { description: "One page", content: { "application/json": { schema: TransactionPage } } },
    ...problemResponses(400, 401, 403),
  },
});

export const productTransactions = createRouter()
  .openapi(postTransaction, async (c) => {
    const { product_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const headers = c.req.valid("header");
    const expected_version = expectedVersion(headers["if-match"], body.expected_version);
    const command = writeCommandFor(headers["idempotency-key"], c.get("principal").id, expected_version, body);
    const answer = writeAnswer(await productLedger(c.env, product_id).write(command));
    return c.json(answer.body, answer.status, answer.headers);
  })
  .openapi(listTransactions, async (c) => {
    const { product_id } = c.req.valid("param");
    const { data, next_after } = await productLedger(c.env, product_id).transactions(c.req.valid("query"));
    return c.json({ data, next_after }, 200);
  });

/** The command a validated POST /transactions asks the product's object to carry out. */
export function writeCommandFor(
  idempotency_key: string,
  principal: string,
  expected_version: number | null,
  body: TransactionBody,
): WriteCommand {
  return { idempotency_key, principal, expected_version, is_fact: false, requests: [toTransactionRequest(body)] };
}

/**
 * The answer to a write: 201 with the new row and the stock, 200 with the first answer and
 * Idempotent-Replayed: true for a replay, or the refusal as a thrown problem.
 */
export function writeAnswer(result: WriteResult): {
  status: 200 | 201;
  body: { transaction: Transaction; stock: Stock };
  headers: Record<string, string>;
} {
  const written = unwrap(result);
  const body = { transaction: written.transactions[0]!, stock: written.stock };
  return written.replayed ? { status: 200, body, headers: { "Idempotent-Replayed": "true" } } : { status: 201, body, headers: {} };
}

export function toTransactionRequest(body: TransactionBody): TransactionRequest {
  return {
    type: body.type,
    quantity: body.type === "ADJUST" ? body.on_hand : body.quantity,
    location_id: body.location_id ?? DEFAULT_LOCATION_ID,
    reason: body.reason,
    actor: body.actor ?? null,
    // Parsed from JSON by the validator, so every value in it is a JSON value.
    metadata: (body.metadata as JsonObject | undefined) ?? null,
    reservation_id: null,
  };
}

/** `If-Match: "17"` and `expected_version: 17` mean the same; given both, they must agree. */
export function expectedVersion(ifMatch: string | undefined, fromBody: number | undefined): number | null {
  let fromHeader: number | undefined;
  if (ifMatch !== undefined) {
    const match = /^\s*"(\d{1,16})"\s*$/.exec(ifMatch);
    if (match === null) throw invalidRequest([{ path: "header.if-match", message: 'expected a quoted version, e.g. "17"' }]);
    fromHeader = Number(match[1]);
  }
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw invalidRequest([{ path: "body.expected_version", message: "differs from If-Match" }]);
  }
  return fromHeader ?? fromBody ?? null;
}
