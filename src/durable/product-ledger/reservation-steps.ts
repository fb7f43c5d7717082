// The product object's side of a reservation: hold every line of an attempt or none, commit
// what is held (RELEASE + REMOVE), release it (and fence off late holds). Each is idempotent by
// the holds' state, and runs in one transaction through the writer.

import { planCommit, planHold, planRelease, shortages } from "../../ledger/holds";
import { err, ok } from "../../ledger/result";
import type { TransactionRequest, WriteCommand } from "../../ledger/types";
import * as holdsStore from "./holds-store";
import type { HoldStep, ReservationStep, StepResult } from "./rpc";
import * as store from "./store";
import { type LedgerWriter, stockAfter } from "./writer";

/** Holds every line of a reservation on this product, or none of them. Idempotent per attempt. */
export function hold(writer: LedgerWriter, step: HoldStep): StepResult {
  const { sql } = writer;
  return writer.atomically((): StepResult => {
    const plan = planHold(
      holdsStore.readHolds(sql, step.reservation_id),
      holdsStore.readFence(sql, step.reservation_id),
      step.attempt,
      step.lines,
      stepBase(step),
    );
    if (plan.kind === "stale_attempt") return err({ code: "stale_attempt" });
    if (plan.kind === "already_held") return ok({ stock: writer.currentStock() });

    const state = store.loadState(sql, writer.product_id, plan.requests);
    const short = shortages(step.lines, state.levels);
    if (short.length > 0) return err({ code: "hold_short", shortages: short, stock: writer.currentStock() });
    const decision = writer.append(reservationCommand(step, plan.requests, false), state);
    if (!decision.ok) return err(decision.failure);
    const holds = step.lines.map((line) => ({
      ...line,
      reservation_id: step.reservation_id,
      status: "held" as const,
      attempt: step.attempt,
      expires_at: step.expires_at,
    }));
    holdsStore.saveHolds(sql, holds, decision.next.version);
    return ok({ stock: stockAfter(decision) });
  });
}

/** The sale of what a reservation holds here: RELEASE + REMOVE per line. Committing twice is a no-op. */
export function commitHold(writer: LedgerWriter, step: ReservationStep): StepResult {
  return writer.atomically((): StepResult => {
    const plan = planCommit(holdsStore.readHolds(writer.sql, step.reservation_id), stepBase(step));
    if (plan.kind === "not_active") return err({ code: "not_active" });
    if (plan.kind === "already_committed") return ok({ stock: writer.currentStock() });
    // The held units were promised to this buyer: the sale is a fact, even if a count since
    // found less stock than was held.
    const decision = writer.append(reservationCommand(step, plan.requests, true));
    if (!decision.ok) return err(decision.failure);
    holdsStore.setHoldStatus(writer.sql, step.reservation_id, "held", "committed", decision.next.version);
    return ok({ stock: stockAfter(decision) });
  });
}

/**
 * Gives back what a reservation holds here (release, expiry, or undoing a failed creation),
 * and fences off holds of attempts up to `attempt_max` that may still be in flight.
 */
export function releaseHold(writer: LedgerWriter, step: ReservationStep & { attempt_max: number }): StepResult {
  return writer.atomically((): StepResult => {
    holdsStore.raiseFence(writer.sql, step.reservation_id, step.attempt_max);
    const requests = planRelease(holdsStore.readHolds(writer.sql, step.reservation_id), step.attempt_max, stepBase(step));
    if (requests.length === 0) return ok({ stock: writer.currentStock() });
    const decision = writer.append(reservationCommand(step, requests, false));
    if (!decision.ok) return err(decision.failure);
    holdsStore.setHoldStatus(writer.sql, step.reservation_id, "held", "released", decision.next.version);
    return ok({ stock: stockAfter(decision) });
  });
}

function stepBase(step: ReservationStep): Pick<TransactionRequest, "reason" | "actor" | "metadata" | "reservation_id"> {
  return { reason: step.reason, actor: null, metadata: null, reservation_id: step.reservation_id };
}

function reservationCommand(step: ReservationStep, requests: TransactionRequest[], is_fact: boolean): WriteCommand {
  return { idempotency_key: step.idempotency_key, principal: step.created_by, expected_version: null, is_fact, requests };
}
