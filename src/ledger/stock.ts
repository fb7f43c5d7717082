// Building the stock objects clients see from the cached levels. Pure.

import { availableOf } from "./evolve";
import type { LocationLevel, LocationStock, Stock, StockWithLocations } from "./types";

export interface ProductTotals {
  product_id: string;
  on_hand: number;
  reserved: number;
  version: number;
  oversold_locations: number;
  updated_at: string | null;
}

export function emptyTotals(product_id: string): ProductTotals {
  return { product_id, on_hand: 0, reserved: 0, version: 0, oversold_locations: 0, updated_at: null };
}

export function toStock(totals: ProductTotals): Stock {
  return {
    product_id: totals.product_id,
    on_hand: totals.on_hand,
    reserved: totals.reserved,
    available: availableOf(totals),
    version: totals.version,
    // Oversold when any location is below zero, even if another location makes up for it:
    // the shortfall is at a place, and someone has to act on it there.
    oversold: totals.oversold_locations > 0,
    updated_at: totals.updated_at,
  };
}

export function toLocationStock(level: LocationLevel): LocationStock {
  return { location_id: level.location_id, on_hand: level.on_hand, reserved: level.reserved, available: availableOf(level) };
}

/** Totals summed over locations: how a point-in-time read is built from ledger sums. */
export function totalsFromLevels(
  product_id: string,
  levels: readonly LocationLevel[],
  version: number,
  updated_at: string | null,
): ProductTotals {
  let on_hand = 0;
  let reserved = 0;
  let oversold_locations = 0;
  for (const level of levels) {
    on_hand += level.on_hand;
    reserved += level.reserved;
    oversold_locations += Number(availableOf(level) < 0);
  }
  return { product_id, on_hand, reserved, version, oversold_locations, updated_at };
}

export function withLocations(totals: ProductTotals, levels: readonly LocationLevel[]): StockWithLocations {
  const locations = [...levels].sort((a, b) => (a.location_id < b.location_id ? -1 : a.location_id > b.location_id ? 1 : 0));
  return { ...toStock(totals), locations: locations.map(toLocationStock) };
}
