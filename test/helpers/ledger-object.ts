// Looking inside a product's Durable Object: its SQLite rows and whether its cache agrees with them,
// its fault seams, and closing it to requests for a while.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import type { TransactionRequest, WriteCommand } from "../../src/ledger/types";

export function ledgerStub(product_id: string) {
  return env.PRODUCT_LEDGER.getByName(product_id);
}

/**
 * A client write for the object's RPC, built without the HTTP layer: a fresh key under
 * `key_prefix`, principal test-writer. For tests of what the object stores, not of the API.
 */
export function directCommand(requests: TransactionRequest[], key_prefix = "direct"): WriteCommand {
  return {
    idempotency_key: `${key_prefix}-${crypto.randomUUID()}`,
    principal: "test-writer",
    expected_version: null,
    is_fact: false,
    requests,
  };
}

export interface RawState {
  rows: { seq: number; type: string; delta: number; location_id: string; idempotency_key: string }[];
  levels: { location_id: string; on_hand: number; reserved: number }[];
  totals: { on_hand: number; reserved: number; version: number; oversold_locations: number } | null;
  keys: string[];
}

/** Reads the object's tables directly with SQL, bypassing every code path under test. */
export function rawState(product_id: string): Promise<RawState> {
  return runInDurableObject<ProductLedger, RawState>(ledgerStub(product_id), (_instance, state) => {
    const sql = state.storage.sql;
    return {
      rows: sql
        .exec("SELECT seq, type, delta, location_id, idempotency_key FROM ledger_rows ORDER BY seq")
        .toArray() as unknown as RawState["rows"],
      levels: sql
        .exec("SELECT location_id, on_hand, reserved FROM location_stock ORDER BY location_id")
        .toArray() as unknown as RawState["levels"],
      totals: (sql.exec("SELECT on_hand, reserved, version, oversold_locations FROM product_stock").toArray()[0] ??
        null) as RawState["totals"],
      keys: sql
        .exec("SELECT key FROM idempotency_keys ORDER BY key")
        .toArray()
        .map((row) => String(row.key)),
    };
  });
}

/** Makes the next writes of this product's object throw right after the ledger insert. */
export function injectFailureAfterLedgerInsert(product_id: string, enabled: boolean): Promise<void> {
  return runInDurableObject<ProductLedger, void>(ledgerStub(product_id), (instance) => {
    instance.deps.faults.afterLedgerInsert = enabled
      ? () => {
          throw new Error("injected failure after the ledger insert");
        }
      : undefined;
  });
}

/**
 * Closes a product's object to every request (its input gate) for `ms`. Resolves once it is
 * closed, with `reopened`, which resolves when it takes requests again.
 */
export async function closeProductFor(product_id: string, ms: number): Promise<{ reopened: Promise<void> }> {
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const reopened = runInDurableObject<ProductLedger, void>(ledgerStub(product_id), (_instance, state) =>
    state.blockConcurrencyWhile(async () => {
      markClosed();
      await new Promise((resolve) => setTimeout(resolve, ms));
    }),
  );
  await closed;
  return { reopened };
}

/** Sums computed from the raw ledger rows, per location: what the cache must equal. */
export function sumsFromRows(rows: RawState["rows"]): Map<string, { on_hand: number; reserved: number }> {
  const sums = new Map<string, { on_hand: number; reserved: number }>();
  for (const row of rows) {
    const level = sums.get(row.location_id) ?? { on_hand: 0, reserved: 0 };
    if (row.type === "RESERVE" || row.type === "RELEASE") level.reserved -= row.delta;
    else level.on_hand += row.delta;
    sums.set(row.location_id, level);
  }
  return sums;
}

/** The raw rows of one type (RESERVE, RELEASE, REMOVE…): in these tests, those a product's reservations left. */
export function reservationRows(raw: RawState, type: string): RawState["rows"] {
  return raw.rows.filter((row) => row.type === type);
}

/** The product's cache equals the sums of its raw rows, with seq 1..n and no gaps. */
export async function expectConsistent(product_id: string): Promise<void> {
  const raw = await rawState(product_id);
  const sums = sumsFromRows(raw.rows);
  expect(raw.levels).toEqual([...sums.keys()].sort().map((location_id) => ({ location_id, ...sums.get(location_id)! })));
  expect(raw.rows.map((row) => row.seq)).toEqual(raw.rows.map((_, i) => i + 1));
  expect(raw.totals?.version ?? 0).toBe(raw.rows.length);
}
