// Pure ledger values for the unit tests: location levels, product states and commands, and the
// decider run on them at a fixed time.
import { type Accepted, type DecideContext, type Decision, decide, type ProductState } from "../../src/ledger/decide";
import type { LedgerFailure } from "../../src/ledger/failures";
import type { LocationLevel, Stock, TransactionRequest, TransactionType, WriteCommand } from "../../src/ledger/types";

export const NOW = "2026-03-01T12:00:00.000Z";
export const PRODUCT = "sku-1";

export function level(location_id: string, on_hand: number, reserved = 0): LocationLevel {
  return { location_id, on_hand, reserved };
}

/** A consistent state built from the given levels (totals and bookkeeping summed over them). */
export function stateWith(levels: LocationLevel[], overrides: Partial<Omit<ProductState, "levels">> = {}): ProductState {
  return {
    product_id: PRODUCT,
    version: 10,
    on_hand: levels.reduce((sum, l) => sum + l.on_hand, 0),
    reserved: levels.reduce((sum, l) => sum + l.reserved, 0),
    oversold_locations: levels.filter((l) => l.on_hand - l.reserved < 0).length,
    location_count: levels.length,
    last_created_at: "2026-03-01T11:00:00.000Z",
    levels: new Map(levels.map((l) => [l.location_id, l])),
    ...overrides,
  };
}

export function req(
  type: TransactionType,
  quantity: number,
  location_id = "default",
  extra: Partial<TransactionRequest> = {},
): TransactionRequest {
  return { type, quantity, location_id, reason: `reason-${type}`, actor: null, metadata: null, reservation_id: null, ...extra };
}

export function command(requests: TransactionRequest[], overrides: Partial<Omit<WriteCommand, "requests">> = {}): WriteCommand {
  return { idempotency_key: "key-1", principal: "writer", expected_version: null, is_fact: false, requests, ...overrides };
}

function contextFor(count: number, now = NOW): DecideContext {
  return { now, new_ids: Array.from({ length: count }, (_, i) => `id-${i}`) };
}

export function run(cmd: WriteCommand, state: ProductState, now = NOW): Decision {
  return decide(cmd, state, contextFor(cmd.requests.length, now));
}

export function accepted(decision: Decision): Accepted {
  if (!decision.ok) throw new Error(`expected acceptance, got ${JSON.stringify(decision.failure)}`);
  return decision;
}

/** The stock a refusal must carry: the state before the command, as clients see stock. */
export function stockBefore(state: ProductState): Stock {
  return {
    product_id: state.product_id,
    on_hand: state.on_hand,
    reserved: state.reserved,
    available: state.on_hand - state.reserved,
    version: state.version,
    oversold: state.oversold_locations > 0,
    updated_at: state.last_created_at,
  };
}

export function refused(decision: Decision): LedgerFailure {
  if (decision.ok) throw new Error(`expected refusal, got rows ${JSON.stringify(decision.rows)}`);
  return decision.failure;
}
