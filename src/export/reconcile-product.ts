// Reconciles one product: the object rebuilds its cache from its ledger if they disagree, and
// D1's copy up to the watermark is compared with the ledger chunk by chunk.

import { and, eq, lte, sql } from "drizzle-orm";
import { RECONCILE_CHUNK_ROWS } from "../ledger/constants";
import { firstDivergence, type ChunkSummary, type Divergence } from "../ledger/reconcile";
import { ON_HAND_TYPES } from "../ledger/types";
import { ledgerTransactions } from "./audit-tables";
import type { AuditDb } from "./d1-writer";
import type { ReconcileReport } from "../durable/product-ledger";

export interface ProductReconciliation {
  repaired: ReconcileReport["repaired"];
  divergence: Divergence | null;
}

const onHandTypes = sql.join(ON_HAND_TYPES.map((type) => sql`${type}`), sql`, `);

export async function reconcileProduct(db: AuditDb, report: ReconcileReport, product_id: string): Promise<ProductReconciliation> {
  const t = ledgerTransactions;
  const copy: ChunkSummary[] = await db
    .select({
      chunk: sql<number>`cast((${t.seq} - 1) / ${RECONCILE_CHUNK_ROWS} as integer)`,
      rows: sql<number>`count(*)`,
      delta_sum: sql<number>`sum(${t.delta})`,
      on_hand_delta_sum: sql<number>`sum(case when ${t.type} in (${onHandTypes}) then ${t.delta} else 0 end)`,
      quantity_sum: sql<number>`sum(${t.quantity})`,
      seq_sum: sql<number>`sum(${t.seq})`,
    })
    .from(t)
    .where(and(eq(t.productId, product_id), lte(t.seq, report.watermark_seq)))
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .all();
  return { repaired: report.repaired, divergence: firstDivergence(report.chunks, copy, RECONCILE_CHUNK_ROWS, report.watermark_seq) };
}
