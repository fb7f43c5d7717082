// POST and GET /v1/products/{product_id}/transactions: append to and page through the ledger.
import { createRoute } from "@hono/zod-openapi";
import { DEFAULT_LOCATION_ID } from "../../ledger/constants";
import type { JsonObject, TransactionRequest, WriteCommand } from "../../ledger/types";
import { failureToProblem } from "../ledger-failure";
import { productLedger } from "../ledger-stub";
import { requireRole } from "../middleware/auth";
import { requireIdempotencyKey } from "../middleware/idempotency-key";
import { jsonBody } from "../middleware/json-body";
import { invalidRequest } from "../problem";
import { createRouter } from "../router";
import { ProductIdParams, problemResponses, TransactionBody, TransactionPage, TransactionQuery, WriteHeaders, WriteResponse } from "../schemas";

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
    200: { description: "Replayed: the first success's body, with Idempotent-Replayed: true", content: { "application/json": { schema: WriteResponse } } },
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
    const command: WriteCommand = {
      product_id,
      idempotency_key: c.req.valid("header")["idempotency-key"],
      principal: c.get("principal").id,
      expected_version: expectedVersion(c.req.valid("header")["if-match"], body.expected_version),
      is_fact: false,
      requests: [toTransactionRequest(body)],
    };
    const result = await productLedger(c.env, product_id).write(command);
    if (!result.ok) throw failureToProblem(result.failure, result.stock);
    const response = { transaction: result.transactions[0]!, stock: result.stock };
    if (result.replayed) {
      c.header("Idempotent-Replayed", "true");
      return c.json(response, 200);
    }
    return c.json(response, 201);
  })
  .openapi(listTransactions, async (c) => {
    const { product_id } = c.req.valid("param");
    const page = await productLedger(c.env, product_id).transactions(product_id, c.req.valid("query"));
    return c.json(page, 200);
  });

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
