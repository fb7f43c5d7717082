// Reconciliation inside a product's object: is the cache equal to the ledger (rebuilt from the
// ledger when not, never the other way round), and the ledger's sums up to the export watermark
// for the export to compare with D1's copy. Runs inside the object's transaction.

import { eventsOfRepair, type StoredEvent } from "../../ledger/events";
import { sameLevels } from "../../ledger/reconcile";
import { toStock, totalsFromLevels, withLocations } from "../../ledger/stock";
import type { StockWithLocations } from "../../ledger/types";
import { RECONCILE_CHUNK_ROWS } from "../../limits";
import type { Sql } from "../sql";
import * as exportStore from "./export-store";
import * as history from "./history";
import type { ReconcileReport } from "./rpc";
import { readSettings } from "./settings-store";
import * as store from "./store";

/** `appendEvents` adds a repair's events to the change feed, in the same transaction. */
export function reconcileLedger(
  sql: Sql,
  product_id: string,
  cachedStock: () => StockWithLocations,
  appendEvents: (events: StoredEvent[]) => void,
): ReconcileReport {
  const totals = store.readTotals(sql, product_id);
  const cached = store.readLevels(sql);
  const last_seq = history.lastSeq(sql);
  const { levels: truth, updated_at: last_created_at } = history.levelsFromLedger(sql, last_seq);
  const cacheTotals = totalsFromLevels(product_id, cached, totals.version, totals.updated_at);
  const head_hash = history.hashAt(sql, last_seq);
  const cached_head = store.readHeadHash(sql);
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
    const rebuilt = totalsFromLevels(product_id, truth, last_seq, last_created_at ?? totals.updated_at ?? "");
    store.replaceReadModel(sql, { ...rebuilt, location_count: truth.length, last_created_at: rebuilt.updated_at }, truth, head_hash);
    repaired = { before, after: cachedStock() };
    const { locations: _before, ...beforeStock } = before;
    const { locations: _after, ...afterStock } = repaired.after;
    appendEvents(eventsOfRepair(beforeStock, afterStock, readSettings(sql, product_id).low_stock_threshold, new Date().toISOString()));
    console.error(JSON.stringify({ level: "warn", message: "cache disagreed with the ledger and was rebuilt", product_id }));
  }
  const watermark_seq = exportStore.readExportState(sql)?.watermark_seq ?? 0;
  return {
    version: last_seq,
    repaired,
    watermark_seq,
    watermark_hash: history.hashAt(sql, watermark_seq),
    chunks: exportStore.chunkSums(sql, watermark_seq, RECONCILE_CHUNK_ROWS),
  };
}
