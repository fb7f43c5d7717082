// The export queue's dead letters: a run message that failed every delivery (wrangler.toml's
// max_retries) lands on ledger-export-dlq instead of vanishing. Its run must not say "running"
// for ever: the products it carried that are still queued are recorded as failed, and the run
// finishes (as failed); a planning step that died fails its run at once.

import { type AuditDb, auditDb } from "../d1/db";
import type { RunMessage } from "./messages";
import { failQueuedProducts, failRun, finishIfComplete } from "./runs";

/** The queue a run message that failed every delivery goes to (wrangler.toml's dead_letter_queue). */
export const EXPORT_DEAD_LETTER_QUEUE = "ledger-export-dlq";

export async function consumeDeadLetters(batch: MessageBatch<RunMessage>, env: Env): Promise<void> {
  const db = auditDb(env.AUDIT_DB);
  for (const message of batch.messages) {
    console.error(
      JSON.stringify({
        level: "error",
        message: "run message dead-lettered after every delivery failed",
        kind: message.body.kind,
        run_id: message.body.run_id,
      }),
    );
    try {
      await settleDeadLetter(db, message.body, new Date().toISOString());
      message.ack();
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          message: "recording a dead-lettered run message failed; retrying",
          run_id: message.body.run_id,
          error: String(error),
        }),
      );
      message.retry();
    }
  }
}

export async function settleDeadLetter(db: AuditDb, body: RunMessage, now: string): Promise<void> {
  if (body.kind === "plan") {
    await failRun(db, body.run_id, now);
    return;
  }
  await failQueuedProducts(db, body.run_id, body.product_ids, "dead-lettered: every delivery of its queue message failed");
  await finishIfComplete(db, body.run_id, now);
}
