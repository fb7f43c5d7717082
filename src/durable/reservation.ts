// Reservation: the Durable Object that holds a share of all reservations (RESERVATION_SHARDS of
// them, chosen by a hash of the id: reservationShard). It is the durable record of a checkout's
// holds and the single place that decides its outcome: create, commit, release and expiry of one
// reservation run one at a time here, so two of them racing end in exactly one outcome.
// Different reservations in the same object proceed independently.
//
// Each phase is saved BEFORE the product objects are called, and the object's alarm (set to the
// earliest time any of its reservations needs work) finishes whatever a crash leaves unfinished
// (see src/ledger/reservations.ts for the state diagram). The one save made after the products
// answered, `held`, is written after the answer: the products' holds are already the durable
// proof of it (settlePending).

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../migrations/reservation/migrations.js";
import { PRODUCT_FANOUT_MAX, RESERVATION_ALARM_BATCH_MAX, RESERVATION_ALARM_PRODUCT_CALLS_MAX } from "../ledger/constants";
import type { Shortage } from "../ledger/holds";
import {
  isExpired,
  linesByProduct,
  nextAlarmAt,
  publicStatus,
  retryDelayMs,
  withinProductCalls,
  type DueReservation,
  type ReservationLine,
  type ReservationPhase,
  type ReservationStatus,
} from "../ledger/reservations";
import { settleBounded } from "../lib/map-bounded";
import type { StepResult } from "./product-ledger-rpc";
import { deferReservation, dueReservationIds, earliestAlarmAt, loadReservation, saveReservation, type ReservationDb, type StoredReservation } from "./reservation-store";
import { reservationSchema } from "./reservation-tables";

export const EXPIRY_PRINCIPAL = "system:expiry";
export const ABORT_PRINCIPAL = "system:reservation-abort";

export interface ReservationView {
  id: string;
  status: ReservationStatus;
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  lines: ReservationLine[];
}

export interface CreateReservation {
  id: string;
  reason: string;
  ttl_seconds: number;
  lines: ReservationLine[];
  principal: string;
  idempotency_key: string;
  fingerprint: string;
}

export type CreateResult =
  | { ok: true; replayed: boolean; reservation: ReservationView }
  | { ok: false; code: "reservation_exists" | "idempotency_key_reused" }
  | { ok: false; code: "insufficient_stock"; lines: (Shortage & { product_id: string })[] }
  | { ok: false; code: "limit_exceeded"; detail: string };

export type CloseResult =
  | { ok: true; reservation: ReservationView }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "reservation_not_active"; status: ReservationStatus };

/**
 * A seam for tests that attack failures: a save that throws stands for a storage error (after
 * an answer, or in the alarm). Empty in production.
 */
export interface ReservationFaults {
  beforeSave?: (record: StoredReservation) => void;
}

/** Raised when a product object could not be reached; the alarm finishes the step later. */
class UnfinishedStep extends Error {
  override name = "UnfinishedStep";
}

export class Reservation extends DurableObject<Env> {
  private readonly db: ReservationDb;
  /**
   * Serializes the operations of each reservation across awaits (the durable phase, not these
   * chains, is the truth). An entry is removed once its chain has nothing left to run.
   */
  private readonly queues = new Map<string, Promise<unknown>>();
  /**
   * Per id, a save the running operation leaves for after its answer (a creation's `held`). It
   * belongs to that operation's turn in the id's queue: the next operation waits for it.
   */
  private readonly afterAnswer = new Map<string, () => Promise<void>>();
  /**
   * When the object's alarm is set, as far as this instance knows (null: unknown or none, and
   * the next save sets it exactly). It is never later than the earliest alarm_at of the rows: a
   * save that moves a row's time earlier moves the alarm too; one that moves it later, or ends
   * it, leaves the alarm early, and that run, finding little or nothing due, sets it exactly.
   * So most saves cost no extra read or alarm write.
   */
  private alarmAt: number | null = null;
  private readonly faults: ReservationFaults = {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = drizzle(ctx.storage, { schema: reservationSchema });
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(this.db, migrations);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  create(input: CreateReservation): Promise<CreateResult> {
    return this.serialized(input.id, async () => {
      let record = loadReservation(this.db, input.id);
      if (record && (record.phase === "pending" || record.phase === "aborting")) {
        // An earlier attempt crashed: decide it, and undo it if it did not get every hold.
        record = await this.finish(await this.settlePending(record, "request"));
      }
      if (record && publicStatus(record.phase) !== null) {
        if (record.idempotency_key !== input.idempotency_key) return { ok: false, code: "reservation_exists" };
        if (record.fingerprint !== input.fingerprint) return { ok: false, code: "idempotency_key_reused" };
        return { ok: true, replayed: true, reservation: view(record) };
      }
      return this.attemptCreate(input, (record?.attempt ?? 0) + 1);
    });
  }

  read(id: string): Promise<ReservationView | null> {
    return this.serialized(id, async () => {
      let record = loadReservation(this.db, id);
      if (record?.phase === "pending") record = await this.settlePending(record, "request");
      return record && publicStatus(record.phase) !== null ? view(record) : null;
    });
  }

  commit(id: string, principal: string, idempotency_key: string): Promise<CloseResult> {
    return this.close(id, "committing", principal, idempotency_key);
  }

  release(id: string, principal: string, idempotency_key: string): Promise<CloseResult> {
    return this.close(id, "releasing", principal, idempotency_key);
  }

  /**
   * Expiry at expires_at, and the finisher of every step a crash or an outage left open, for
   * each reservation here whose time has come (a bounded batch; the rest right after).
   */
  override async alarm(): Promise<void> {
    // The alarm that fired is spent; saves during this run may set another.
    this.alarmAt = null;
    const due: DueReservation[] = [];
    for (const id of dueReservationIds(this.db, Date.now(), RESERVATION_ALARM_BATCH_MAX)) {
      try {
        const record = loadReservation(this.db, id);
        if (record !== undefined) due.push({ id, product_calls: linesByProduct(record.lines).size });
      } catch (error) {
        this.deferAfterError(id, error);
      }
    }
    for (const id of withinProductCalls(due, RESERVATION_ALARM_PRODUCT_CALLS_MAX)) {
      try {
        await this.serialized(id, () => this.wake(id));
      } catch (error) {
        this.deferAfterError(id, error);
      }
    }
    await this.scheduleAlarm();
  }

  /**
   * A bug or a storage error in one reservation: logged, and that one alone is retried later
   * with backoff, so it neither spins the alarm nor holds up the others.
   */
  private deferAfterError(id: string, error: unknown): void {
    console.error(JSON.stringify({ level: "error", message: "reservation step failed unexpectedly; retrying later", reservation_id: id, error: String(error) }));
    deferReservation(this.db, id, (retries) => Date.now() + retryDelayMs(retries));
  }

  /** One reservation's due work: decide a crashed creation, expire it, or retry an unfinished step. */
  private async wake(id: string): Promise<void> {
    let record = loadReservation(this.db, id);
    if (!record) return;
    try {
      record = await this.settlePending(record, "alarm");
      if (record.phase === "held" && isExpired(record, this.now())) {
        // Saved before any product is called, like every phase but a creation's `held`.
        record = this.transition(record, "expiring", EXPIRY_PRINCIPAL, `expiry:${record.id}`);
        await this.save(record);
      }
      await this.finish(record);
    } catch (error) {
      // Never let the platform's bounded alarm retries give up: our own backoff keeps trying.
      if (!(error instanceof UnfinishedStep)) throw error;
    }
  }

  private async attemptCreate(input: CreateReservation, attempt: number): Promise<CreateResult> {
    const now = this.now();
    let record: StoredReservation = {
      id: input.id,
      phase: "pending",
      reason: input.reason,
      ttl_seconds: input.ttl_seconds,
      expires_at: new Date(Date.parse(now) + input.ttl_seconds * 1000).toISOString(),
      created_by: input.principal,
      created_at: now,
      lines: input.lines,
      idempotency_key: input.idempotency_key,
      fingerprint: input.fingerprint,
      attempt,
      retries: 0,
      closed_by: null,
      closed_key: null,
    };
    await this.save(record);

    const groups = [...linesByProduct(record.lines)];
    const results = await settleBounded(groups, PRODUCT_FANOUT_MAX, async ([product_id, lines]): Promise<StepResult> =>
      await this.product(product_id).hold({
        product_id,
        reservation_id: record.id,
        created_by: record.created_by,
        reason: record.reason,
        idempotency_key: record.idempotency_key,
        attempt,
        expires_at: record.expires_at,
        lines,
      }),
    );
    if (results.every((result) => result.status === "fulfilled" && result.value.ok)) {
      const held: StoredReservation = { ...record, phase: "held" };
      // After the answer: the answer would otherwise wait for this write to be durable. Until it
      // is, the record says `pending`, and every product holding this attempt makes it held.
      this.afterAnswer.set(held.id, () => this.save(held));
      return { ok: true, replayed: false, reservation: view(held) };
    }

    // Not every line could be held: give back what was, then answer. If giving back fails,
    // the phase stays `aborting` and the alarm retries until nothing is held.
    record = this.transition(record, "aborting", ABORT_PRINCIPAL, `abort:${record.id}:${attempt}`);
    await this.save(record);
    await this.finish(record).catch((error: unknown) => {
      if (!(error instanceof UnfinishedStep)) throw error;
    });

    const short = results.flatMap((result, index) =>
      result.status === "fulfilled" && !result.value.ok && result.value.code === "insufficient_stock"
        ? result.value.shortages.map((shortage) => ({ product_id: groups[index]![0], ...shortage }))
        : [],
    );
    const unreachable = results.some((result) => result.status === "rejected");
    if (short.length > 0 && !unreachable) return { ok: false, code: "insufficient_stock", lines: short };
    const refused = results.find((result) => result.status === "fulfilled" && !result.value.ok && result.value.code === "refused");
    if (refused?.status === "fulfilled" && !refused.value.ok && refused.value.code === "refused" && refused.value.failure.code === "limit_exceeded") {
      return { ok: false, code: "limit_exceeded", detail: refused.value.failure.detail };
    }
    throw new Error(`reservation ${record.id}: ${results.filter((result) => result.status === "rejected").length} product object(s) failed while holding`);
  }

  private close(id: string, target: "committing" | "releasing", principal: string, idempotency_key: string): Promise<CloseResult> {
    return this.serialized(id, async (): Promise<CloseResult> => {
      let record = loadReservation(this.db, id);
      if (record?.phase === "pending") record = await this.settlePending(record, "request");
      const status = record ? publicStatus(record.phase) : null;
      if (!record || status === null) return { ok: false, code: "not_found" };

      if (record.phase === "held" && isExpired(record, this.now())) {
        // Past expires_at the hold is over, whether or not the alarm has run yet.
        record = this.transition(record, "expiring", EXPIRY_PRINCIPAL, `expiry:${record.id}`);
        await this.save(record);
        await this.finish(record).catch((error: unknown) => {
          if (!(error instanceof UnfinishedStep)) throw error;
        });
        return target === "releasing" ? { ok: true, reservation: view(record) } : { ok: false, code: "reservation_not_active", status: "expired" };
      }
      if (record.phase === "held") {
        record = this.transition(record, target, principal, idempotency_key);
        await this.save(record);
      }
      const wanted: ReservationStatus = target === "committing" ? "committed" : "released";
      const current = publicStatus(record.phase)!;
      // Releasing what already expired is a no-op success: the stock is back either way.
      const alreadyFine = current === wanted || (target === "releasing" && current === "expired");
      if (!alreadyFine) return { ok: false, code: "reservation_not_active", status: current };
      record = await this.finish(record);
      return { ok: true, reservation: view(record) };
    });
  }

  /** Drives an unfinished phase to its end state. Throws UnfinishedStep if a product is unreachable. */
  private async finish(record: StoredReservation): Promise<StoredReservation> {
    const done = FINAL_PHASE[record.phase];
    if (done === undefined) {
      // Nothing to finish (held, or already final): its saved alarm time stands.
      return record;
    }
    const groups = [...linesByProduct(record.lines)];
    const step = (product_id: string) => ({
      product_id,
      reservation_id: record.id,
      created_by: record.closed_by ?? record.created_by,
      reason: record.reason,
      idempotency_key: record.closed_key ?? record.idempotency_key,
    });
    const results = await settleBounded(groups, PRODUCT_FANOUT_MAX, async ([product_id]): Promise<StepResult> => {
      const ledger = this.product(product_id);
      if (record.phase === "committing") return await ledger.commitHold(step(product_id));
      return await ledger.releaseHold({ ...step(product_id), attempt_max: record.attempt });
    });
    const failed = results.filter((result) => result.status === "rejected" || !result.value.ok);
    if (failed.length > 0) {
      const next = { ...record, retries: record.retries + 1 };
      await this.save(next);
      for (const result of failed) {
        console.error(JSON.stringify({ level: "warn", reservation_id: record.id, phase: record.phase, result: result.status === "rejected" ? String(result.reason) : result.value }));
      }
      throw new UnfinishedStep(`reservation ${record.id}: ${failed.length} product(s) not finished in phase ${record.phase}`);
    }
    const finished = { ...record, phase: done, retries: 0 };
    await this.save(finished);
    return finished;
  }

  /**
   * Decides a creation whose outcome was never saved. `held` is saved after the answer, so a
   * crash can leave `pending` behind a reservation its client was told is held, as well as
   * behind one cut short between products. The products' holds are the durable truth: if every
   * product holds this attempt, the creation succeeded and the reservation is held; if one does
   * not, it is undone, as the system's abort (releasing also fences off holds still in flight).
   * Asking never takes stock. When a product cannot be asked and none said no, the outcome is
   * unknown: past expires_at it ends as an expiry either way; before, it stays pending, and only
   * the alarm counts the failure for its backoff (a client's reads do not stretch it).
   */
  private async settlePending(record: StoredReservation, caller: "request" | "alarm"): Promise<StoredReservation> {
    if (record.phase !== "pending") return record;
    const products = [...linesByProduct(record.lines).keys()];
    const answers = await settleBounded(products, PRODUCT_FANOUT_MAX, async (product_id) => await this.product(product_id).holdsAttempt(record.id, record.attempt));
    let settled: StoredReservation;
    if (answers.some((answer) => answer.status === "fulfilled" && !answer.value)) {
      settled = this.transition(record, "aborting", ABORT_PRINCIPAL, `abort:${record.id}:${record.attempt}`);
    } else if (answers.every((answer) => answer.status === "fulfilled")) {
      settled = { ...record, phase: "held", retries: 0 };
    } else if (isExpired(record, this.now())) {
      settled = this.transition(record, "expiring", EXPIRY_PRINCIPAL, `expiry:${record.id}`);
    } else {
      // Logged like finish()'s failures: a product that keeps failing to answer (a bug, not an
      // outage) must not leave its stock reserved until expires_at without a trace.
      answers.forEach((answer, index) => {
        if (answer.status === "rejected") console.error(JSON.stringify({ level: "warn", reservation_id: record.id, phase: record.phase, product_id: products[index], result: String(answer.reason) }));
      });
      if (caller === "alarm") await this.save({ ...record, retries: record.retries + 1 });
      throw new UnfinishedStep(`reservation ${record.id}: a product could not be asked whether it holds attempt ${record.attempt}`);
    }
    await this.save(settled);
    return settled;
  }

  private transition(record: StoredReservation, phase: ReservationPhase, closed_by: string, closed_key: string): StoredReservation {
    return { ...record, phase, closed_by, closed_key, retries: 0 };
  }

  /** Saves the record with the time it next needs work, and moves the object's alarm earlier if that is sooner. */
  private async save(record: StoredReservation): Promise<void> {
    this.faults.beforeSave?.(record);
    const now_ms = Date.now();
    const at = nextAlarmAt(record, now_ms);
    saveReservation(this.db, record, this.now(), at);
    if (at === null) return;
    if (this.alarmAt === null) {
      // Unknown (no alarm, or an alarm run in progress whose rows are still due): set it exactly,
      // so a run that dies before it finishes leaves the alarm at its due rows, not at this one's.
      await this.scheduleAlarm();
      return;
    }
    // An alarm whose time has passed is firing, or was removed by something else: set it again
    // (still overdue, so it runs now and then sets itself exactly).
    if (at < this.alarmAt || this.alarmAt <= now_ms) {
      this.alarmAt = Math.min(at, this.alarmAt);
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }

  /** Sets the object's one alarm exactly: the earliest time any of its reservations needs work. */
  private async scheduleAlarm(): Promise<void> {
    const at = earliestAlarmAt(this.db);
    this.alarmAt = at;
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  private serialized<T>(id: string, work: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(work, work);
    const tail = run.then(
      () => this.runAfterAnswer(id),
      () => this.runAfterAnswer(id),
    );
    this.queues.set(id, tail);
    // Forget the chain once nothing was queued behind this run, so the map stays small.
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }

  /**
   * Runs the save an operation left for after its answer, in that operation's turn. Begun a
   * macrotask later, because an object's answer waits until every write begun before it is
   * durable (the output gate). That the answer has left by then is measured (README,
   * Performance), not promised: if it has not, the answer waits for this save, which is slower
   * but still correct. If the save fails, the record stays `pending` and is settled later.
   */
  private async runAfterAnswer(id: string): Promise<void> {
    const save = this.afterAnswer.get(id);
    if (save === undefined) return;
    this.afterAnswer.delete(id);
    await new Promise((resolve) => setTimeout(resolve, 0));
    try {
      await save();
    } catch (error) {
      console.error(JSON.stringify({ level: "error", message: "saving a reservation after its answer failed; it is settled later", reservation_id: id, error: String(error) }));
    }
  }

  private product(product_id: string) {
    return this.env.PRODUCT_LEDGER.getByName(product_id);
  }

  private now(): string {
    return new Date().toISOString();
  }
}

/** Where each unfinished phase ends once every product has done its part. */
const FINAL_PHASE: Partial<Record<ReservationPhase, ReservationPhase>> = {
  pending: "failed",
  aborting: "failed",
  committing: "committed",
  releasing: "released",
  expiring: "expired",
};

function view(record: StoredReservation): ReservationView {
  return {
    id: record.id,
    status: publicStatus(record.phase)!,
    reason: record.reason,
    expires_at: record.expires_at,
    created_by: record.created_by,
    created_at: record.created_at,
    lines: record.lines,
  };
}
