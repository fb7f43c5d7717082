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
// proof of it (settlePending; docs/decisions/0005-held-saved-after-the-answer.md).

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../../migrations/reservation/migrations.js";
import {
  type DueReservation,
  finalPhaseOf,
  isExpired,
  linesByProduct,
  nextAlarmAt,
  pendingRecord,
  publicStatus,
  type ReservationStatus,
  retryDelayMs,
  transitioned,
  viewOf as view,
  withinProductCalls,
} from "../../ledger/reservations";
import { err, ok } from "../../ledger/result";
import { RESERVATION_ALARM_BATCH_MAX, RESERVATION_ALARM_PRODUCT_CALLS_MAX } from "../../limits";
import type { Sql } from "../sql";
import { AlarmSchedule } from "./alarm-schedule";
import { PerIdQueue } from "./per-id-queue";
import { askEveryProduct, creationRefusal, finishEveryProduct, holdEveryProduct, logUnfinished } from "./product-steps";
import type { CloseResult, CreateReservation, CreateResult, ReadResult, ReservationDeps, StoredReservation } from "./rpc";
import { deferReservation, dueReservationIds, loadReservation, saveReservation } from "./store";

export const EXPIRY_PRINCIPAL = "system:expiry";
export const ABORT_PRINCIPAL = "system:reservation-abort";

/** Raised when a product object could not be reached; the alarm finishes the step later. */
class UnfinishedStep extends Error {
  override name = "UnfinishedStep";
}

export class Reservation extends DurableObject<Env> {
  /** The clock and the test seam; tests replace parts of it through runInDurableObject. */
  readonly deps: ReservationDeps = { now: () => Date.now(), faults: {} };
  private readonly sql: Sql;
  /** One operation at a time per reservation id. */
  private readonly queue = new PerIdQueue();
  private readonly alarms: AlarmSchedule;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.alarms = new AlarmSchedule(ctx.storage, this.sql);
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(drizzle(ctx.storage), migrations);
      await this.alarms.load();
    });
  }

  create(input: CreateReservation): Promise<CreateResult> {
    return this.queue.run(input.id, async () => {
      let record = loadReservation(this.sql, input.id);
      if (record && (record.phase === "pending" || record.phase === "aborting")) {
        // An earlier attempt crashed: decide it, and undo it if it did not get every hold.
        record = await this.finish(await this.settlePending(record, "request"));
      }
      if (record && publicStatus(record.phase) !== null) {
        if (record.idempotency_key !== input.idempotency_key) return err({ code: "reservation_exists", reservation_id: input.id });
        if (record.fingerprint !== input.fingerprint) return err({ code: "reservation_key_reused" });
        return ok({ replayed: true, reservation: view(record) });
      }
      return this.attemptCreate(input, (record?.attempt ?? 0) + 1);
    });
  }

  read(id: string): Promise<ReadResult> {
    return this.queue.run(id, async (): Promise<ReadResult> => {
      let record = loadReservation(this.sql, id);
      if (record?.phase === "pending") record = await this.settlePending(record, "request");
      return record && publicStatus(record.phase) !== null
        ? ok({ reservation: view(record) })
        : err({ code: "reservation_not_found", reservation_id: id });
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
    this.alarms.fired();
    const due: DueReservation[] = [];
    for (const id of dueReservationIds(this.sql, this.deps.now(), RESERVATION_ALARM_BATCH_MAX)) {
      try {
        const record = loadReservation(this.sql, id);
        if (record !== undefined) due.push({ id, product_calls: linesByProduct(record.lines).size });
      } catch (error) {
        this.deferAfterError(id, error);
      }
    }
    for (const id of withinProductCalls(due, RESERVATION_ALARM_PRODUCT_CALLS_MAX)) {
      try {
        await this.queue.run(id, () => this.wake(id));
      } catch (error) {
        this.deferAfterError(id, error);
      }
    }
    await this.alarms.setExactly();
  }

  /**
   * A bug or a storage error in one reservation: logged, and that one alone is retried later
   * with backoff, so it neither spins the alarm nor holds up the others.
   */
  private deferAfterError(id: string, error: unknown): void {
    console.error(
      JSON.stringify({
        level: "error",
        message: "reservation step failed unexpectedly; retrying later",
        reservation_id: id,
        error: String(error),
      }),
    );
    deferReservation(this.sql, id, (retries) => this.deps.now() + retryDelayMs(retries));
  }

  /** One reservation's due work: decide a crashed creation, expire it, or retry an unfinished step. */
  private async wake(id: string): Promise<void> {
    let record = loadReservation(this.sql, id);
    if (!record) return;
    try {
      record = await this.settlePending(record, "alarm");
      if (record.phase === "held" && isExpired(record, this.now())) {
        // Saved before any product is called, like every phase but a creation's `held`.
        record = transitioned(record, "expiring", EXPIRY_PRINCIPAL, `expiry:${record.id}`);
        await this.save(record);
      }
      await this.finish(record);
    } catch (error) {
      // Never let the platform's bounded alarm retries give up: our own backoff keeps trying.
      if (!(error instanceof UnfinishedStep)) throw error;
    }
  }

  private async attemptCreate(input: CreateReservation, attempt: number): Promise<CreateResult> {
    let record = pendingRecord({ ...input, created_by: input.principal }, attempt, this.now());
    await this.save(record);

    const results = await holdEveryProduct(this.product, record, attempt);
    if (results.every((result) => result.status === "fulfilled" && result.value.ok)) {
      const held: StoredReservation = { ...record, phase: "held" };
      // After the answer: the answer would otherwise wait for this write to be durable. Until it
      // is, the record says `pending`, and every product holding this attempt makes it held.
      this.queue.saveAfterAnswer(held.id, () => this.save(held));
      return ok({ replayed: false, reservation: view(held) });
    }

    // Not every line could be held: give back what was, then answer. If giving back fails,
    // the phase stays `aborting` and the alarm retries until nothing is held.
    record = transitioned(record, "aborting", ABORT_PRINCIPAL, `abort:${record.id}:${attempt}`);
    await this.save(record);
    await this.finish(record).catch((error: unknown) => {
      if (!(error instanceof UnfinishedStep)) throw error;
    });

    const refusal = creationRefusal(record, results);
    if (refusal !== undefined) return err(refusal);
    throw new Error(
      `reservation ${record.id}: ${results.filter((result) => result.status === "rejected").length} product object(s) failed while holding`,
    );
  }

  private close(id: string, target: "committing" | "releasing", principal: string, idempotency_key: string): Promise<CloseResult> {
    return this.queue.run(id, async (): Promise<CloseResult> => {
      let record = loadReservation(this.sql, id);
      if (record?.phase === "pending") record = await this.settlePending(record, "request");
      const status = record ? publicStatus(record.phase) : null;
      if (!record || status === null) return err({ code: "reservation_not_found", reservation_id: id });

      if (record.phase === "held" && isExpired(record, this.now())) {
        // Past expires_at the hold is over, whether or not the alarm has run yet.
        record = transitioned(record, "expiring", EXPIRY_PRINCIPAL, `expiry:${record.id}`);
        await this.save(record);
        await this.finish(record).catch((error: unknown) => {
          if (!(error instanceof UnfinishedStep)) throw error;
        });
        return target === "releasing"
          ? ok({ reservation: view(record) })
          : err({ code: "reservation_not_active", reservation_id: id, status: "expired" });
      }
      if (record.phase === "held") {
        record = transitioned(record, target, principal, idempotency_key);
        await this.save(record);
      }
      const wanted: ReservationStatus = target === "committing" ? "committed" : "released";
      const current = publicStatus(record.phase)!;
      // Releasing what already expired is a no-op success: the stock is back either way.
      const alreadyFine = current === wanted || (target === "releasing" && current === "expired");
      if (!alreadyFine) return err({ code: "reservation_not_active", reservation_id: id, status: current });
      record = await this.finish(record);
      return ok({ reservation: view(record) });
    });
  }

  /** Drives an unfinished phase to its end state. Throws UnfinishedStep if a product is unreachable. */
  private async finish(record: StoredReservation): Promise<StoredReservation> {
    const done = finalPhaseOf(record.phase);
    if (done === undefined) {
      // Nothing to finish (held, or already final): its saved alarm time stands.
      return record;
    }
    const results = await finishEveryProduct(this.product, record);
    const failed = results.filter((result) => result.status === "rejected" || !result.value.ok);
    if (failed.length > 0) {
      const next = { ...record, retries: record.retries + 1 };
      await this.save(next);
      logUnfinished(record, results);
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
    const answers = await askEveryProduct(this.product, record);
    let settled: StoredReservation;
    if (answers.some((answer) => answer.status === "fulfilled" && !answer.value)) {
      settled = transitioned(record, "aborting", ABORT_PRINCIPAL, `abort:${record.id}:${record.attempt}`);
    } else if (answers.every((answer) => answer.status === "fulfilled")) {
      settled = { ...record, phase: "held", retries: 0 };
    } else if (isExpired(record, this.now())) {
      settled = transitioned(record, "expiring", EXPIRY_PRINCIPAL, `expiry:${record.id}`);
    } else {
      // Logged like finish()'s failures: a product that keeps failing to answer (a bug, not an
      // outage) must not leave its stock reserved until expires_at without a trace.
      logUnfinished(record, answers);
      if (caller === "alarm") await this.save({ ...record, retries: record.retries + 1 });
      throw new UnfinishedStep(`reservation ${record.id}: a product could not be asked whether it holds attempt ${record.attempt}`);
    }
    await this.save(settled);
    return settled;
  }

  /** Saves the record with the time it next needs work, and moves the object's alarm earlier if that is sooner. */
  private async save(record: StoredReservation): Promise<void> {
    this.deps.faults.beforeSave?.(record);
    const now_ms = this.deps.now();
    const at = nextAlarmAt(record, now_ms);
    saveReservation(this.sql, record, this.now(), at);
    await this.alarms.saved(at, now_ms);
  }

  private readonly product = (product_id: string) => this.env.PRODUCT_LEDGER.getByName(product_id);

  private now(): string {
    return new Date(this.deps.now()).toISOString();
  }
}
