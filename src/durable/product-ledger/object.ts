// ProductLedger: one Durable Object per product, named by its product id (ctx.id.name). A thin
// shell: it loads state, asks the pure core to decide, and persists the rows and the read model
// in ONE transactionSync, so the ledger, the cache and the remembered response are written
// together or not at all. Every RPC answer is a Result (src/ledger/result.ts).

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../../migrations/product-ledger/migrations.js";
import { auditDb } from "../../d1/db";
import { registerProduct } from "../../d1/registry";
import { type Accepted, decide } from "../../ledger/decide";
import { type FactOp, planFact } from "../../ledger/facts";
import type { LedgerFailure } from "../../ledger/failures";
import { fingerprintOf } from "../../ledger/fingerprint";
import { chainRows, checkChainPage, GENESIS_HASH } from "../../ledger/hash-chain";
import { holdsAttempt, planCommit, planHold, planRelease, shortages } from "../../ledger/holds";
import { formatUuidV7 } from "../../ledger/ids";
import { assertContiguous, assertInvariant, assertLevel, assertTotalsMatchLevels } from "../../ledger/invariants";
import { err, type Ok, ok } from "../../ledger/result";
import { toStock, totalsFromLevels, withLocations } from "../../ledger/stock";
import {
  type Stock,
  type StockWithLocations,
  scopedKey,
  type Transaction,
  type TransactionRequest,
  type WriteCommand,
} from "../../ledger/types";
import { backoffDelay } from "../../lib/retry";
import { HASH_BACKFILL_PAGE_ROWS, REGISTRATION_RETRY_BACKOFF_MS } from "../../limits";
import type { Sql } from "../sql";
import * as exportStore from "./export-store";
import * as history from "./history";
import * as holdsStore from "./holds-store";
import { reconcileLedger } from "./reconcile";
import type {
  ExportPageResult,
  FactResult,
  HoldStep,
  ProductLedgerDeps,
  ReconcileResult,
  ReservationStep,
  StepResult,
  StockAtQuery,
  StockAtResult,
  TransactionPageResult,
  VerifyPageResult,
  WriteResult,
} from "./rpc";
import * as store from "./store";

/** An accepted decision whose rows are linked into the hash chain and stored. */
type Appended = Omit<Accepted, "rows"> & { rows: Transaction[] };

export class ProductLedger extends DurableObject<Env> {
  /** The clock and the test seams; tests replace parts of it through runInDurableObject. */
  readonly deps: ProductLedgerDeps = { now: () => Date.now(), faults: {} };
  private readonly sql: Sql;
  private readonly product_id: string;
  /** Set by the first ledger row; the alarm then registers the product in D1. */
  private registrationDue = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Every object is reached by getByName(product_id): its name is its product.
    assertInvariant(ctx.id.name !== undefined, "a ProductLedger must be reached by its product id (getByName)");
    this.product_id = ctx.id.name;
    // Runs before any request is delivered; drizzle applies pending migrations in one transaction.
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(drizzle(ctx.storage), migrations);
      // Rows written before the hash chain existed are linked now, in seq order, before any
      // new row needs the head hash. Each page is its own transaction.
      while (!this.atomically(() => history.backfillHashes(this.sql, this.product_id, HASH_BACKFILL_PAGE_ROWS)).done) {
        // keep going: bounded pages keep each transaction small
      }
      // A product with rows from before the export existed gets its export state now.
      if (exportStore.readExportState(this.sql) === undefined && history.lastSeq(this.sql) > 0) exportStore.createExportState(this.sql);
      // A product that has rows but is not yet in the D1 registry always has an alarm pending.
      const exported = exportStore.readExportState(this.sql);
      if (exported?.registered_at === null && (await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(this.deps.now());
    });
  }

  /** Registers the product in D1's registry, retrying with backoff until D1 confirms. */
  override async alarm(): Promise<void> {
    const state = exportStore.readExportState(this.sql);
    if (state === undefined || state.registered_at !== null) return;
    const registered_at = this.nowIso();
    try {
      await registerProduct(auditDb(this.env.AUDIT_DB), this.product_id, registered_at);
      exportStore.markRegistered(this.sql, registered_at);
    } catch (error) {
      const attempts = exportStore.countRegistrationAttempt(this.sql);
      console.error(
        JSON.stringify({
          level: "warn",
          message: "product registration in D1 failed; retrying",
          product_id: this.product_id,
          attempts,
          error: String(error),
        }),
      );
      await this.ctx.storage.setAlarm(this.deps.now() + backoffDelay(attempts, REGISTRATION_RETRY_BACKOFF_MS));
    }
  }

  /** Appends one write (one or more rows) exactly once per idempotency key. */
  write(command: WriteCommand): WriteResult {
    const fingerprint = fingerprintOf(command);
    return this.atomically((): WriteResult => {
      const key = scopedKey(command.key_scope ?? "client", command.idempotency_key);
      const { stored, state } = store.loadForWrite(this.sql, key, this.product_id, command.requests);
      if (stored !== undefined) {
        if (stored.fingerprint !== fingerprint) return err({ code: "idempotency_key_reused" });
        // The replay answers with the first success: its rows (immutable) and the stock then.
        const transactions = history.rowsBetween(this.sql, this.product_id, stored.first_seq, stored.last_seq);
        return ok({ replayed: true, transactions, stock: JSON.parse(stored.stock) as Stock });
      }
      const decision = this.append(command, state());
      if (!decision.ok) return err(decision.failure);
      const stock = stockAfter(decision);
      store.saveKey(this.sql, key, fingerprint, stock, decision.rows);
      return ok({ replayed: false, transactions: decision.rows, stock });
    });
  }

  /** Several independent writes in order (a batch's items for this product): one RPC, each its own transaction. */
  writeEach(commands: WriteCommand[]): WriteResult[] {
    return commands.map((command) => this.write(command));
  }

  /**
   * Facts reported by another system (webhooks), each in its own transaction, in order. Keys are
   * the facts' business ids, so a fact re-sent under a new delivery id changes nothing; whether
   * an order line's placement or cancellation applies is decided by planFact.
   */
  applyFacts(principal: string, ops: FactOp[]): FactResult[] {
    return ops.map((op) => this.atomically(() => this.applyFact(principal, op)));
  }

  private applyFact(principal: string, op: FactOp): FactResult {
    assertInvariant(op.product_id === this.product_id, `object of ${this.product_id} received a fact for ${op.product_id}`);
    const base = { product_id: op.product_id, key: op.key };
    const plan = planFact(op, {
      keyUsed: (key) => store.isKeyUsed(this.sql, scopedKey("webhook", key)),
      cancellationRemembered: (key) => holdsStore.isCancellationRemembered(this.sql, key),
      firstRow: (key) => history.firstRowOfKey(this.sql, this.product_id, scopedKey("webhook", key)),
    });
    switch (plan.kind) {
      case "skip_cancelled":
        return ok({ ...base, status: "skipped_cancelled" });
      case "duplicate":
        return ok({ ...base, status: "duplicate" });
      case "remember_cancellation":
        holdsStore.rememberCancellation(this.sql, op.key, this.nowIso());
        return ok({ ...base, status: "cancel_remembered" });
      case "write": {
        const result = this.write({
          idempotency_key: op.key,
          key_scope: "webhook",
          principal,
          expected_version: null,
          is_fact: true,
          requests: [plan.request],
        });
        if (!result.ok) return err({ ...base, code: result.error.code });
        return ok({ ...base, status: result.replayed ? "duplicate" : "applied", seq: result.transactions[0]!.seq });
      }
    }
  }

  /** Holds every line of a reservation on this product, or none of them. Idempotent per attempt. */
  hold(step: HoldStep): StepResult {
    return this.atomically((): StepResult => {
      const plan = planHold(
        holdsStore.readHolds(this.sql, step.reservation_id),
        holdsStore.readFence(this.sql, step.reservation_id),
        step.attempt,
        step.lines,
        stepBase(step),
      );
      if (plan.kind === "stale_attempt") return err({ code: "stale_attempt" });
      if (plan.kind === "already_held") return ok({ stock: this.currentStock() });

      const state = store.loadState(this.sql, this.product_id, plan.requests);
      const short = shortages(step.lines, state.levels);
      if (short.length > 0) return err({ code: "hold_short", shortages: short, stock: this.currentStock() });
      const decision = this.append(reservationCommand(step, plan.requests, false), state);
      if (!decision.ok) return err(decision.failure);
      const holds = step.lines.map((line) => ({
        ...line,
        reservation_id: step.reservation_id,
        status: "held" as const,
        attempt: step.attempt,
        expires_at: step.expires_at,
      }));
      holdsStore.saveHolds(this.sql, holds, decision.next.version);
      return ok({ stock: stockAfter(decision) });
    });
  }

  /**
   * Whether this product holds the lines of a reservation's `attempt`. Reads only: after a crash,
   * the Reservation object asks every product this to learn whether a creation got all its holds.
   */
  holdsAttempt(reservation_id: string, attempt: number): Ok<{ holds: boolean }> {
    this.deps.faults.beforeHoldsAttempt?.();
    return ok({ holds: holdsAttempt(holdsStore.readHolds(this.sql, reservation_id), attempt) });
  }

  /** The sale of what a reservation holds here: RELEASE + REMOVE per line. Committing twice is a no-op. */
  commitHold(step: ReservationStep): StepResult {
    return this.atomically((): StepResult => {
      const plan = planCommit(holdsStore.readHolds(this.sql, step.reservation_id), stepBase(step));
      if (plan.kind === "not_active") return err({ code: "not_active" });
      if (plan.kind === "already_committed") return ok({ stock: this.currentStock() });
      // The held units were promised to this buyer: the sale is a fact, even if a count since
      // found less stock than was held.
      const decision = this.append(reservationCommand(step, plan.requests, true));
      if (!decision.ok) return err(decision.failure);
      holdsStore.setHoldStatus(this.sql, step.reservation_id, "held", "committed", decision.next.version);
      return ok({ stock: stockAfter(decision) });
    });
  }

  /**
   * Gives back what a reservation holds here (release, expiry, or undoing a failed creation),
   * and fences off holds of attempts up to `attempt_max` that may still be in flight.
   */
  releaseHold(step: ReservationStep & { attempt_max: number }): StepResult {
    return this.atomically((): StepResult => {
      holdsStore.raiseFence(this.sql, step.reservation_id, step.attempt_max);
      const requests = planRelease(holdsStore.readHolds(this.sql, step.reservation_id), step.attempt_max, stepBase(step));
      if (requests.length === 0) return ok({ stock: this.currentStock() });
      const decision = this.append(reservationCommand(step, requests, false));
      if (!decision.ok) return err(decision.failure);
      holdsStore.setHoldStatus(this.sql, step.reservation_id, "held", "released", decision.next.version);
      return ok({ stock: stockAfter(decision) });
    });
  }

  /** The cached stock with its per-location breakdown. O(locations), never O(ledger). */
  stock(): Ok<{ stock: StockWithLocations }> {
    return ok({ stock: this.cachedStock() });
  }

  /** Stock at a past ledger position or instant, recomputed from the ledger rows. */
  stockAt(query: StockAtQuery): StockAtResult {
    const current_version = store.readTotals(this.sql, this.product_id).version;
    const version = "at_version" in query ? query.at_version : Math.min(history.versionAsOf(this.sql, query.as_of), current_version);
    if (version > current_version) return err({ code: "version_not_reached", current_version });
    const { levels, updated_at } = history.levelsFromLedger(this.sql, version);
    return ok({
      stock: { ...withLocations(totalsFromLevels(this.product_id, levels, version, updated_at), levels), derived: true as const },
    });
  }

  transactions(filter: history.TransactionFilter): TransactionPageResult {
    return ok(history.listTransactions(this.sql, this.product_id, filter));
  }

  /**
   * Recomputes one page of the hash chain after (after_seq, after_hash). The caller walks the
   * pages, so a ledger of millions of rows is verified without one giant read.
   */
  verifyPage(after_seq: number, after_hash: string, limit: number): VerifyPageResult {
    const version = store.readTotals(this.sql, this.product_id).version;
    const rows = history.rowsAfter(this.sql, this.product_id, after_seq, limit);
    const check = checkChainPage(after_seq, after_seq === 0 ? GENESIS_HASH : after_hash, rows);
    const done = check.first_bad_seq !== null || rows.length < limit;
    // Rows cut off the end still leave a chain that links: the cached version says they existed.
    if (done && check.first_bad_seq === null && check.last_seq < version)
      return ok({ ...check, first_bad_seq: check.last_seq + 1, done, version });
    return ok({ ...check, done, version });
  }

  /** Rows after the export watermark, encoded for D1 (exportStore.EXPORT_COLUMNS), for the export to copy. */
  exportPage(limit: number): ExportPageResult {
    const watermark_seq = exportStore.readExportState(this.sql)?.watermark_seq ?? 0;
    return ok({ ...exportStore.encodedRowsAfter(this.sql, this.product_id, watermark_seq, limit), watermark_seq });
  }

  /** Called only after D1 confirmed rows up to `through_seq`. Answers how many rows that newly covers. */
  confirmExported(through_seq: number): Ok<{ rows_confirmed: number }> {
    return this.atomically(() => {
      const version = store.readTotals(this.sql, this.product_id).version;
      assertInvariant(through_seq <= version, `export confirmed seq ${through_seq} beyond version ${version}`);
      return ok({ rows_confirmed: exportStore.advanceWatermark(this.sql, through_seq) });
    });
  }

  /**
   * Checks the cache against the ledger and rebuilds it from the ledger when they disagree
   * (never the other way round), and returns the ledger's sums up to the export watermark.
   */
  reconcile(): ReconcileResult {
    return this.atomically(() => ok({ report: reconcileLedger(this.sql, this.product_id, () => this.cachedStock()) }));
  }

  /** Everything in `work` commits together, or, when it throws, not at all. No await inside. */
  private atomically<T>(work: () => T): T {
    this.registrationDue = false;
    const result = this.ctx.storage.transactionSync(work);
    if (this.registrationDue) {
      // Scheduled in the same synchronous block as the first row, so both are stored together.
      this.registrationDue = false;
      void this.ctx.storage.setAlarm(this.deps.now());
    }
    return result;
  }

  /**
   * Decides a command against the current state and, when accepted, appends its rows and
   * writes the read model. Must run inside atomically().
   */
  private append(
    command: WriteCommand,
    // A caller that already loaded the state in this transaction passes it, instead of reading twice.
    state = store.loadState(this.sql, this.product_id, command.requests),
  ): Appended | { ok: false; failure: LedgerFailure } {
    // A product's object only ever holds that product: a mismatch is a routing bug.
    assertInvariant(
      state.stored_product_id === null || state.stored_product_id === this.product_id,
      `object of ${state.stored_product_id} is named ${this.product_id}`,
    );
    const now_ms = this.deps.now();
    const new_ids = command.requests.map(() => formatUuidV7(now_ms, crypto.getRandomValues(new Uint8Array(10))));
    const decision = decide(command, state, { now: new Date(now_ms).toISOString(), new_ids });
    if (!decision.ok) return decision;
    assertContiguous(state.version, decision.rows);
    if (state.version === 0) {
      exportStore.createExportState(this.sql);
      this.registrationDue = true;
    }
    decision.levels.forEach(assertLevel);
    // Linked to the chain inside the same synchronous transaction as the insert.
    const rows = chainRows(state.head_hash, decision.rows);
    store.insertRows(this.sql, rows);
    this.deps.faults.afterLedgerInsert?.();
    store.saveReadModel(this.sql, decision, rows[rows.length - 1]!.hash);
    return { ...decision, rows };
  }

  private cachedStock(): StockWithLocations {
    const totals = store.readTotals(this.sql, this.product_id);
    const levels = store.readLevels(this.sql);
    assertTotalsMatchLevels(totals, levels);
    return withLocations(totals, levels);
  }

  private currentStock(): Stock {
    return toStock(store.readTotals(this.sql, this.product_id));
  }

  private nowIso(): string {
    return new Date(this.deps.now()).toISOString();
  }
}

function stockAfter(decision: Pick<Accepted, "next">): Stock {
  return toStock({ ...decision.next, updated_at: decision.next.last_created_at });
}

function stepBase(step: ReservationStep): Pick<TransactionRequest, "reason" | "actor" | "metadata" | "reservation_id"> {
  return { reason: step.reason, actor: null, metadata: null, reservation_id: step.reservation_id };
}

function reservationCommand(step: ReservationStep, requests: TransactionRequest[], is_fact: boolean): WriteCommand {
  return { idempotency_key: step.idempotency_key, principal: step.created_by, expected_version: null, is_fact, requests };
}
