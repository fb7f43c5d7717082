// The heart of the product object: every command runs in ONE transactionSync (atomically), and
// every accepted decision appends its rows, links them into the hash chain, and writes the read
// model in that same transaction. The object's RPC methods, the reservation steps and the facts
// all write through here.

import { type Accepted, decide } from "../../ledger/decide";
import { eventsOfWrite, type StoredEvent } from "../../ledger/events";
import type { LedgerFailure } from "../../ledger/failures";
import { fingerprintOf } from "../../ledger/fingerprint";
import { chainRows } from "../../ledger/hash-chain";
import { formatUuidV7 } from "../../ledger/ids";
import { assertContiguous, assertInvariant, assertLevel, assertTotalsMatchLevels } from "../../ledger/invariants";
import { err, ok } from "../../ledger/result";
import { toStock, withLocations } from "../../ledger/stock";
import { type Stock, type StockWithLocations, scopedKey, type Transaction, type WriteCommand } from "../../ledger/types";
import type { Sql } from "../sql";
import * as eventsStore from "./events-store";
import * as exportStore from "./export-store";
import * as history from "./history";
import type { ProductLedgerDeps, WriteResult } from "./rpc";
import * as store from "./store";

/** An accepted decision whose rows are linked into the hash chain and stored. */
export type Appended = Omit<Accepted, "rows"> & { rows: Transaction[] };

export class LedgerWriter {
  /** Set by a transaction that leaves work for the object's alarm (a first row to register, events to hand on). */
  private alarmWorkDue = false;
  private depth = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    readonly sql: Sql,
    readonly product_id: string,
    readonly deps: ProductLedgerDeps,
    /** Called after a transaction that left work for the alarm, in the same synchronous block as its commit. */
    private readonly onAlarmWork: () => void,
  ) {}

  /** Everything in `work` commits together, or, when it throws, not at all. No await inside. */
  atomically<T>(work: () => T): T {
    // Nested calls (a fact's write inside the fact's transaction) are savepoints of the outer one.
    this.depth += 1;
    let result: T;
    try {
      result = this.storage.transactionSync(work);
    } catch (error) {
      // Rolled back: whatever it left for the alarm is gone too (an inner one's is harmless extra work).
      if (this.depth === 1) this.alarmWorkDue = false;
      throw error;
    } finally {
      this.depth -= 1;
    }
    if (this.depth === 0 && this.alarmWorkDue) {
      this.alarmWorkDue = false;
      this.onAlarmWork();
    }
    return result;
  }

  /** Appends change-feed events in the current transaction; the alarm hands them on. */
  appendEvents(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    eventsStore.insertEvents(this.sql, events);
    this.deps.faults.afterEventsInsert?.();
    this.alarmWorkDue = true;
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

  /**
   * Decides a command against the current state and, when accepted, appends its rows and
   * writes the read model. Must run inside atomically().
   */
  append(
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
      this.alarmWorkDue = true;
    }
    decision.levels.forEach(assertLevel);
    // Linked to the chain inside the same synchronous transaction as the insert.
    const rows = chainRows(state.head_hash, decision.rows);
    store.insertRows(this.sql, rows);
    this.deps.faults.afterLedgerInsert?.();
    store.saveReadModel(this.sql, decision, rows[rows.length - 1]!.hash);
    // The change feed, in the same transaction as the rows: nothing is committed without its events.
    const before = toStock({ ...state, updated_at: state.last_created_at });
    this.appendEvents(
      eventsOfWrite(before, decision.stocks, state.low_stock_threshold, decision.next.last_created_at ?? new Date(now_ms).toISOString()),
    );
    return { ...decision, rows };
  }

  /** The cached stock with its per-location breakdown, checked against its totals. O(locations). */
  cachedStock(): StockWithLocations {
    const totals = store.readTotals(this.sql, this.product_id);
    const levels = store.readLevels(this.sql);
    assertTotalsMatchLevels(totals, levels);
    return withLocations(totals, levels);
  }

  /** The cached totals as a stock object. */
  currentStock(): Stock {
    return toStock(store.readTotals(this.sql, this.product_id));
  }

  nowIso(): string {
    return new Date(this.deps.now()).toISOString();
  }
}

/** The stock after an accepted decision: what the write answers with. */
export function stockAfter(decision: Pick<Accepted, "next">): Stock {
  return toStock({ ...decision.next, updated_at: decision.next.last_created_at });
}
