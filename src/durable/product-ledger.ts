// ProductLedger: one Durable Object per product. A thin shell: it loads state, asks the pure
// core to decide, and persists the rows and the read model in ONE transactionSync, so the
// ledger, the cache and the remembered response are written together or not at all.

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../migrations/product-ledger/migrations.js";
import { decide, type Accepted } from "../ledger/decide";
import { chainRows, checkChainPage, GENESIS_HASH, type ChainCheck } from "../ledger/hash-chain";
import type { LedgerFailure } from "../ledger/failures";
import { fingerprintOf } from "../ledger/fingerprint";
import { holdsAttempt, planCommit, planHold, planRelease, shortages } from "../ledger/holds";
import { formatUuidV7 } from "../ledger/ids";
import { assertContiguous, assertInvariant, assertLevel, assertTotalsMatchLevels } from "../ledger/invariants";
import { toStock, totalsFromLevels, withLocations } from "../ledger/stock";
import { scopedKey, type Stock, type StockWithLocations, type Transaction, type TransactionRequest, type WriteCommand } from "../ledger/types";
import { drizzle as drizzleD1 } from "drizzle-orm/d1";
import { products } from "../export/audit-tables";
import { HASH_BACKFILL_PAGE_ROWS, RECONCILE_CHUNK_ROWS, REGISTRATION_RETRY_DELAY_MS_MAX } from "../ledger/constants";
import { sameLevels } from "../ledger/reconcile";
import type { WebhookOp } from "../webhooks/events";
import * as exportStore from "./export-store";
import * as store from "./ledger-store";
import * as writePath from "./write-path";
import type { ExportPage, HoldStep, ReconcileReport, ReservationStep, StepResult, StockAtQuery, StockAtResult, TestFaults, WebhookOpResult, WriteResult } from "./product-ledger-rpc";
import { schema } from "./tables";

/** An accepted decision whose rows are linked into the hash chain and stored. */
type Appended = Omit<Accepted, "rows"> & { rows: Transaction[] };

export class ProductLedger extends DurableObject<Env> {
  private readonly db: store.LedgerDb;
  private readonly faults: TestFaults = {};
  /** Set by the first ledger row; the alarm then registers the product in D1. */
  private registrationDue = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = drizzle(ctx.storage, { schema });
    // Runs before any request is delivered; drizzle applies pending migrations in one transaction.
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(this.db, migrations);
      // Rows written before the hash chain existed are linked now, in seq order, before any
      // new row needs the head hash. Each page is its own transaction.
      while (!this.atomically(() => store.backfillHashes(this.db, store.readTotals(this.db, "").product_id, HASH_BACKFILL_PAGE_ROWS)).done) {
        // keep going: bounded pages keep each transaction small
      }
      // A product with rows from before the export existed gets its export state now.
      if (exportStore.readExportState(this.db) === undefined && store.lastSeq(this.db) > 0) exportStore.createExportState(this.db);
      // A product that has rows but is not yet in the D1 registry always has an alarm pending.
      const exported = exportStore.readExportState(this.db);
      if (exported?.registered_at === null && (await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now());
    });
  }

  /** Registers the product in D1's registry, retrying with backoff until D1 confirms. */
  override async alarm(): Promise<void> {
    const state = exportStore.readExportState(this.db);
    const product_id = store.readTotals(this.db, "").product_id;
    if (state === undefined || state.registered_at !== null) return;
    const registered_at = new Date().toISOString();
    try {
      await drizzleD1(this.env.AUDIT_DB).insert(products).values({ productId: product_id, registeredAt: registered_at }).onConflictDoNothing().run();
      exportStore.markRegistered(this.db, registered_at);
    } catch (error) {
      const attempts = exportStore.countRegistrationAttempt(this.db);
      console.error(JSON.stringify({ level: "warn", message: "product registration in D1 failed; retrying", product_id, attempts, error: String(error) }));
      await this.ctx.storage.setAlarm(Date.now() + Math.min(REGISTRATION_RETRY_DELAY_MS_MAX, 1_000 * 2 ** Math.min(attempts, 20)));
    }
  }

  /**
   * Recomputes one page of the hash chain after (after_seq, after_hash). The caller walks the
   * pages, so a ledger of millions of rows is verified without one giant read.
   */
  verifyPage(product_id: string, after_seq: number, after_hash: string, limit: number): ChainCheck & { done: boolean; version: number } {
    const version = store.readTotals(this.db, product_id).version;
    const rows = exportStore.rowsAfter(this.db, after_seq, limit).map((row) => store.toTransaction(product_id, row));
    const check = checkChainPage(after_seq, after_seq === 0 ? GENESIS_HASH : after_hash, rows);
    const done = check.first_bad_seq !== null || rows.length < limit;
    // Rows cut off the end still leave a chain that links: the cached version says they existed.
    if (done && check.first_bad_seq === null && check.last_seq < version) return { ...check, first_bad_seq: check.last_seq + 1, done, version };
    return { ...check, done, version };
  }

  /** Rows after the export watermark, encoded for D1 (exportStore.EXPORT_COLUMNS), for the export to copy. */
  exportPage(product_id: string, limit: number): ExportPage {
    const watermark_seq = exportStore.readExportState(this.db)?.watermark_seq ?? 0;
    return { ...exportStore.encodedRowsAfter(this.ctx.storage, product_id, watermark_seq, limit), watermark_seq };
  }

  /** Called only after D1 confirmed rows up to `through_seq`. Returns how many rows that newly covers. */
  confirmExported(through_seq: number): number {
    return this.atomically(() => {
      const version = store.readTotals(this.db, "").version;
      assertInvariant(through_seq <= version, `export confirmed seq ${through_seq} beyond version ${version}`);
      return exportStore.advanceWatermark(this.db, through_seq);
    });
  }

  /**
   * Checks the cache against the ledger and rebuilds it from the ledger when they disagree
   * (never the other way round), and returns the ledger's sums up to the export watermark.
   */
  reconcile(product_id: string): ReconcileReport {
    return this.atomically((): ReconcileReport => {
      const totals = store.readTotals(this.db, product_id);
      const cached = store.readLevels(this.db);
      const last_seq = store.lastSeq(this.db);
      const { levels: truth, updated_at: last_created_at } = store.levelsFromLedger(this.db, last_seq);
      const cacheTotals = totalsFromLevels(product_id, cached, totals.version, totals.updated_at);
      const head_hash = store.hashAt(this.db, last_seq);
      const cached_head = store.readHeadHash(this.db);
      const consistent =
        sameLevels(cached, truth) &&
        totals.version === last_seq &&
        // A wrong remembered head would link the next row onto the wrong hash.
        (cached_head === null || cached_head === head_hash) &&
        totals.on_hand === cacheTotals.on_hand &&
        totals.reserved === cacheTotals.reserved &&
        totals.oversold_locations === cacheTotals.oversold_locations;
      let repaired: ReconcileReport["repaired"] = null;
      if (!consistent) {
        const before = { ...toStock(totals), locations: withLocations(totals, cached).locations };
        exportStore.rebuildReadModel(this.db, product_id, truth, last_seq, last_created_at ?? totals.updated_at ?? "", head_hash);
        repaired = { before, after: this.stock(product_id) };
        console.error(JSON.stringify({ level: "warn", message: "cache disagreed with the ledger and was rebuilt", product_id }));
      }
      const watermark_seq = exportStore.readExportState(this.db)?.watermark_seq ?? 0;
      return {
        version: last_seq,
        repaired,
        watermark_seq,
        watermark_hash: store.hashAt(this.db, watermark_seq),
        chunks: exportStore.chunkSums(this.db, watermark_seq, RECONCILE_CHUNK_ROWS),
      };
    });
  }

  /** Appends one write (one or more rows) exactly once per idempotency key. */
  write(command: WriteCommand): WriteResult {
    const fingerprint = fingerprintOf(command);
    return this.atomically((): WriteResult => {
      const key = scopedKey(command.key_scope ?? "client", command.idempotency_key);
      const { stored, state } = writePath.loadForWrite(this.db, this.ctx.storage, key, command.product_id, command.requests);
      if (stored !== undefined) {
        if (stored.fingerprint !== fingerprint) {
          return { ok: false, failure: { code: "idempotency_key_reused" }, stock: this.currentStock(command.product_id) };
        }
        // The replay answers with the first success: its rows (immutable) and the stock then.
        const transactions = store.rowsBetween(this.db, command.product_id, stored.first_seq, stored.last_seq);
        return { ok: true, replayed: true, transactions, stock: JSON.parse(stored.stock) as Stock };
      }
      const decision = this.append(command, state());
      if (!decision.ok) return { ok: false, failure: decision.failure, stock: this.currentStock(command.product_id) };
      const stock = stockAfter(decision);
      writePath.saveKey(this.ctx.storage, key, fingerprint, stock, decision.rows);
      return { ok: true, replayed: false, transactions: decision.rows, stock };
    });
  }

  /** Several independent writes in order (a batch's items for this product): one RPC, each its own transaction. */
  writeEach(commands: WriteCommand[]): WriteResult[] {
    return commands.map((command) => this.write(command));
  }

  /**
   * Webhook operations for this product, each in its own transaction, in order. Keys are the
   * events' business ids, so an event re-sent under a new delivery id changes nothing.
   */
  applyWebhookOps(principal: string, ops: WebhookOp[]): WebhookOpResult[] {
    return ops.map((op) => this.applyWebhookOp(principal, op));
  }

  private applyWebhookOp(principal: string, op: WebhookOp): WebhookOpResult {
    const base = { product_id: op.product_id, key: op.key };
    const command = (request: TransactionRequest): WriteCommand => ({ product_id: op.product_id, idempotency_key: op.key, key_scope: "webhook", principal, expected_version: null, is_fact: true, requests: [request] });
    const used = (key: string) => store.isKeyUsed(this.db, scopedKey("webhook", key));
    const outcome = (result: WriteResult): WebhookOpResult =>
      result.ok ? { ...base, status: result.replayed ? "duplicate" : "applied", seq: result.transactions[0]!.seq } : { ...base, status: "refused", error: result.failure.code };

    switch (op.kind) {
      case "record":
        return outcome(this.write(command(op.request)));
      case "place":
        return this.atomically((): WebhookOpResult => {
          const alreadyPlaced = used(op.key);
          if (!alreadyPlaced && (store.isCancellationRemembered(this.db, op.cancel_key) || used(op.cancel_key))) {
            return { ...base, status: "skipped_cancelled" };
          }
          return outcome(this.write(command(op.request)));
        });
      case "cancel":
        return this.atomically((): WebhookOpResult => {
          if (used(op.key)) return outcome(this.write(command(this.returnOf(op)!)));
          if (store.isCancellationRemembered(this.db, op.key)) return { ...base, status: "duplicate" };
          const placed = this.returnOf(op);
          if (placed === undefined) {
            // The cancel came first: remember it, so the placement is not applied when it arrives.
            store.rememberCancellation(this.db, op.key, new Date().toISOString());
            return { ...base, status: "cancel_remembered" };
          }
          return outcome(this.write(command(placed)));
        });
    }
  }

  /** The RETURN that undoes an order line's placement: same quantity and location as the REMOVE. */
  private returnOf(op: Extract<WebhookOp, { kind: "cancel" }>): TransactionRequest | undefined {
    const placed = store.firstRowOfKey(this.db, op.product_id, scopedKey("webhook", op.place_key));
    if (placed === undefined) return undefined;
    return { type: "RETURN", quantity: placed.quantity, location_id: placed.location_id, reason: op.reason, actor: null, metadata: null, reservation_id: null };
  }

  /** Holds every line of a reservation on this product, or none of them. Idempotent per attempt. */
  hold(step: HoldStep): StepResult {
    return this.atomically((): StepResult => {
      const plan = planHold(store.readHolds(this.db, step.reservation_id), store.readFence(this.db, step.reservation_id), step.attempt, step.lines, stepBase(step));
      if (plan.kind === "stale_attempt") return { ok: false, code: "stale_attempt" };
      if (plan.kind === "already_held") return { ok: true, stock: this.currentStock(step.product_id) };

      const state = writePath.loadState(this.db, this.ctx.storage, step.product_id, plan.requests);
      const short = shortages(step.lines, state.levels);
      if (short.length > 0) return { ok: false, code: "insufficient_stock", shortages: short, stock: this.currentStock(step.product_id) };
      const decision = this.append(reservationCommand(step, plan.requests, false), state);
      if (!decision.ok) return { ok: false, code: "refused", failure: decision.failure };
      const holds = step.lines.map((line) => ({ ...line, reservation_id: step.reservation_id, status: "held" as const, attempt: step.attempt, expires_at: step.expires_at }));
      store.saveHolds(this.db, holds, decision.next.version);
      return { ok: true, stock: stockAfter(decision) };
    });
  }

  /**
   * Whether this product holds the lines of a reservation's `attempt`. Reads only: after a crash,
   * the Reservation object asks every product this to learn whether a creation got all its holds.
   */
  holdsAttempt(reservation_id: string, attempt: number): boolean {
    this.faults.beforeHoldsAttempt?.();
    return holdsAttempt(store.readHolds(this.db, reservation_id), attempt);
  }

  /** The sale of what a reservation holds here: RELEASE + REMOVE per line. Committing twice is a no-op. */
  commitHold(step: ReservationStep): StepResult {
    return this.atomically((): StepResult => {
      const plan = planCommit(store.readHolds(this.db, step.reservation_id), stepBase(step));
      if (plan.kind === "not_active") return { ok: false, code: "not_active" };
      if (plan.kind === "already_committed") return { ok: true, stock: this.currentStock(step.product_id) };
      // The held units were promised to this buyer: the sale is a fact, even if a count since
      // found less stock than was held.
      const decision = this.append(reservationCommand(step, plan.requests, true));
      if (!decision.ok) return { ok: false, code: "refused", failure: decision.failure };
      store.setHoldStatus(this.db, step.reservation_id, "held", "committed", decision.next.version);
      return { ok: true, stock: stockAfter(decision) };
    });
  }

  /**
   * Gives back what a reservation holds here (release, expiry, or undoing a failed creation),
   * and fences off holds of attempts up to `attempt_max` that may still be in flight.
   */
  releaseHold(step: ReservationStep & { attempt_max: number }): StepResult {
    return this.atomically((): StepResult => {
      store.raiseFence(this.db, step.reservation_id, step.attempt_max);
      const requests = planRelease(store.readHolds(this.db, step.reservation_id), step.attempt_max, stepBase(step));
      if (requests.length === 0) return { ok: true, stock: this.currentStock(step.product_id) };
      const decision = this.append(reservationCommand(step, requests, false));
      if (!decision.ok) return { ok: false, code: "refused", failure: decision.failure };
      store.setHoldStatus(this.db, step.reservation_id, "held", "released", decision.next.version);
      return { ok: true, stock: stockAfter(decision) };
    });
  }

  /** The cached stock with its per-location breakdown. O(locations), never O(ledger). */
  stock(product_id: string): StockWithLocations {
    const totals = store.readTotals(this.db, product_id);
    const levels = store.readLevels(this.db);
    assertTotalsMatchLevels(totals, levels);
    return withLocations(totals, levels);
  }

  /** Stock at a past ledger position or instant, recomputed from the ledger rows. */
  stockAt(product_id: string, query: StockAtQuery): StockAtResult {
    const current_version = store.readTotals(this.db, product_id).version;
    const version = "at_version" in query ? query.at_version : Math.min(store.versionAsOf(this.db, query.as_of), current_version);
    if (version > current_version) return { ok: false, code: "version_not_reached", current_version };
    const { levels, updated_at } = store.levelsFromLedger(this.db, version);
    return { ok: true, stock: { ...withLocations(totalsFromLevels(product_id, levels, version, updated_at), levels), derived: true } };
  }

  transactions(product_id: string, filter: store.TransactionFilter): { data: Transaction[]; next_after: number | null } {
    return store.listTransactions(this.db, product_id, filter);
  }

  /** Everything in `work` commits together, or, when it throws, not at all. No await inside. */
  private atomically<T>(work: () => T): T {
    this.registrationDue = false;
    // The storage's own transaction, not drizzle's wrapper (which builds a transaction object per
    // call); drizzle queries inside still run on this same storage, in this transaction.
    const result = this.ctx.storage.transactionSync(work);
    if (this.registrationDue) {
      // Scheduled in the same synchronous block as the first row, so both are stored together.
      this.registrationDue = false;
      void this.ctx.storage.setAlarm(Date.now());
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
    state = writePath.loadState(this.db, this.ctx.storage, command.product_id, command.requests),
  ): Appended | { ok: false; failure: LedgerFailure } {
    // A product's object only ever holds that product: a mismatch is a routing bug.
    assertInvariant(state.stored_product_id === null || state.stored_product_id === command.product_id, `object of ${state.stored_product_id} received a write for ${command.product_id}`);
    const now = new Date().toISOString();
    const new_ids = command.requests.map(() => formatUuidV7(Date.now(), crypto.getRandomValues(new Uint8Array(10))));
    const decision = decide(command, state, { now, new_ids });
    if (!decision.ok) return decision;
    assertContiguous(state.version, decision.rows);
    if (state.version === 0) {
      exportStore.createExportState(this.db);
      this.registrationDue = true;
    }
    decision.levels.forEach(assertLevel);
    // Linked to the chain inside the same synchronous transaction as the insert.
    const rows = chainRows(state.head_hash, decision.rows);
    writePath.insertRows(this.ctx.storage, rows);
    this.faults.afterLedgerInsert?.();
    writePath.saveReadModel(this.ctx.storage, decision, rows[rows.length - 1]!.hash);
    return { ...decision, rows };
  }

  private currentStock(product_id: string): Stock {
    return toStock(store.readTotals(this.db, product_id));
  }

}

function stockAfter(decision: Pick<Accepted, "next">): Stock {
  return toStock({ ...decision.next, updated_at: decision.next.last_created_at });
}

function stepBase(step: ReservationStep): Pick<TransactionRequest, "reason" | "actor" | "metadata" | "reservation_id"> {
  return { reason: step.reason, actor: null, metadata: null, reservation_id: step.reservation_id };
}

function reservationCommand(step: ReservationStep, requests: TransactionRequest[], is_fact: boolean): WriteCommand {
  return { product_id: step.product_id, idempotency_key: step.idempotency_key, principal: step.created_by, expected_version: null, is_fact, requests };
}
