// Applies an event's facts: each product's object is called once with its facts in order,
// products in parallel, at most PRODUCT_FANOUT_MAX at a time. Each fact's outcome becomes a line
// of the webhook's answer.

import type { FactOp, FactResult, FactStatus } from "../durable/product-ledger/rpc";
import { settleBounded } from "../lib/map-bounded";
import { PRODUCT_FANOUT_MAX } from "../limits";

/** One fact's line in the answer and in the delivery log. */
export type FactLine = {
  product_id: string;
  key: string;
  /** refused: the ledger refused it (`error` says why); unavailable: its object could not be reached. */
  status: FactStatus | "refused" | "unavailable";
  seq?: number;
  error?: string;
};

export type ApplyOutcome =
  | { ok: true; results: FactLine[] }
  /** Some product object could not be reached; what did apply is kept and a retry finishes the rest. */
  | { ok: false; results: FactLine[] };

export async function applyFacts(env: Env, source_id: string, ops: readonly FactOp[]): Promise<ApplyOutcome> {
  const byProduct = new Map<string, number[]>();
  ops.forEach((op, index) => {
    byProduct.set(op.product_id, [...(byProduct.get(op.product_id) ?? []), index]);
  });
  const groups = [...byProduct];
  const settled = await settleBounded(
    groups,
    PRODUCT_FANOUT_MAX,
    async ([product_id, indexes]): Promise<FactResult[]> =>
      await env.PRODUCT_LEDGER.getByName(product_id).applyFacts(
        principalOf(source_id),
        indexes.map((index) => ops[index]!),
      ),
  );

  const results: FactLine[] = new Array(ops.length);
  let ok = true;
  groups.forEach(([product_id, indexes], group) => {
    const outcome = settled[group]!;
    if (outcome.status === "rejected") {
      ok = false;
      console.error(
        JSON.stringify({ level: "error", message: "webhook: product object failed", source_id, product_id, error: String(outcome.reason) }),
      );
    }
    indexes.forEach((index, position) => {
      results[index] =
        outcome.status === "fulfilled" ? lineOf(outcome.value[position]!) : { product_id, key: ops[index]!.key, status: "unavailable" };
    });
  });
  return { ok, results };
}

function lineOf(result: FactResult): FactLine {
  if (!result.ok) return { product_id: result.error.product_id, key: result.error.key, status: "refused", error: result.error.code };
  const { product_id, key, status, seq } = result;
  return seq === undefined ? { product_id, key, status } : { product_id, key, status, seq };
}

/** Rows written for a source carry this as created_by. */
export function principalOf(source_id: string): string {
  return `webhook:${source_id}`;
}
