// Applies an event's operations: each product's object is called once with its operations in
// order, products in parallel, at most PRODUCT_FANOUT_MAX at a time.

import type { WebhookOpResult } from "../durable/product-ledger-rpc";
import { PRODUCT_FANOUT_MAX } from "../ledger/constants";
import { settleBounded } from "../lib/map-bounded";
import type { WebhookOp } from "./events";

export type ApplyOutcome =
  | { ok: true; results: WebhookOpResult[] }
  /** Some product object could not be reached; what did apply is kept and a retry finishes the rest. */
  | { ok: false; results: (WebhookOpResult | { product_id: string; key: string; status: "unavailable" })[] };

export async function applyOperations(env: Env, source_id: string, ops: readonly WebhookOp[]): Promise<ApplyOutcome> {
  const byProduct = new Map<string, number[]>();
  ops.forEach((op, index) => byProduct.set(op.product_id, [...(byProduct.get(op.product_id) ?? []), index]));
  const groups = [...byProduct];
  const settled = await settleBounded(groups, PRODUCT_FANOUT_MAX, async ([product_id, indexes]): Promise<WebhookOpResult[]> =>
    await env.PRODUCT_LEDGER.getByName(product_id).applyWebhookOps(
      principalOf(source_id),
      indexes.map((index) => ops[index]!),
    ),
  );

  const results: ApplyOutcome["results"] = new Array(ops.length);
  let ok = true;
  groups.forEach(([product_id, indexes], group) => {
    const outcome = settled[group]!;
    if (outcome.status === "rejected") {
      ok = false;
      console.error(JSON.stringify({ level: "error", message: "webhook: product object failed", source_id, product_id, error: String(outcome.reason) }));
    }
    indexes.forEach((index, position) => {
      results[index] = outcome.status === "fulfilled" ? outcome.value[position]! : { product_id, key: ops[index]!.key, status: "unavailable" };
    });
  });
  return ok ? { ok: true, results: results as WebhookOpResult[] } : { ok: false, results };
}

/** Rows written for a source carry this as created_by. */
export function principalOf(source_id: string): string {
  return `webhook:${source_id}`;
}
