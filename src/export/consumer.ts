// The ledger-export queue consumer: planning steps and product messages of export and
// reconciliation runs. A failing product is retried RUN_PRODUCT_ATTEMPTS_MAX times with backoff,
// then reported; it never holds up the other products of its message or run.

import { type AuditDb, auditDb } from "../d1/db";
import { settleBounded } from "../lib/map-bounded";
import { backoffDelay } from "../lib/retry";
import {
  EXPORT_ROWS_PER_MESSAGE_MAX,
  PRODUCT_FANOUT_MAX,
  RUN_MESSAGE_RETRY_BACKOFF_SECONDS,
  RUN_PRODUCT_ATTEMPTS_MAX,
  RUN_PRODUCT_RETRY_BACKOFF_SECONDS,
} from "../limits";
import { exportFirstPages, type FirstPageOutcome } from "./export-first-pages";
import { exportProduct } from "./export-product";
import type { RunMessage } from "./messages";
import { reconcileProduct } from "./reconcile-product";
import { addRowsExported, type DoneOutcome, finishIfComplete, planPage, recordDone, recordOutcome, startRun } from "./runs";

type ProductsMessage = Extract<RunMessage, { kind: "products" }>;

export async function consumeRunMessages(batch: MessageBatch<RunMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    try {
      await handle(message.body, env);
      message.ack();
    } catch (error) {
      // Everything a message does is idempotent, so redelivering the whole message is safe.
      console.error(
        JSON.stringify({
          level: "error",
          message: "run message failed; redelivering",
          kind: message.body.kind,
          run_id: message.body.run_id,
          error: String(error),
        }),
      );
      message.retry({ delaySeconds: backoffDelay(message.attempts, RUN_MESSAGE_RETRY_BACKOFF_SECONDS) });
    }
  }
}

async function handle(body: RunMessage, env: Env): Promise<void> {
  const db = auditDb(env.AUDIT_DB);
  let finished: boolean;
  if (body.kind === "plan") {
    finished = await planPage(db, env.EXPORT_QUEUE, body, now());
  } else {
    // One row budget for the whole message, so it stays under D1's queries per invocation.
    const budget = { rows_left: EXPORT_ROWS_PER_MESSAGE_MAX };
    const done: DoneOutcome[] = [];
    // Every product's first page in one D1 batch; the rest (and any product that failed there) one by one.
    const firstPages =
      body.run_kind === "export"
        ? await exportFirstPages(db, (product_id) => env.PRODUCT_LEDGER.getByName(product_id), body.product_ids, budget)
        : new Map<string, FirstPageOutcome>();
    const settled = await settleBounded(body.product_ids, PRODUCT_FANOUT_MAX, (product_id) =>
      runProduct(env, db, body, product_id, budget, done, firstPages.get(product_id)),
    );
    // Recorded even when another product threw: their exported rows must be counted once.
    await recordDone(db, body.run_id, done);
    const failed = settled.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    finished = await finishIfComplete(db, body.run_id, now());
  }
  // Reconciliation runs after each export, and checks what the export just wrote.
  if (finished && body.run_kind === "export") await startRun(db, env.EXPORT_QUEUE, "reconciliation", "export", now());
}

async function runProduct(
  env: Env,
  db: AuditDb,
  body: ProductsMessage,
  product_id: string,
  budget: { rows_left: number },
  done: DoneOutcome[],
  firstPage: FirstPageOutcome | undefined,
): Promise<void> {
  const ledger = env.PRODUCT_LEDGER.getByName(product_id);
  const progress = { rows_exported: firstPage?.rows_exported ?? 0 };
  try {
    if (body.run_kind === "export") {
      const result = firstPage?.finished ? { finished: true } : await exportProduct(db, ledger, budget, progress);
      if (!result.finished) {
        await addRowsExported(db, body.run_id, product_id, progress.rows_exported);
        // Counted now: if queueing the rest fails, the catch below must not count them again.
        progress.rows_exported = 0;
        await env.EXPORT_QUEUE.send({ ...body, product_ids: [product_id] });
        return;
      }
      done.push({ product_id, status: "done", rows_exported: progress.rows_exported });
    } else {
      const { report } = await ledger.reconcile();
      const found = await reconcileProduct(db, report, product_id);
      done.push({
        product_id,
        status: "done",
        ...(found.repaired ? { cache_before: found.repaired.before, cache_after: found.repaired.after } : {}),
        ...(found.divergence ? { divergence: found.divergence } : {}),
      });
    }
  } catch (error) {
    // Pages confirmed before the failure are exported for good: count them now.
    await addRowsExported(db, body.run_id, product_id, progress.rows_exported);
    progress.rows_exported = 0;
    const attempts = body.attempt + 1;
    const detail = error instanceof Error ? error.message : String(error);
    console.error(
      JSON.stringify({
        level: "warn",
        message: `${body.run_kind} of a product failed`,
        run_id: body.run_id,
        product_id,
        attempts,
        error: detail,
      }),
    );
    if (attempts >= RUN_PRODUCT_ATTEMPTS_MAX) {
      await recordOutcome(db, body.run_id, product_id, { status: "failed", error: detail, attempts });
      return;
    }
    await recordOutcome(db, body.run_id, product_id, { status: "retry", error: detail, attempts });
    await env.EXPORT_QUEUE.send(
      { ...body, product_ids: [product_id], attempt: attempts },
      { delaySeconds: backoffDelay(attempts - 1, RUN_PRODUCT_RETRY_BACKOFF_SECONDS) },
    );
  }
}

function now(): string {
  return new Date().toISOString();
}
