// POST /v1/transactions/batch: many independent writes, each idempotent under the batch key
// plus its index. Items of one product go to its object in order, in one call; products are
// called in parallel, at most PRODUCT_FANOUT_MAX at a time.
import { createRoute, type z } from "@hono/zod-openapi";
import type { WriteResult } from "../../durable/product-ledger/rpc";
import type { WriteCommand } from "../../ledger/types";
import { settleBounded } from "../../lib/map-bounded";
import { PRODUCT_FANOUT_MAX } from "../../limits";
import { requireRole } from "../middleware/auth";
import { requireIdempotencyKey } from "../middleware/idempotency-key";
import { jsonBody } from "../middleware/json-body";
import { refuseIfMatch } from "../middleware/no-if-match";
import { productLedger } from "../objects";
import { ProblemError } from "../problem";
import { problemOf } from "../problems";
import { BatchBody, BatchResponse, type BatchResult } from "../reservation-schemas";
import { createRouter } from "../router";
import { IdempotencyKeyHeader, problemResponses } from "../schemas";
import { writeCommandFor } from "./product-transactions";

const postBatch = createRoute({
  method: "post",
  path: "/transactions/batch",
  summary: "Apply many transactions over many products, each independently and idempotently",
  middleware: [
    requireRole("write"),
    requireIdempotencyKey,
    refuseIfMatch("give each item its own expected_version"),
    ...jsonBody(),
  ] as const,
  request: { headers: IdempotencyKeyHeader, body: { required: true, content: { "application/json": { schema: BatchBody } } } },
  responses: {
    200: { description: "One result per item, in the order given", content: { "application/json": { schema: BatchResponse } } },
    ...problemResponses(400, 401, 403, 413, 415),
  },
});

type ItemResult = z.infer<typeof BatchResult>;

export const batch = createRouter().openapi(postBatch, async (c) => {
  const { transactions } = c.req.valid("json");
  const batchKey = c.req.valid("header")["idempotency-key"];
  const principal = c.get("principal").id;

  const byProduct = new Map<string, { index: number; command: WriteCommand }[]>();
  transactions.forEach((item, index) => {
    const command = writeCommandFor(`${batchKey}:${index}`, principal, item.expected_version ?? null, item);
    byProduct.set(item.product_id, [...(byProduct.get(item.product_id) ?? []), { index, command }]);
  });

  const groups = [...byProduct];
  const settled = await settleBounded(
    groups,
    PRODUCT_FANOUT_MAX,
    async ([product_id, items]): Promise<WriteResult[]> =>
      await productLedger(c.env, product_id).writeEach(items.map((item) => item.command)),
  );

  const results: ItemResult[] = new Array(transactions.length);
  groups.forEach(([, items], group) => {
    const outcome = settled[group]!;
    items.forEach((item, position) => {
      results[item.index] =
        outcome.status === "fulfilled"
          ? itemResult(item.index, outcome.value[position]!)
          : unavailable(item.index, c.get("requestId"), outcome.reason);
    });
  });
  return c.json({ results }, 200);
});

function itemResult(index: number, result: WriteResult): ItemResult {
  if (!result.ok) {
    const problem = problemOf(result.error).problem;
    return { index, status: problem.status, error: problem };
  }
  return { index, status: result.replayed ? 200 : 201, transaction: result.transactions[0]!, stock: result.stock };
}

function unavailable(index: number, request_id: string, reason: unknown): ItemResult {
  console.error(JSON.stringify({ level: "error", request_id, message: "batch: product object failed", error: String(reason) }));
  return {
    index,
    status: 500,
    error: new ProblemError("internal_error", `This item was not applied; retry the batch with the same key. Request id ${request_id}.`)
      .problem,
  };
}
