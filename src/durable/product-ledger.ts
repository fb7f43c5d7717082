// ProductLedger: one Durable Object per product. A thin shell: it loads state, asks the pure
// core to decide, and persists the rows and the read model in ONE transactionSync, so the
// ledger, the cache and the remembered response are written together or not at all.

import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../migrations/product-ledger/migrations.js";
import { decide } from "../ledger/decide";
import type { RefusedWrite } from "../ledger/failures";
import { fingerprintOf } from "../ledger/fingerprint";
import { formatUuidV7 } from "../ledger/ids";
import { assertContiguous, assertInvariant, assertLevel, assertTotalsMatchLevels } from "../ledger/invariants";
import { toStock, totalsFromLevels, withLocations } from "../ledger/stock";
import type { Stock, StockWithLocations, Transaction, WriteCommand } from "../ledger/types";
import * as store from "./ledger-store";
import { schema } from "./tables";

export type WriteResult = { ok: true; replayed: boolean; transactions: Transaction[]; stock: Stock } | RefusedWrite;

export type StockAtQuery = { at_version: number } | { as_of: string };
export type StockAtResult = { ok: true; stock: StockWithLocations } | { ok: false; code: "version_not_reached"; current_version: number };

/**
 * Seams for tests that attack atomicity: a hook that throws halfway through a write must leave
 * nothing behind. Empty in production.
 */
export interface WriteFaults {
  afterLedgerInsert?: () => void;
}

interface StoredOutcome {
  transactions: Transaction[];
  stock: Stock;
}

export class ProductLedger extends DurableObject<Env> {
  private readonly db: store.LedgerDb;
  private readonly faults: WriteFaults = {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = drizzle(ctx.storage, { schema });
    // Runs before any request is delivered; drizzle applies pending migrations in one transaction.
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(this.db, migrations);
    });
  }

  /** Appends one write (one or more rows) exactly once per idempotency key. */
  write(command: WriteCommand): WriteResult {
    const fingerprint = fingerprintOf(command);
    const now = new Date().toISOString();
    const new_ids = command.requests.map(() => formatUuidV7(Date.now(), crypto.getRandomValues(new Uint8Array(10))));

    // Everything below is synchronous: no other request can interleave, and a throw anywhere
    // rolls back every statement, including the ledger insert.
    return this.db.transaction((): WriteResult => {
      const stored = store.findIdempotencyKey(this.db, command.idempotency_key);
      if (stored !== undefined) {
        if (stored.fingerprint !== fingerprint) {
          return { ok: false, failure: { code: "idempotency_key_reused" }, stock: this.currentStock(command.product_id) };
        }
        const outcome = JSON.parse(stored.response) as StoredOutcome;
        return { ok: true, replayed: true, ...outcome };
      }

      const state = store.loadProductState(this.db, command.product_id, command.requests.map((request) => request.location_id));
      this.assertSameProduct(command.product_id);
      const decision = decide(command, state, { now, new_ids });
      if (!decision.ok) return { ok: false, failure: decision.failure, stock: this.currentStock(command.product_id) };

      assertContiguous(state.version, decision.rows);
      decision.levels.forEach(assertLevel);
      store.appendRows(this.db, decision.rows);
      this.faults.afterLedgerInsert?.();
      store.saveReadModel(this.db, decision);

      const outcome: StoredOutcome = {
        transactions: decision.rows,
        stock: toStock({ ...decision.next, updated_at: decision.next.last_created_at }),
      };
      store.saveIdempotencyKey(this.db, command.idempotency_key, fingerprint, JSON.stringify(outcome), decision.rows);
      return { ok: true, replayed: false, ...outcome };
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

  private currentStock(product_id: string): Stock {
    return toStock(store.readTotals(this.db, product_id));
  }

  /** A product's object only ever holds that product: a mismatch is a routing bug. */
  private assertSameProduct(product_id: string): void {
    const stored = store.readTotals(this.db, product_id).product_id;
    assertInvariant(stored === product_id, `object of ${stored} received a write for ${product_id}`);
  }
}
