// ProductLedger: one Durable Object per product, named by its product id (ctx.id.name). A thin
// shell, and this file is its RPC surface: each method loads state, asks the pure core to decide,
// and persists the rows and the read model in ONE transactionSync (writer.ts), so the ledger, the
// cache and the remembered response are written together or not at all. Every answer is a
// Result (src/ledger/result.ts).

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../../migrations/product-ledger/migrations.js";
import { eventOfSettings, positionOfEventId } from "../../ledger/events";
import type { FactOp } from "../../ledger/facts";
import { holdsAttempt } from "../../ledger/holds";
import { assertInvariant } from "../../ledger/invariants";
import { err, type Ok, ok } from "../../ledger/result";
import { changedSettings, type ProductSettings, type SettingsChange } from "../../ledger/settings";
import type { StockWithLocations, WriteCommand } from "../../ledger/types";
import { sha256Hex } from "../../lib/sha256";
import { HASH_BACKFILL_PAGE_ROWS } from "../../limits";
import type { Sql } from "../sql";
import { AlarmWork } from "./alarm-work";
import * as eventsStore from "./events-store";
import * as exportStore from "./export-store";
import { applyFact } from "./facts";
import { EventForwarder } from "./forwarder";
import * as history from "./history";
import * as holdsStore from "./holds-store";
import { reconcileLedger } from "./reconcile";
import { commitHold, hold, releaseHold } from "./reservation-steps";
import type {
  EventFilter,
  EventPageResult,
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
import { readSettings, saveSettings } from "./settings-store";
import * as store from "./store";
import { LedgerWriter } from "./writer";

export class ProductLedger extends DurableObject<Env> {
  /** The clock and the test seams; tests replace parts of it through runInDurableObject. */
  readonly deps: ProductLedgerDeps = { now: () => Date.now(), faults: {} };
  private readonly sql: Sql;
  private readonly product_id: string;
  private readonly writer: LedgerWriter;
  private readonly forwarder: EventForwarder;
  private readonly alarms: AlarmWork;
  /** The product's part of its event ids (a hash of its id: unique across products). */
  private readonly product_hash: string;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Every object is reached by getByName(product_id): its name is its product.
    assertInvariant(ctx.id.name !== undefined, "a ProductLedger must be reached by its product id (getByName)");
    this.product_id = ctx.id.name;
    this.product_hash = sha256Hex(this.product_id).slice(0, 16);
    this.forwarder = new EventForwarder(env, this.sql, this.product_id, this.product_hash, this.deps);
    this.alarms = new AlarmWork(env, ctx.storage, this.sql, this.product_id, this.forwarder, this.deps);
    this.writer = new LedgerWriter(ctx.storage, this.sql, this.product_id, this.deps, () => this.alarms.due());
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
      // A product not yet in the D1 registry, or with events not yet handed on, has an alarm pending.
      await this.alarms.start();
    });
  }

  /** Registers the product in D1 after its first row, and hands new events to the subscriptions (alarm-work.ts). */
  override async alarm(): Promise<void> {
    await this.alarms.run();
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

  /** The product's settings (the defaults until a PUT changed them). */
  settings(): Ok<{ settings: ProductSettings }> {
    return ok({ settings: readSettings(this.sql, this.product_id) });
  }

  /** Changes the settings; a change of any value is a product.settings_changed event, in the same transaction. */
  updateSettings(change: SettingsChange, principal: string): Ok<{ settings: ProductSettings; changed: boolean }> {
    return this.writer.atomically(() => {
      const current = readSettings(this.sql, this.product_id);
      const next = changedSettings(current, change, principal, this.writer.nowIso());
      if (next === null) return ok({ settings: current, changed: false });
      saveSettings(this.sql, next);
      this.writer.appendEvents([eventOfSettings(next, this.writer.currentStock(), next.updated_at!)]);
      return ok({ settings: next, changed: true });
    });
  }

  /** One page of the change feed after an event id (from the start without one). */
  events(filter: EventFilter): EventPageResult {
    const after = filter.after === undefined ? 0 : positionOfEventId(this.product_hash, filter.after);
    if (after === null) return err({ code: "event_cursor_unknown", after: filter.after! });
    const page = eventsStore.eventsAfter(this.sql, this.product_id, this.product_hash, after, filter.limit + 1, filter.types);
    const data = page.slice(0, filter.limit).map(({ event }) => event);
    return ok({ data, next_after: page.length > filter.limit ? data[data.length - 1]!.id : null });
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
    return this.writer.atomically(() =>
      ok({
        report: reconcileLedger(
          this.sql,
          this.product_id,
          () => this.writer.cachedStock(),
          (events) => this.writer.appendEvents(events),
        ),
      }),
    );
  }
}
