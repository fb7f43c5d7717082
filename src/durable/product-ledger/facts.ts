// Facts reported by another system (webhooks) on this product: planFact (pure, in the ledger)
// decides from what the ledger already knows whether to write, skip or remember; this carries
// the plan out in the same transaction.

import { type FactOp, planFact } from "../../ledger/facts";
import { assertInvariant } from "../../ledger/invariants";
import { err, ok } from "../../ledger/result";
import { scopedKey } from "../../ledger/types";
import * as history from "./history";
import * as holdsStore from "./holds-store";
import type { FactResult } from "./rpc";
import * as store from "./store";
import type { LedgerWriter } from "./writer";

/** Applies one fact, in one transaction. Its key lives in the webhook key space, apart from clients' keys. */
export function applyFact(writer: LedgerWriter, principal: string, op: FactOp): FactResult {
  const { sql, product_id } = writer;
  assertInvariant(op.product_id === product_id, `object of ${product_id} received a fact for ${op.product_id}`);
  return writer.atomically((): FactResult => {
    const base = { product_id: op.product_id, key: op.key };
    const plan = planFact(op, {
      keyUsed: (key) => store.isKeyUsed(sql, scopedKey("webhook", key)),
      cancellationRemembered: (key) => holdsStore.isCancellationRemembered(sql, key),
      firstRow: (key) => history.firstRowOfKey(sql, product_id, scopedKey("webhook", key)),
    });
    switch (plan.kind) {
      case "skip_cancelled":
        return ok({ ...base, status: "skipped_cancelled" });
      case "duplicate":
        return ok({ ...base, status: "duplicate" });
      case "remember_cancellation":
        holdsStore.rememberCancellation(sql, op.key, writer.nowIso());
        return ok({ ...base, status: "cancel_remembered" });
      case "write": {
        const result = writer.write({
          idempotency_key: op.key,
          key_scope: "webhook",
          principal,
          expected_version: null,
          is_fact: true,
          requests: [plan.request],
        });
        if (!result.ok) return err({ ...base, code: result.error.code });
        return ok({ ...base, status: result.replayed ? "duplicate" : "applied", seq: result.transactions[0]!.seq });
      }
    }
  });
}
