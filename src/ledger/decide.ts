// decide(command, state, context) -> rows to append and the levels they produce, or a refusal.
// Pure: time and ids come in on the context, state comes in from the cache. The Durable Object
// calls this inside one transactionSync and persists exactly what it returns.

import { LOCATIONS_PER_PRODUCT_MAX, TOTAL_MAX } from "../limits";
import { availableOf, deltaOf, evolve, ZERO_LEVEL } from "./evolve";
import type { LedgerFailure } from "./failures";
import { toStock } from "./stock";
import type { LedgerEntry, LocationLevel, Stock, WriteCommand } from "./types";

/** What decide needs to know about the product before the write. */
export interface ProductState {
  product_id: string;
  version: number;
  on_hand: number;
  reserved: number;
  /** Number of locations whose available is below zero (a product is oversold when > 0). */
  oversold_locations: number;
  location_count: number;
  /** created_at of the last row; new rows never go back in time, so `as_of` is a seq prefix. */
  last_created_at: string | null;
  /** Current level of every location the command touches (absent: the location is new). */
  levels: ReadonlyMap<string, LocationLevel>;
  /**
   * Units of `reserved` per touched location that belong to reservations (held by
   * POST /v1/reservations). A plain RELEASE may not take them: only the reservation's own
   * commit, release or expiry does. Absent: nothing is held.
   */
  reservation_held?: ReadonlyMap<string, number>;
}

export interface DecideContext {
  /** RFC 3339 UTC with milliseconds. */
  now: string;
  /** One fresh id per request in the command. */
  new_ids: readonly string[];
}

export interface Accepted {
  ok: true;
  /** Rows to append, not yet linked into the hash chain (the shell links them to its head). */
  rows: LedgerEntry[];
  /** The new level of every touched location, in first-touch order. */
  levels: LocationLevel[];
  /** The product's stock after each row, in row order (the change feed's stock.changed). */
  stocks: Stock[];
  /** Product totals and bookkeeping after the write. */
  next: Omit<ProductState, "levels">;
}

export type Decision = Accepted | { ok: false; failure: LedgerFailure };

export function decide(command: WriteCommand, state: ProductState, context: DecideContext): Decision {
  if (command.expected_version !== null && command.expected_version !== state.version) {
    return refuse({ code: "version_conflict", expected_version: command.expected_version, current_version: state.version });
  }
  const created_at = state.last_created_at !== null && state.last_created_at > context.now ? state.last_created_at : context.now;
  const levels = new Map(state.levels);
  let { on_hand, reserved, oversold_locations, location_count } = state;
  const rows: LedgerEntry[] = [];
  const stocks: Stock[] = [];

  for (const [index, request] of command.requests.entries()) {
    const isNewLocation = !levels.has(request.location_id);
    const before = levels.get(request.location_id) ?? ZERO_LEVEL(request.location_id);
    if (isNewLocation && location_count + 1 > LOCATIONS_PER_PRODUCT_MAX) {
      return refuse({ code: "limit_exceeded", detail: `A product may be stocked in at most ${LOCATIONS_PER_PRODUCT_MAX} locations.` });
    }
    const held = request.reservation_id === null ? (state.reservation_held?.get(request.location_id) ?? 0) : 0;
    const refusal = checkRule(command.is_fact, request.type, request.quantity, before, held, () => stockOf(state));
    if (refusal) return refuse(refusal);

    const delta = deltaOf(request.type, request.quantity, before);
    const after = evolve(before, { type: request.type, delta });
    on_hand += after.on_hand - before.on_hand;
    reserved += after.reserved - before.reserved;
    if (exceedsTotals(after) || exceedsTotals({ on_hand, reserved })) {
      return refuse({ code: "limit_exceeded", detail: `No total (on_hand, reserved) may pass ${TOTAL_MAX}.` });
    }
    oversold_locations += Number(availableOf(after) < 0) - Number(availableOf(before) < 0);
    location_count += Number(isNewLocation);
    levels.set(request.location_id, after);
    const version = state.version + index + 1;
    stocks.push(toStock({ product_id: state.product_id, on_hand, reserved, version, oversold_locations, updated_at: created_at }));

    const id = context.new_ids[index];
    if (id === undefined) throw new Error("decide: one new id per request is required");
    rows.push({
      id,
      product_id: state.product_id,
      seq: version,
      type: request.type,
      quantity: request.quantity,
      delta,
      location_id: request.location_id,
      reason: request.reason,
      created_by: command.principal,
      actor: request.actor,
      metadata: request.metadata,
      reservation_id: request.reservation_id,
      idempotency_key: command.idempotency_key,
      created_at,
    });
  }

  const touched = [...new Set(command.requests.map((request) => request.location_id))];
  return {
    ok: true,
    rows,
    stocks,
    levels: touched.map((location_id) => levels.get(location_id)!),
    next: {
      product_id: state.product_id,
      version: state.version + rows.length,
      on_hand,
      reserved,
      oversold_locations,
      location_count,
      last_created_at: created_at,
    },
  };
}

/** The rule each type must satisfy against its location's level before it. */
function checkRule(
  isFact: boolean,
  type: LedgerEntry["type"],
  quantity: number,
  level: LocationLevel,
  heldByReservations: number,
  stock: () => Stock,
): LedgerFailure | null {
  const available = availableOf(level);
  switch (type) {
    case "REMOVE":
      // A sale reported by a source already happened: record it, even into oversold.
      if (isFact || available >= quantity) return null;
      return { code: "insufficient_stock", location_id: level.location_id, requested: quantity, available, stock: stock() };
    case "RESERVE":
      if (available >= quantity) return null;
      return { code: "insufficient_stock", location_id: level.location_id, requested: quantity, available, stock: stock() };
    case "RELEASE":
      if (level.reserved - heldByReservations >= quantity) return null;
      return {
        code: "insufficient_reserved",
        location_id: level.location_id,
        requested: quantity,
        reserved: level.reserved - heldByReservations,
        stock: stock(),
      };
    case "ADD":
    case "RETURN":
    case "ADJUST":
      return null;
  }
}

/** The stock as it was before the refused write: what a shortage answers with. */
function stockOf(state: ProductState): Stock {
  return toStock({ ...state, updated_at: state.last_created_at });
}

function exceedsTotals(level: { on_hand: number; reserved: number }): boolean {
  return Math.abs(level.on_hand) > TOTAL_MAX || level.reserved > TOTAL_MAX;
}

function refuse(failure: LedgerFailure): Decision {
  return { ok: false, failure };
}
