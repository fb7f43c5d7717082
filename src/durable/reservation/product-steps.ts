// The Reservation object's calls to the product objects: hold every line of an attempt, finish
// a commit or a release, and ask whether an attempt is held. Each fans out over the products,
// at most PRODUCT_FANOUT_MAX at a time, and settles every call: one failing product never hides
// the others' answers.

import type { ReservationRecord } from "../../ledger/reservations";
import { linesByProduct } from "../../ledger/reservations";
import { settleBounded } from "../../lib/map-bounded";
import { PRODUCT_FANOUT_MAX } from "../../limits";
import type { StepResult } from "../product-ledger/rpc";
import type { CreateError } from "./rpc";

type ProductStub = ReturnType<Env["PRODUCT_LEDGER"]["getByName"]>;
export type Settled<T> = PromiseSettledResult<T>[];

/** Holds every line of `attempt`, one call per product; answers in the order of linesByProduct. */
export function holdEveryProduct(
  product: (product_id: string) => ProductStub,
  record: ReservationRecord,
  attempt: number,
): Promise<Settled<StepResult>> {
  const groups = [...linesByProduct(record.lines)];
  return settleBounded(
    groups,
    PRODUCT_FANOUT_MAX,
    async ([product_id, lines]): Promise<StepResult> =>
      await product(product_id).hold({
        reservation_id: record.id,
        created_by: record.created_by,
        reason: record.reason,
        idempotency_key: record.idempotency_key,
        attempt,
        expires_at: record.expires_at,
        lines,
      }),
  );
}

/** Commits (phase committing) or releases (every other unfinished phase) what each product holds. */
export function finishEveryProduct(product: (product_id: string) => ProductStub, record: ReservationRecord): Promise<Settled<StepResult>> {
  const step = {
    reservation_id: record.id,
    created_by: record.closed_by ?? record.created_by,
    reason: record.reason,
    idempotency_key: record.closed_key ?? record.idempotency_key,
  };
  return settleBounded([...linesByProduct(record.lines).keys()], PRODUCT_FANOUT_MAX, async (product_id): Promise<StepResult> => {
    if (record.phase === "committing") return await product(product_id).commitHold(step);
    return await product(product_id).releaseHold({ ...step, attempt_max: record.attempt });
  });
}

/** Whether each product holds the record's current attempt (a read: it never takes stock). */
export function askEveryProduct(product: (product_id: string) => ProductStub, record: ReservationRecord): Promise<Settled<boolean>> {
  return settleBounded(
    [...linesByProduct(record.lines).keys()],
    PRODUCT_FANOUT_MAX,
    async (product_id) => (await product(product_id).holdsAttempt(record.id, record.attempt)).holds,
  );
}

/**
 * Why a creation whose holds did not all succeed is refused: the short lines (when every product
 * answered), or a limit; undefined when the cause is a product that could not be reached (a 500).
 */
export function creationRefusal(record: ReservationRecord, holds: Settled<StepResult>): CreateError | undefined {
  const products = [...linesByProduct(record.lines).keys()];
  const errors = holds.flatMap((result, index) =>
    result.status === "fulfilled" && !result.value.ok ? [{ product_id: products[index]!, error: result.value.error }] : [],
  );
  const short = errors.flatMap(({ product_id, error }) =>
    error.code === "hold_short" ? error.shortages.map((shortage) => ({ product_id, ...shortage })) : [],
  );
  const unreachable = holds.some((result) => result.status === "rejected");
  if (short.length > 0 && !unreachable) return { code: "reservation_lines_short", lines: short };
  const limit = errors.find(({ error }) => error.code === "limit_exceeded")?.error;
  if (limit?.code === "limit_exceeded") return { code: "limit_exceeded", detail: limit.detail };
  return undefined;
}

/**
 * Logs the products whose call failed (thrown) or was refused, one line each, with the product:
 * a product that keeps failing (a bug, not an outage) must not leave its stock reserved
 * without a trace.
 */
export function logUnfinished(record: ReservationRecord, results: Settled<StepResult> | Settled<boolean>): void {
  const products = [...linesByProduct(record.lines).keys()];
  results.forEach((result, index) => {
    const refused = result.status === "fulfilled" && typeof result.value === "object" && !result.value.ok;
    if (result.status === "fulfilled" && !refused) return;
    const detail = result.status === "rejected" ? String(result.reason) : result.value;
    console.error(
      JSON.stringify({ level: "warn", reservation_id: record.id, phase: record.phase, product_id: products[index], result: detail }),
    );
  });
}
