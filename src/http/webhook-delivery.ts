// One webhook delivery, from its claim to its recorded end, as the route answers it: a duplicate
// of a copy that finished, 503 while another copy holds it, or applied by this request under a
// lease it renews while it runs, with the end recorded only if it still holds the claim. In the
// http layer because its outcomes are HTTP problems; the log and the application are webhooks/.

import type { AuditDb } from "../d1/db";
import { retried } from "../lib/retry";
import { WEBHOOK_FINISH_RETRY_BACKOFF_MS, WEBHOOK_FINISH_TRIES, WEBHOOK_LEASE_RENEW_MS, WEBHOOK_TYPE_LOGGED_LENGTH_MAX } from "../limits";
import { applyFacts } from "../webhooks/apply";
import {
  claimOrWait,
  type DeliveryStatus,
  done,
  FINAL,
  finishDelivery,
  type HeldDelivery,
  readDelivery,
  renewLease,
} from "../webhooks/deliveries";
import { EVENT_SCHEMAS, isKnownEventType, operationsFor } from "../webhooks/events";
import { invalidRequest, ProblemError } from "./problem";

export interface DeliveryAnswer {
  status: "applied" | "ignored" | "duplicate";
  results: Record<string, unknown>[];
}

export async function deliver(
  env: Env,
  db: AuditDb,
  source_id: string,
  webhook_id: string,
  type: unknown,
  event: unknown,
): Promise<DeliveryAnswer> {
  const claim = await claimOrWait(
    db,
    source_id,
    webhook_id,
    typeof type === "string" ? type.slice(0, WEBHOOK_TYPE_LOGGED_LENGTH_MAX) : "(none)",
  );
  if (claim.kind === "done") return { status: "duplicate", results: resultsOf(claim.result) };
  if (claim.kind === "in_progress") throw inProgress();
  const held = { source_id, webhook_id, attempt: claim.attempt };
  // Renewed while the run goes on, however long its product objects take: only a run that
  // stopped (its worker lost) is ever taken over.
  const renewal = setInterval(() => {
    renewLease(db, held).catch((error: unknown) =>
      console.error(
        JSON.stringify({
          level: "warn",
          message: "renewing a webhook delivery's lease failed",
          source_id,
          webhook_id,
          error: String(error),
        }),
      ),
    );
  }, WEBHOOK_LEASE_RENEW_MS);
  try {
    return await applyClaimed(env, db, held, type, event);
  } finally {
    clearInterval(renewal);
  }
}

/**
 * Applies a delivery this request claimed, and records how it ended: `ignored` for an unknown
 * type, `rejected` (400, 422) or `failed` (500) as a ProblemError, or `applied`.
 */
async function applyClaimed(env: Env, db: AuditDb, held: HeldDelivery, type: unknown, event: unknown): Promise<DeliveryAnswer> {
  if (!isKnownEventType(type)) {
    return await ended(db, held, "ignored", [], { status: "ignored", results: [] });
  }
  const parsed = EVENT_SCHEMAS[type].safeParse((event as { data?: unknown }).data);
  if (!parsed.success) {
    const problem = invalidRequest(
      parsed.error.issues.map((issue) => ({ path: ["body", "data", ...issue.path.map(String)].join("."), message: issue.message })),
    );
    return await ended(db, held, "rejected", problem.problem, problem);
  }

  const outcome = await applyFacts(env, held.source_id, operationsFor(type, parsed.data));
  if (!outcome.ok) {
    const problem = new ProblemError(
      "internal_error",
      "Part of this event could not be applied yet; retry the delivery (what did apply will not be applied twice).",
      { results: outcome.results },
    );
    return await ended(db, held, "failed", outcome.results, problem);
  }
  const refused = outcome.results.find((result) => result.status === "refused");
  if (refused !== undefined) {
    // A line that conflicts with what its business id already recorded (or would pass a
    // limit) cannot be fixed by a retry: answer 4xx so the provider stops, and log it.
    const code = refused.error === "limit_exceeded" ? "limit_exceeded" : "idempotency_key_reused";
    const problem = new ProblemError(code, `Line ${refused.key} was refused (${refused.error}); the other lines are in results.`, {
      results: outcome.results,
    });
    return await ended(db, held, "rejected", outcome.results, problem);
  }
  return await ended(db, held, "applied", outcome.results, { status: "applied", results: outcome.results });
}

/**
 * Records the end and gives this run's answer (a ProblemError is thrown). If the run lost its
 * claim meanwhile (taken for dead), the copy that took over speaks for the delivery: its
 * finished result as a duplicate, or 503 while it still runs. If D1 cannot record the end, the
 * answer stands and the log is left to the next copy (logged).
 */
async function ended(
  db: AuditDb,
  held: HeldDelivery,
  status: DeliveryStatus,
  result: unknown,
  answer: DeliveryAnswer | ProblemError,
): Promise<DeliveryAnswer> {
  let recorded: boolean | undefined;
  try {
    recorded = await retried(WEBHOOK_FINISH_TRIES, WEBHOOK_FINISH_RETRY_BACKOFF_MS, () => finishDelivery(db, held, status, result));
  } catch (error) {
    console.error(
      JSON.stringify({
        level: "error",
        message: "recording a webhook delivery's end failed; the answer stands",
        source_id: held.source_id,
        webhook_id: held.webhook_id,
        status,
        error: String(error),
      }),
    );
  }
  if (recorded === false) {
    const row = await readDelivery(db, held.source_id, held.webhook_id);
    if (row !== undefined && FINAL.includes(row.status)) return { status: "duplicate", results: resultsOf(done(row).result) };
    throw inProgress();
  }
  if (answer instanceof ProblemError) throw answer;
  return answer;
}

function inProgress(): ProblemError {
  return new ProblemError(
    "delivery_in_progress",
    "Another copy of this delivery is being applied; send it again later under the same webhook-id, and it will answer with the outcome.",
  );
}

function resultsOf(stored: unknown): Record<string, unknown>[] {
  return Array.isArray(stored) ? (stored as Record<string, unknown>[]) : [];
}
