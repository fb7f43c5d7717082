// The change feed, derived in the same transaction as the rows that cause it: which events a
// write, a reconciliation repair or a settings change produces. Pure: the product object stores
// exactly these, in this order, beside the rows (docs/events.md).
//
//   stock.changed            every ledger row, with the stock right after it
//   stock.low                available from above low_stock_threshold to at or below it
//   stock.out                available from above 0 to 0 or below
//   stock.back_in            available from 0 or below to above 0
//   stock.oversold           oversold from false to true
//   product.settings_changed a settings change
//
// The transitions compare the stock before the whole command with the stock after it, so the
// RELEASE + REMOVE of a commit (available up, then down again) announces nothing it did not do.

import type { ProductSettings } from "./settings";
import type { Stock, Transaction } from "./types";

/** In the order events of one ledger position are stored and delivered. */
export const EVENT_TYPES = [
  "stock.changed",
  "stock.low",
  "stock.out",
  "stock.back_in",
  "stock.oversold",
  "product.settings_changed",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event as the product object stores it: the transaction is the row at `seq`, read back with it. */
export interface StoredEvent {
  type: EventType;
  /** The ledger seq that caused it (for settings: the version at that moment). */
  seq: number;
  occurred_at: string;
  stock: Stock;
  /** Stock events carry the row at `seq`; a repair has none (no row changed). */
  with_transaction: boolean;
  settings?: ProductSettings;
}

/** The transitions between the stock before a change and after it, in EVENT_TYPES order. */
export function transitions(before: Stock, after: Stock, low_stock_threshold: number | null): EventType[] {
  const types: EventType[] = [];
  if (low_stock_threshold !== null && before.available > low_stock_threshold && after.available <= low_stock_threshold)
    types.push("stock.low");
  if (before.available > 0 && after.available <= 0) types.push("stock.out");
  if (before.available <= 0 && after.available > 0) types.push("stock.back_in");
  if (!before.oversold && after.oversold) types.push("stock.oversold");
  return types;
}

/** A write's events: one stock.changed per row (its stock after it), then the command's transitions at its last row. */
export function eventsOfWrite(
  before: Stock,
  stocks_after: readonly Stock[],
  low_stock_threshold: number | null,
  occurred_at: string,
): StoredEvent[] {
  const last = stocks_after[stocks_after.length - 1];
  if (last === undefined) return [];
  const changed = stocks_after.map(
    (stock): StoredEvent => ({ type: "stock.changed", seq: stock.version, occurred_at, stock, with_transaction: true }),
  );
  const moved = transitions(before, last, low_stock_threshold).map(
    (type): StoredEvent => ({ type, seq: last.version, occurred_at, stock: last, with_transaction: true }),
  );
  return [...changed, ...moved];
}

/**
 * A reconciliation repair's events: the cache was rebuilt from the ledger, so the stock clients
 * saw changes without a new row. One stock.changed at the version, and the transitions.
 */
export function eventsOfRepair(before: Stock, after: Stock, low_stock_threshold: number | null, occurred_at: string): StoredEvent[] {
  const moved = transitions(before, after, low_stock_threshold).map(
    (type): StoredEvent => ({ type, seq: after.version, occurred_at, stock: after, with_transaction: false }),
  );
  return [{ type: "stock.changed", seq: after.version, occurred_at, stock: after, with_transaction: false }, ...moved];
}

/** A settings change's one event, at the product's version. */
export function eventOfSettings(settings: ProductSettings, stock: Stock, occurred_at: string): StoredEvent {
  return { type: "product.settings_changed", seq: stock.version, occurred_at, stock, with_transaction: false, settings };
}

/**
 * The public id of the event at `position` in a product's feed: stable, unique across products
 * (the product's part is a hash of its id), and the cursor a receiver resumes from.
 */
export function eventId(product_hash: string, position: number): string {
  return `evt_${product_hash}_${position}`;
}

/** The position an event id names in this product's feed, or null when it is not one of its events. */
export function positionOfEventId(product_hash: string, id: string): number | null {
  const prefix = `evt_${product_hash}_`;
  if (!id.startsWith(prefix)) return null;
  const digits = id.slice(prefix.length);
  return /^[1-9][0-9]{0,15}$/.test(digits) ? Number(digits) : null;
}

/** An event as clients and receivers see it (the body of every delivery). */
export interface ChangeEvent {
  id: string;
  type: EventType;
  product_id: string;
  seq: number;
  occurred_at: string;
  data: { stock: Stock; transaction?: Transaction; settings?: ProductSettings };
}
