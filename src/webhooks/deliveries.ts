// The delivery log in D1: claim a delivery before applying it, record how it ended, list it.
import { and, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import type { AuditDb } from "../d1/db";
import { webhookDeliveries } from "../d1/tables";
import {
  WEBHOOK_IN_PROGRESS_POLL_MAX_MS,
  WEBHOOK_IN_PROGRESS_POLL_MS,
  WEBHOOK_IN_PROGRESS_WAIT_MS,
  WEBHOOK_PROCESSING_LEASE_MS,
} from "../limits";

export type DeliveryStatus = "processing" | "applied" | "ignored" | "rejected" | "failed";

export type Claim =
  /** Seen before and finished: answer `duplicate` with the stored result, write nothing. */
  | { kind: "done"; status: DeliveryStatus; result: unknown }
  /**
   * This request holds the delivery: new, or seen before and not finished (failed, rejected, or
   * a run whose lease ran out). `attempt` fences its finish against a run that took it over.
   */
  | { kind: "apply"; attempt: number }
  /** Another copy is being applied right now, within its lease. */
  | { kind: "in_progress" };

export const FINAL: readonly DeliveryStatus[] = ["applied", "ignored"];

/**
 * Claims the delivery for this request, unless it already finished or another copy of it is
 * being applied within its lease (WEBHOOK_PROCESSING_LEASE_MS): two copies applied at once would
 * both answer `applied`, and the later one's results (all `duplicate`) would replace the first's.
 * A claim (new or again) makes the row `processing` from now: the lease starts over.
 */
export async function claimDelivery(db: AuditDb, source_id: string, webhook_id: string, type: string, now: string): Promise<Claim> {
  const [claimed, existing] = await db.batch([
    db
      .insert(webhookDeliveries)
      .values({ sourceId: source_id, webhookId: webhook_id, type, status: "processing", attempts: 1, receivedAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [webhookDeliveries.sourceId, webhookDeliveries.webhookId],
        set: { attempts: sql`${webhookDeliveries.attempts} + 1`, status: "processing", result: null, updatedAt: now },
        setWhere: sql`${webhookDeliveries.status} NOT IN ('applied', 'ignored') AND (${webhookDeliveries.status} <> 'processing' OR ${webhookDeliveries.updatedAt} < ${leaseStartedBefore(now)})`,
      })
      .returning({ attempts: webhookDeliveries.attempts }),
    db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.sourceId, source_id), eq(webhookDeliveries.webhookId, webhook_id))),
  ]);
  if (claimed[0] !== undefined) return { kind: "apply", attempt: claimed[0].attempts };
  const row = existing[0];
  if (row === undefined) throw new Error(`webhook delivery ${source_id}/${webhook_id} was neither claimed nor found`);
  return FINAL.includes(row.status) ? done(row) : { kind: "in_progress" };
}

/**
 * claimDelivery, waiting while another copy is in progress (up to WEBHOOK_IN_PROGRESS_WAIT_MS)
 * for its outcome: `done` once it finished, or the claim once it failed or its lease ran out.
 * While it waits it only reads the row, at growing intervals (100 ms doubling to 1 s).
 */
export async function claimOrWait(db: AuditDb, source_id: string, webhook_id: string, type: string): Promise<Claim> {
  const deadline = Date.now() + WEBHOOK_IN_PROGRESS_WAIT_MS;
  let claim = await claimDelivery(db, source_id, webhook_id, type, new Date().toISOString());
  for (
    let pause = WEBHOOK_IN_PROGRESS_POLL_MS;
    claim.kind === "in_progress" && Date.now() < deadline;
    pause = Math.min(2 * pause, WEBHOOK_IN_PROGRESS_POLL_MAX_MS)
  ) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
    const row = await readDelivery(db, source_id, webhook_id);
    if (row !== undefined && FINAL.includes(row.status)) return done(row);
    const now = new Date().toISOString();
    if (row?.status === "processing" && row.updatedAt >= leaseStartedBefore(now)) continue;
    claim = await claimDelivery(db, source_id, webhook_id, type, now);
  }
  return claim;
}

/** A claim this request holds: the delivery and the attempt its claim set. */
export interface HeldDelivery {
  source_id: string;
  webhook_id: string;
  attempt: number;
}

/**
 * Records how the claimed run ended, only while the row is still this run's claim (processing,
 * with its attempt), and says whether it did. A run taken for dead that finishes late changes
 * nothing, whether the copy that took over is still running or has finished.
 */
export async function finishDelivery(db: AuditDb, held: HeldDelivery, status: DeliveryStatus, result: unknown): Promise<boolean> {
  const outcome = await db
    .update(webhookDeliveries)
    .set({ status, result: JSON.stringify(result), updatedAt: new Date().toISOString() })
    .where(heldBy(held))
    .run();
  return outcome.meta.changes === 1;
}

/** Starts the lease of a claim this run still holds over again; false once it lost the claim. */
export async function renewLease(db: AuditDb, held: HeldDelivery): Promise<boolean> {
  const outcome = await db.update(webhookDeliveries).set({ updatedAt: new Date().toISOString() }).where(heldBy(held)).run();
  return outcome.meta.changes === 1;
}

export async function readDelivery(db: AuditDb, source_id: string, webhook_id: string) {
  return await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.sourceId, source_id), eq(webhookDeliveries.webhookId, webhook_id)))
    .get();
}

function heldBy(held: HeldDelivery): SQL | undefined {
  return and(
    eq(webhookDeliveries.sourceId, held.source_id),
    eq(webhookDeliveries.webhookId, held.webhook_id),
    eq(webhookDeliveries.status, "processing"),
    eq(webhookDeliveries.attempts, held.attempt),
  );
}

function leaseStartedBefore(now: string): string {
  return new Date(Date.parse(now) - WEBHOOK_PROCESSING_LEASE_MS).toISOString();
}

export function done(row: typeof webhookDeliveries.$inferSelect): Extract<Claim, { kind: "done" }> {
  return { kind: "done", status: row.status, result: row.result === null ? null : (JSON.parse(row.result) as unknown) };
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
