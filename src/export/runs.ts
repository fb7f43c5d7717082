// Bookkeeping of runs in D1: start, plan page by page, record each product's outcome, finish.
// Every write is keyed (run_id, product_id) or conditional on the run's state, so redelivered
// messages and concurrent consumers cannot count anything twice or finish a run twice.

import { and, asc, count, desc, eq, gt, inArray, sql, sum } from "drizzle-orm";
import type { AuditDb } from "../d1/db";
import { products, runProducts, runs } from "../d1/tables";
import {
  QUEUE_SEND_BATCH_MESSAGES_MAX,
  RECONCILE_PRODUCTS_PER_MESSAGE,
  RUN_ERRORS_LISTED_MAX,
  RUN_FINDINGS_LISTED_MAX,
  RUN_PLAN_PAGE_PRODUCTS,
  RUN_PRODUCT_ROWS_PER_INSERT,
  RUN_PRODUCTS_PER_MESSAGE,
  RUNS_LIST_LIMIT_MAX,
} from "../limits";
import type { RunKind, RunMessage } from "./messages";

export type RunTrigger = "cron" | "admin" | "export";

export async function startRun(
  db: AuditDb,
  queue: Queue<RunMessage>,
  run_kind: RunKind,
  trigger: RunTrigger,
  now: string,
): Promise<string> {
  const run_id = `${run_kind === "export" ? "exp" : "rec"}-${crypto.randomUUID()}`;
  await db.insert(runs).values({ runId: run_id, kind: run_kind, trigger, status: "running", planningDone: 0, startedAt: now }).run();
  await queue.send({ kind: "plan", run_kind, run_id, after: null });
  return run_id;
}

/**
 * Queues the next page of registered products for a run, then the next planning step. Returns
 * true when this step finished the run (its products were all done before planning ended).
 */
export async function planPage(
  db: AuditDb,
  queue: Queue<RunMessage>,
  message: Extract<RunMessage, { kind: "plan" }>,
  now: string,
): Promise<boolean> {
  const page = await db
    .select({ product_id: products.productId })
    .from(products)
    .where(message.after === null ? undefined : gt(products.productId, message.after))
    .orderBy(asc(products.productId))
    .limit(RUN_PLAN_PAGE_PRODUCTS)
    .all();
  const product_ids = page.map((row) => row.product_id);

  const inserts = [];
  for (let start = 0; start < product_ids.length; start += RUN_PRODUCT_ROWS_PER_INSERT) {
    const chunk = product_ids.slice(start, start + RUN_PRODUCT_ROWS_PER_INSERT);
    inserts.push(
      db
        .insert(runProducts)
        .values(chunk.map((productId) => ({ runId: message.run_id, productId, status: "queued" as const, attempts: 0, rowsExported: 0 })))
        .onConflictDoNothing(),
    );
  }
  const [first, ...rest] = inserts;
  if (first !== undefined) await db.batch([first, ...rest]);
  const per_message = message.run_kind === "export" ? RUN_PRODUCTS_PER_MESSAGE : RECONCILE_PRODUCTS_PER_MESSAGE;
  const batches: MessageSendRequest<RunMessage>[] = [];
  for (let start = 0; start < product_ids.length; start += per_message) {
    batches.push({
      body: {
        kind: "products",
        run_kind: message.run_kind,
        run_id: message.run_id,
        product_ids: product_ids.slice(start, start + per_message),
        attempt: 0,
      },
    });
  }
  for (let start = 0; start < batches.length; start += QUEUE_SEND_BATCH_MESSAGES_MAX)
    await queue.sendBatch(batches.slice(start, start + QUEUE_SEND_BATCH_MESSAGES_MAX));

  if (product_ids.length === RUN_PLAN_PAGE_PRODUCTS) {
    await queue.send({ kind: "plan", run_kind: message.run_kind, run_id: message.run_id, after: product_ids[product_ids.length - 1]! });
    return false;
  }
  await db.update(runs).set({ planningDone: 1 }).where(eq(runs.runId, message.run_id)).run();
  return finishIfComplete(db, message.run_id, now);
}

export type ProductOutcome =
  | { status: "done"; rows_exported?: number; cache_before?: unknown; cache_after?: unknown; divergence?: unknown }
  | { status: "failed"; error: string; attempts: number }
  | { status: "retry"; error: string; attempts: number };

export type DoneOutcome = Extract<ProductOutcome, { status: "done" }> & { product_id: string };

/** Records the finished products of one message in one D1 batch, with fixed SQL. */
export async function recordDone(db: AuditDb, run_id: string, outcomes: readonly DoneOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const d1 = db.$client;
  const update = d1.prepare(
    "UPDATE run_products SET status = 'done', rows_exported = rows_exported + ?, cache_before = ?, cache_after = ?, divergence = ?, error = NULL WHERE run_id = ? AND product_id = ?",
  );
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  await d1.batch(
    outcomes.map((o) =>
      update.bind(o.rows_exported ?? 0, json(o.cache_before), json(o.cache_after), json(o.divergence), run_id, o.product_id),
    ),
  );
}

export async function recordOutcome(db: AuditDb, run_id: string, product_id: string, outcome: ProductOutcome): Promise<void> {
  const where = and(eq(runProducts.runId, run_id), eq(runProducts.productId, product_id));
  if (outcome.status === "done") {
    await db
      .update(runProducts)
      .set({
        status: "done",
        rowsExported: sql`${runProducts.rowsExported} + ${outcome.rows_exported ?? 0}`,
        cacheBefore: outcome.cache_before === undefined ? null : JSON.stringify(outcome.cache_before),
        cacheAfter: outcome.cache_after === undefined ? null : JSON.stringify(outcome.cache_after),
        divergence: outcome.divergence === undefined ? null : JSON.stringify(outcome.divergence),
        error: null,
      })
      .where(where)
      .run();
    return;
  }
  await db
    .update(runProducts)
    .set({ status: outcome.status === "failed" ? "failed" : "queued", attempts: outcome.attempts, error: outcome.error })
    .where(where)
    .run();
}

/** Records the products of a dead-lettered message that no delivery finished as failed (done ones stay done). */
export async function failQueuedProducts(db: AuditDb, run_id: string, product_ids: readonly string[], error: string): Promise<void> {
  if (product_ids.length === 0) return;
  await db
    .update(runProducts)
    .set({ status: "failed", error })
    .where(and(eq(runProducts.runId, run_id), inArray(runProducts.productId, [...product_ids]), eq(runProducts.status, "queued")))
    .run();
}

/** Fails a run whose planning cannot go on (a dead-lettered planning step). */
export async function failRun(db: AuditDb, run_id: string, now: string): Promise<void> {
  await db
    .update(runs)
    .set({ status: "failed", finishedAt: now })
    .where(and(eq(runs.runId, run_id), eq(runs.status, "running")))
    .run();
}

/** Adds rows exported so far by a message that hands the rest of a product to a follow-up. */
export async function addRowsExported(db: AuditDb, run_id: string, product_id: string, rows: number): Promise<void> {
  if (rows === 0) return;
  await db
    .update(runProducts)
    .set({ rowsExported: sql`${runProducts.rowsExported} + ${rows}` })
    .where(and(eq(runProducts.runId, run_id), eq(runProducts.productId, product_id)))
    .run();
}

/**
 * Marks the run finished once planning is done and no product is still queued. One conditional
 * UPDATE, so of several consumers finishing at once exactly one sees the transition.
 */
export async function finishIfComplete(db: AuditDb, run_id: string, now: string): Promise<boolean> {
  const result = await db.run(sql`
    UPDATE runs SET
      status = CASE WHEN EXISTS (SELECT 1 FROM run_products WHERE run_id = ${run_id} AND status = 'failed') THEN 'failed' ELSE 'succeeded' END,
      finished_at = ${now}
    WHERE run_id = ${run_id} AND status = 'running' AND planning_done = 1
      AND NOT EXISTS (SELECT 1 FROM run_products WHERE run_id = ${run_id} AND status = 'queued')`);
  return result.meta.changes === 1;
}

export interface RunSummary {
  run_id: string;
  kind: RunKind;
  trigger: RunTrigger;
  status: "running" | "succeeded" | "failed";
  started_at: string;
  finished_at: string | null;
  products_total: number;
  products_done: number;
  rows_exported: number;
  errors: { product_id: string; error: string; attempts: number }[];
}

export async function readRun(db: AuditDb, run_id: string): Promise<RunSummary | null> {
  const run = await db.select().from(runs).where(eq(runs.runId, run_id)).get();
  if (!run) return null;
  const [totals] = await db
    .select({
      total: count(),
      done: sql<number>`coalesce(sum(case when ${runProducts.status} <> 'queued' then 1 else 0 end), 0)`,
      rows: sum(runProducts.rowsExported).mapWith(Number),
    })
    .from(runProducts)
    .where(eq(runProducts.runId, run_id))
    .all();
  const errors = await db
    .select({ product_id: runProducts.productId, error: runProducts.error, attempts: runProducts.attempts })
    .from(runProducts)
    .where(and(eq(runProducts.runId, run_id), eq(runProducts.status, "failed")))
    .orderBy(asc(runProducts.productId))
    .limit(RUN_ERRORS_LISTED_MAX)
    .all();
  return {
    run_id: run.runId,
    kind: run.kind,
    trigger: run.trigger,
    status: run.status,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    products_total: totals?.total ?? 0,
    products_done: totals?.done ?? 0,
    rows_exported: totals?.rows ?? 0,
    errors: errors.map((error) => ({ product_id: error.product_id, error: error.error ?? "", attempts: error.attempts })),
  };
}

export async function listRuns(db: AuditDb, run_kind: RunKind, limit: number): Promise<RunSummary[]> {
  const recent = await db
    .select({ run_id: runs.runId })
    .from(runs)
    .where(eq(runs.kind, run_kind))
    .orderBy(desc(runs.startedAt))
    .limit(Math.min(limit, RUNS_LIST_LIMIT_MAX))
    .all();
  const summaries = await Promise.all(recent.map((run) => readRun(db, run.run_id)));
  return summaries.filter((summary): summary is RunSummary => summary !== null);
}

/** The reconciliation findings of a run: rebuilt caches and D1 divergences. */
export async function readFindings(db: AuditDb, run_id: string) {
  const rows = await db
    .select({
      product_id: runProducts.productId,
      cache_before: runProducts.cacheBefore,
      cache_after: runProducts.cacheAfter,
      divergence: runProducts.divergence,
    })
    .from(runProducts)
    .where(
      and(
        eq(runProducts.runId, run_id),
        inArray(runProducts.status, ["done", "failed"]),
        sql`(${runProducts.cacheAfter} IS NOT NULL OR ${runProducts.divergence} IS NOT NULL)`,
      ),
    )
    .orderBy(asc(runProducts.productId))
    .limit(RUN_FINDINGS_LISTED_MAX)
    .all();
  return {
    caches_repaired: rows
      .filter((row) => row.cache_after !== null)
      .map((row) => ({
        product_id: row.product_id,
        before: JSON.parse(row.cache_before!) as unknown,
        after: JSON.parse(row.cache_after!) as unknown,
      })),
    export_divergences: rows
      .filter((row) => row.divergence !== null)
      .map((row) => ({ product_id: row.product_id, ...(JSON.parse(row.divergence!) as object) })),
  };
}

/** Start time of the newest export that succeeded: every row created before it is in D1. */
export async function exportedThrough(db: AuditDb): Promise<string | null> {
  const run = await db
    .select({ started_at: runs.startedAt })
    .from(runs)
    .where(and(eq(runs.kind, "export"), eq(runs.status, "succeeded")))
    .orderBy(desc(runs.startedAt))
    .limit(1)
    .get();
  return run?.started_at ?? null;
}
