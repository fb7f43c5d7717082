// The delivery log in D1: claim a delivery before applying it, record how it ended, list it.
import { and, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import type { AuditDb } from "../export/d1-writer";
import { webhookDeliveries } from "../export/audit-tables";

export type DeliveryStatus = "processing" | "applied" | "ignored" | "rejected" | "failed";

export type Claim =
  /** Seen before and finished: answer `duplicate` with the stored result, write nothing. */
  | { kind: "done"; status: DeliveryStatus; result: unknown }
  /** New, or seen before but not finished (failed halfway, rejected, or still processing). */
  | { kind: "apply" };

/** Records the delivery as processing unless it already finished. Idempotent per (source, webhook-id). */
export async function claimDelivery(db: AuditDb, source_id: string, webhook_id: string, type: string, now: string): Promise<Claim> {
  const [inserted, existing] = await db.batch([
    db
      .insert(webhookDeliveries)
      .values({ sourceId: source_id, webhookId: webhook_id, type, status: "processing", attempts: 1, receivedAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [webhookDeliveries.sourceId, webhookDeliveries.webhookId],
        set: { attempts: sql`${webhookDeliveries.attempts} + 1`, updatedAt: now },
        setWhere: sql`${webhookDeliveries.status} NOT IN ('applied', 'ignored')`,
      })
      .returning({ seq: webhookDeliveries.deliverySeq }),
    db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.sourceId, source_id), eq(webhookDeliveries.webhookId, webhook_id))),
  ]);
  const row = existing[0];
  if (inserted.length === 0 && row !== undefined && (row.status === "applied" || row.status === "ignored")) {
    return { kind: "done", status: row.status, result: row.result === null ? null : (JSON.parse(row.result) as unknown) };
  }
  return { kind: "apply" };
}

export async function finishDelivery(db: AuditDb, source_id: string, webhook_id: string, status: DeliveryStatus, result: unknown, now: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status, result: JSON.stringify(result), updatedAt: now })
    .where(and(eq(webhookDeliveries.sourceId, source_id), eq(webhookDeliveries.webhookId, webhook_id)))
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
