// ProductLedger: one Durable Object per product, named by its product id (ctx.id.name). A thin
// shell, and this file is its RPC surface: each method loads state, asks the pure core to decide,
// and persists the rows and the read model in ONE transactionSync (writer.ts), so the ledger, the
// cache and the remembered response are written together or not at all. Every answer is a
// Result (src/ledger/result.ts).

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../../migrations/product-ledger/migrations.js";
import { auditDb } from "../../d1/db";
import { registerProduct } from "../../d1/registry";
import type { FactOp } from "../../ledger/facts";
import { holdsAttempt } from "../../ledger/holds";
import { assertInvariant } from "../../ledger/invariants";
import { type Ok, ok } from "../../ledger/result";
import type { StockWithLocations, WriteCommand } from "../../ledger/types";
import { backoffDelay } from "../../lib/retry";
import { HASH_BACKFILL_PAGE_ROWS, REGISTRATION_RETRY_BACKOFF_MS } from "../../limits";
import type { Sql } from "../sql";
import * as exportStore from "./export-store";
import { applyFact } from "./facts";
import * as history from "./history";
import * as holdsStore from "./holds-store";
import { reconcileLedger } from "./reconcile";
import { commitHold, hold, releaseHold } from "./reservation-steps";
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
import { LedgerWriter } from "./writer";

export class ProductLedger extends DurableObject<Env> {
  /** The clock and the test seams; tests replace parts of it through runInDurableObject. */
  readonly deps: ProductLedgerDeps = { now: () => Date.now(), faults: {} };
  private readonly sql: Sql;
  private readonly product_id: string;
  private readonly writer: LedgerWriter;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Every object is reached by getByName(product_id): its name is its product.
    assertInvariant(ctx.id.name !== undefined, "a ProductLedger must be reached by its product id (getByName)");
    this.product_id = ctx.id.name;
    this.writer = new LedgerWriter(ctx.storage, this.sql, this.product_id, this.deps);
    // Runs before any request is delivered; drizzle applies pending migrations in one transaction.
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(drizzle(ctx.storage), migrations);
      // Rows written before the hash chain existed are linked now, in seq order, before any
      // new row needs the head hash. Each page is its own transaction.
      while (!this.writer.atomically(() => history.backfillHashes(this.sql, this.product_id, HASH_BACKFILL_PAGE_ROWS)).done) {
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
    const registered_at = this.writer.nowIso();
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
    return this.writer.write(command);
  }

  /** Several independent writes in order (a batch's items for this product): one RPC, each its own transaction. */
  writeEach(commands: WriteCommand[]): WriteResult[] {
    return commands.map((command) => this.writer.write(command));
  }

  /**
   * Facts reported by another system (webhooks), each in its own transaction, in order. Keys are
   * the facts' business ids, so a fact re-sent under a new delivery id changes nothing.
   */
  applyFacts(principal: string, ops: FactOp[]): FactResult[] {
    return ops.map((op) => applyFact(this.writer, principal, op));
  }

  /** Holds every line of a reservation on this product, or none of them. Idempotent per attempt. */
  hold(step: HoldStep): StepResult {
    return hold(this.writer, step);
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
    return commitHold(this.writer, step);
  }

  /** Gives back what a reservation holds here, and fences off holds of attempts up to `attempt_max`. */
  releaseHold(step: ReservationStep & { attempt_max: number }): StepResult {
    return releaseHold(this.writer, step);
  }

  /** The cached stock with its per-location breakdown. O(locations), never O(ledger). */
  stock(): Ok<{ stock: StockWithLocations }> {
    return ok({ stock: this.writer.cachedStock() });
  }

  /** Stock at a past ledger position or instant, recomputed from the ledger rows. */
  stockAt(query: StockAtQuery): StockAtResult {
    return history.stockAt(this.sql, this.product_id, store.readTotals(this.sql, this.product_id).version, query);
  }

  transactions(filter: history.TransactionFilter): TransactionPageResult {
    return ok(history.listTransactions(this.sql, this.product_id, filter));
  }

  /** One page of the recomputed hash chain after (after_seq, after_hash); the caller walks the pages. */
  verifyPage(after_seq: number, after_hash: string, limit: number): VerifyPageResult {
    return history.verifyPage(this.sql, this.product_id, store.readTotals(this.sql, this.product_id).version, after_seq, after_hash, limit);
  }

  /** Rows after the export watermark, encoded for D1 (EXPORT_COLUMNS), for the export to copy. */
  exportPage(limit: number): ExportPageResult {
    const watermark_seq = exportStore.readExportState(this.sql)?.watermark_seq ?? 0;
    return ok({ ...exportStore.encodedRowsAfter(this.sql, this.product_id, watermark_seq, limit), watermark_seq });
  }

  /** Called only after D1 confirmed rows up to `through_seq`. Answers how many rows that newly covers. */
  confirmExported(through_seq: number): Ok<{ rows_confirmed: number }> {
    return this.writer.atomically(() => {
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
    return this.writer.atomically(() => ok({ report: reconcileLedger(this.sql, this.product_id, () => this.writer.cachedStock()) }));
  }
}
