// The delivery log in D1: claim a delivery before applying it, record how it ended, list it.
import { and, desc, eq, lt, notInArray, sql, type SQL } from "drizzle-orm";
import type { AuditDb } from "../export/d1-writer";
import { webhookDeliveries } from "../export/audit-tables";
import { WEBHOOK_IN_PROGRESS_POLL_MS, WEBHOOK_IN_PROGRESS_WAIT_MS, WEBHOOK_PROCESSING_LEASE_MS } from "../ledger/constants";

export type DeliveryStatus = "processing" | "applied" | "ignored" | "rejected" | "failed";

export type Claim =
  /** Seen before and finished: answer `duplicate` with the stored result, write nothing. */
  | { kind: "done"; status: DeliveryStatus; result: unknown }
  /** New, or seen before but not finished (failed halfway, rejected, or a run whose lease ran out). */
  | { kind: "apply" }
  /** Another copy is being applied right now, within its lease. */
  | { kind: "in_progress" };

/**
 * Claims the delivery for this request, unless it already finished or another copy of it is
 * being applied within its lease (WEBHOOK_PROCESSING_LEASE_MS): two copies applied at once would
 * both answer `applied`, and the later one's results (all `duplicate`) would replace the first's.
 */
export async function claimDelivery(db: AuditDb, source_id: string, webhook_id: string, type: string, now: string): Promise<Claim> {
  const leaseStartedBefore = new Date(Date.parse(now) - WEBHOOK_PROCESSING_LEASE_MS).toISOString();
  const [inserted, existing] = await db.batch([
    db
      .insert(webhookDeliveries)
      .values({ sourceId: source_id, webhookId: webhook_id, type, status: "processing", attempts: 1, receivedAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [webhookDeliveries.sourceId, webhookDeliveries.webhookId],
        set: { attempts: sql`${webhookDeliveries.attempts} + 1`, updatedAt: now },
        setWhere: sql`${webhookDeliveries.status} NOT IN ('applied', 'ignored') AND (${webhookDeliveries.status} <> 'processing' OR ${webhookDeliveries.updatedAt} < ${leaseStartedBefore})`,
      })
      .returning({ seq: webhookDeliveries.deliverySeq }),
    db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.sourceId, source_id), eq(webhookDeliveries.webhookId, webhook_id))),
  ]);
  const row = existing[0];
  if (inserted.length > 0 || row === undefined) return { kind: "apply" };
  if (row.status === "applied" || row.status === "ignored") {
    return { kind: "done", status: row.status, result: row.result === null ? null : (JSON.parse(row.result) as unknown) };
  }
  return { kind: "in_progress" };
}

/**
 * claimDelivery, waiting while another copy is in progress (up to WEBHOOK_IN_PROGRESS_WAIT_MS)
 * for its outcome: `done` once it finished, or the claim once it failed or its lease ran out.
 */
export async function claimOrWait(db: AuditDb, source_id: string, webhook_id: string, type: string): Promise<Claim> {
  const deadline = Date.now() + WEBHOOK_IN_PROGRESS_WAIT_MS;
  let claim = await claimDelivery(db, source_id, webhook_id, type, new Date().toISOString());
  while (claim.kind === "in_progress" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, WEBHOOK_IN_PROGRESS_POLL_MS));
    claim = await claimDelivery(db, source_id, webhook_id, type, new Date().toISOString());
  }
  return claim;
}

/** Records how the delivery ended; never over a delivery that already finished as applied or ignored. */
export async function finishDelivery(db: AuditDb, source_id: string, webhook_id: string, status: DeliveryStatus, result: unknown, now: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status, result: JSON.stringify(result), updatedAt: now })
    .where(and(eq(webhookDeliveries.sourceId, source_id), eq(webhookDeliveries.webhookId, webhook_id), notInArray(webhookDeliveries.status, ["applied", "ignored"])))
    .run();
}

export async function listDeliveries(db: AuditDb, filter: { source_id?: string | undefined; after?: number | undefined; limit: number }) {
  const where: SQL[] = [];
  if (filter.source_id !== undefined) where.push(eq(webhookDeliveries.sourceId, filter.source_id));
  if (filter.after !== undefined) where.push(lt(webhookDeliveries.deliverySeq, filter.after));
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.deliverySeq))
    .limit(filter.limit + 1)
    .all();
  const page = rows.slice(0, filter.limit);
  return {
    data: page.map((row) => ({
      seq: row.deliverySeq,
      id: row.webhookId,
      source_id: row.sourceId,
      type: row.type,
      status: row.status,
      result: row.result === null ? null : (JSON.parse(row.result) as unknown),
      attempts: row.attempts,
      received_at: row.receivedAt,
      updated_at: row.updatedAt,
    })),
    next_after: rows.length > filter.limit ? page[page.length - 1]!.deliverySeq : null,
  };
}
