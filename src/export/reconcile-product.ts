// Reconciles one product: the object rebuilds its cache from its ledger if they disagree, and
// D1's copy up to the watermark is compared with the ledger: sums chunk by chunk, and its hash
// chain recomputed from D1's own rows, which must end at the object's hash at the watermark.

import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import type { AuditDb } from "../d1/db";
import { fromD1Row, storedRowColumns } from "../d1/rows";
import { ledgerTransactions } from "../d1/tables";
import type { ReconcileReport } from "../durable/product-ledger/rpc";
import { checkChainPage, GENESIS_HASH } from "../ledger/hash-chain";
import { type ChunkSummary, type Divergence, firstDivergence } from "../ledger/reconcile";
import { ON_HAND_TYPES } from "../ledger/types";
import { RECONCILE_CHUNK_ROWS, RECONCILE_PAGE_ROWS, RECONCILE_RECOMPUTE_ROWS_MAX } from "../limits";

export interface ProductReconciliation {
  repaired: ReconcileReport["repaired"];
  divergence: Divergence | null;
}

const t = ledgerTransactions;
const onHandTypes = sql.join(
  ON_HAND_TYPES.map((type) => sql`${type}`),
  sql`, `,
);

export async function reconcileProduct(db: AuditDb, report: ReconcileReport, product_id: string): Promise<ProductReconciliation> {
  // The chain names the exact seq of a missing, altered, inserted or moved row; the chunk sums
  // also cover rows older than the recomputed window.
  const divergence = (await chainDivergence(db, report, product_id)) ?? (await sumsDivergence(db, report, product_id));
  return { repaired: report.repaired, divergence };
}

async function sumsDivergence(db: AuditDb, report: ReconcileReport, product_id: string): Promise<Divergence | null> {
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
  return firstDivergence(report.chunks, copy, RECONCILE_CHUNK_ROWS, report.watermark_seq);
}

/**
 * Recomputes D1's chain for the last RECONCILE_RECOMPUTE_ROWS_MAX rows up to the watermark (all
 * of them for most products); older rows are checked by linkage: each prev_hash is the hash
 * of the row before. Any row altered in D1 alone, without its hash, fails the recomputation.
 */
async function chainDivergence(db: AuditDb, report: ReconcileReport, product_id: string): Promise<Divergence | null> {
  const start = Math.max(0, report.watermark_seq - RECONCILE_RECOMPUTE_ROWS_MAX);
  if (start > 0) {
    const broken = await db.get<{ seq: number | null }>(sql`
      SELECT min(a.seq) AS seq FROM ${t} a LEFT JOIN ${t} b ON b.product_id = a.product_id AND b.seq = a.seq - 1
      WHERE a.product_id = ${product_id} AND a.seq <= ${start}
        AND (a.hash IS NULL OR (a.seq = 1 AND a.prev_hash IS NOT ${GENESIS_HASH}) OR (a.seq > 1 AND (b.hash IS NULL OR a.prev_hash IS NOT b.hash)))`);
    if (broken?.seq != null) return { from_seq: broken.seq, to_seq: broken.seq, detail: "D1's hash chain does not link here" };
  }
  let after_seq = start;
  let after_hash =
    start === 0
      ? GENESIS_HASH
      : ((
          await db
            .select({ hash: t.hash })
            .from(t)
            .where(and(eq(t.productId, product_id), eq(t.seq, start)))
            .get()
        )?.hash ?? "");
  while (after_seq < report.watermark_seq) {
    const rows = await db
      .select(storedRowColumns)
      .from(t)
      .where(and(eq(t.productId, product_id), gt(t.seq, after_seq), lte(t.seq, report.watermark_seq)))
      .orderBy(asc(t.seq))
      .limit(RECONCILE_PAGE_ROWS)
      .all();
    const check = checkChainPage(
      after_seq,
      after_hash,
      rows.map((row) => fromD1Row(product_id, row)),
    );
    if (check.first_bad_seq !== null)
      return { from_seq: check.first_bad_seq, to_seq: check.first_bad_seq, detail: "D1's row does not match its hash chain here" };
    if (rows.length === 0) break;
    after_seq = check.last_seq;
    after_hash = check.last_hash;
  }
  if (after_seq !== report.watermark_seq || after_hash !== report.watermark_hash) {
    return {
      from_seq: after_seq + 1,
      to_seq: report.watermark_seq,
      detail: "D1's chain does not end at the ledger's hash at the export watermark",
    };
  }
  return null;
}
