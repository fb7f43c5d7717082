import { describe, expect, it } from "vitest";
import { type Accepted, type DecideContext, type Decision, decide, type ProductState } from "../../src/ledger/decide";
import type { LedgerFailure } from "../../src/ledger/failures";
import type { LocationLevel, Stock, TransactionRequest, TransactionType, WriteCommand } from "../../src/ledger/types";
import { LOCATIONS_PER_PRODUCT_MAX, QUANTITY_MAX, TOTAL_MAX } from "../../src/limits";

const NOW = "2026-03-01T12:00:00.000Z";
const PRODUCT = "sku-1";

function level(location_id: string, on_hand: number, reserved = 0): LocationLevel {
  return { location_id, on_hand, reserved };
}

/** A consistent state built from the given levels (totals and bookkeeping summed over them). */
function stateWith(levels: LocationLevel[], overrides: Partial<Omit<ProductState, "levels">> = {}): ProductState {
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

function req(
  type: TransactionType,
  quantity: number,
  location_id = "default",
  extra: Partial<TransactionRequest> = {},
): TransactionRequest {
  return { type, quantity, location_id, reason: `reason-${type}`, actor: null, metadata: null, reservation_id: null, ...extra };
}

function command(requests: TransactionRequest[], overrides: Partial<Omit<WriteCommand, "requests">> = {}): WriteCommand {
  return { idempotency_key: "key-1", principal: "writer", expected_version: null, is_fact: false, requests, ...overrides };
}

function contextFor(count: number, now = NOW): DecideContext {
  return { now, new_ids: Array.from({ length: count }, (_, i) => `id-${i}`) };
}

function run(cmd: WriteCommand, state: ProductState, now = NOW): Decision {
  return decide(cmd, state, contextFor(cmd.requests.length, now));
}

function accepted(decision: Decision): Accepted {
  if (!decision.ok) throw new Error(`expected acceptance, got ${JSON.stringify(decision.failure)}`);
  return decision;
}

/** The stock a refusal must carry: the state before the command, as clients see stock. */
function stockBefore(state: ProductState): Stock {
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

function refused(decision: Decision): LedgerFailure {
  if (decision.ok) throw new Error(`expected refusal, got rows ${JSON.stringify(decision.rows)}`);
  return decision.failure;
}

describe("decide: deltas per type", () => {
  it("ADD writes +quantity and raises on_hand at the location and in the totals", () => {
    const d = accepted(run(command([req("ADD", 5)]), stateWith([level("default", 3)])));
    expect(d.rows).toHaveLength(1);
    expect(d.rows[0]).toMatchObject({ type: "ADD", quantity: 5, delta: 5, location_id: "default" });
    expect(d.levels).toEqual([level("default", 8, 0)]);
    expect(d.next).toMatchObject({ on_hand: 8, reserved: 0, version: 11 });
  });

  it("RETURN writes +quantity and raises on_hand", () => {
    const d = accepted(run(command([req("RETURN", 4)]), stateWith([level("default", 1, 1)])));
    expect(d.rows[0]).toMatchObject({ type: "RETURN", quantity: 4, delta: 4 });
    expect(d.levels).toEqual([level("default", 5, 1)]);
    expect(d.next).toMatchObject({ on_hand: 5, reserved: 1 });
  });

  it("RELEASE writes +quantity and lowers reserved without touching on_hand", () => {
    const d = accepted(run(command([req("RELEASE", 2)]), stateWith([level("default", 10, 3)])));
    expect(d.rows[0]).toMatchObject({ type: "RELEASE", quantity: 2, delta: 2 });
    expect(d.levels).toEqual([level("default", 10, 1)]);
    expect(d.next).toMatchObject({ on_hand: 10, reserved: 1 });
  });

  it("REMOVE writes -quantity and lowers on_hand", () => {
    const d = accepted(run(command([req("REMOVE", 3)]), stateWith([level("default", 10, 2)])));
    expect(d.rows[0]).toMatchObject({ type: "REMOVE", quantity: 3, delta: -3 });
    expect(d.levels).toEqual([level("default", 7, 2)]);
    expect(d.next).toMatchObject({ on_hand: 7, reserved: 2 });
  });

  it("RESERVE writes -quantity and raises reserved without touching on_hand", () => {
    const d = accepted(run(command([req("RESERVE", 4)]), stateWith([level("default", 10, 2)])));
    expect(d.rows[0]).toMatchObject({ type: "RESERVE", quantity: 4, delta: -4 });
    expect(d.levels).toEqual([level("default", 10, 6)]);
    expect(d.next).toMatchObject({ on_hand: 10, reserved: 6 });
  });

  it("ADJUST sets on_hand to the counted total and records counted minus on_hand as the delta", () => {
    const down = accepted(run(command([req("ADJUST", 4)]), stateWith([level("default", 10, 1)])));
    expect(down.rows[0]).toMatchObject({ type: "ADJUST", quantity: 4, delta: -6 });
    expect(down.levels).toEqual([level("default", 4, 1)]);
    expect(down.next.on_hand).toBe(4);

    const up = accepted(run(command([req("ADJUST", 25)]), stateWith([level("default", 10, 1)])));
    expect(up.rows[0]).toMatchObject({ quantity: 25, delta: 15 });
    expect(up.levels).toEqual([level("default", 25, 1)]);
  });

  it("ADJUST that matches the current on_hand is still recorded, with delta 0", () => {
    const d = accepted(run(command([req("ADJUST", 7)]), stateWith([level("default", 7, 2)])));
    expect(d.rows).toHaveLength(1);
    expect(d.rows[0]).toMatchObject({ type: "ADJUST", quantity: 7, delta: 0, seq: 11 });
    expect(d.levels).toEqual([level("default", 7, 2)]);
    expect(d.next.version).toBe(11);
  });

  it("ADJUST to zero on a new location records delta 0 and creates the location", () => {
    const d = accepted(run(command([req("ADJUST", 0, "new-loc")]), stateWith([])));
    expect(d.rows[0]).toMatchObject({ quantity: 0, delta: 0, location_id: "new-loc" });
    expect(d.levels).toEqual([level("new-loc", 0, 0)]);
    expect(d.next.location_count).toBe(1);
  });

  it("copies the request and command fields onto the row", () => {
    const request = req("ADD", 2, "wh-1", { reason: "po-77", actor: "user-42", metadata: { channel: "web" }, reservation_id: "res-9" });
    const d = accepted(
      decide(command([request], { principal: "storefront", idempotency_key: "idem-xyz" }), stateWith([]), {
        now: NOW,
        new_ids: ["the-id"],
      }),
    );
    expect(d.rows[0]).toEqual({
      id: "the-id",
      product_id: PRODUCT,
      seq: 11,
      type: "ADD",
      quantity: 2,
      delta: 2,
      location_id: "wh-1",
      reason: "po-77",
      created_by: "storefront",
      actor: "user-42",
      metadata: { channel: "web" },
      reservation_id: "res-9",
      idempotency_key: "idem-xyz",
      created_at: NOW,
    });
  });

  it("does not mutate the state it was given", () => {
    const state = stateWith([level("default", 10, 2)]);
    const snapshot = structuredClone({ ...state, levels: [...state.levels.entries()] });
    accepted(run(command([req("REMOVE", 3), req("ADD", 1, "other")]), state));
    expect({ ...state, levels: [...state.levels.entries()] }).toEqual(snapshot);
  });
});

describe("decide: stock rules", () => {
  it("REMOVE of exactly the available quantity is accepted and leaves available at zero", () => {
    const d = accepted(run(command([req("REMOVE", 8)]), stateWith([level("default", 10, 2)])));
    expect(d.levels).toEqual([level("default", 2, 2)]);
    expect(d.next.oversold_locations).toBe(0);
  });

  it("REMOVE beyond the location's available is refused with insufficient_stock naming the location, requested and available", () => {
    const state = stateWith([level("wh-1", 10, 2)]);
    const failure = refused(run(command([req("REMOVE", 9, "wh-1")]), state));
    expect(failure).toEqual({ code: "insufficient_stock", location_id: "wh-1", requested: 9, available: 8, stock: stockBefore(state) });
  });

  it("REMOVE looks at the location's available, not the product total", () => {
    const state = stateWith([level("a", 1), level("b", 100)]);
    const failure = refused(run(command([req("REMOVE", 2, "a")]), state));
    expect(failure).toEqual({ code: "insufficient_stock", location_id: "a", requested: 2, available: 1, stock: stockBefore(state) });
  });

  it("REMOVE at a location never stocked is refused with available 0", () => {
    const state = stateWith([level("default", 5)]);
    const failure = refused(run(command([req("REMOVE", 1, "nowhere")]), state));
    expect(failure).toEqual({ code: "insufficient_stock", location_id: "nowhere", requested: 1, available: 0, stock: stockBefore(state) });
  });

  it("RESERVE of exactly the available quantity is accepted", () => {
    const d = accepted(run(command([req("RESERVE", 3)]), stateWith([level("default", 5, 2)])));
    expect(d.levels).toEqual([level("default", 5, 5)]);
  });

  it("RESERVE beyond the location's available is refused with insufficient_stock", () => {
    const state = stateWith([level("wh-2", 5, 2)]);
    const failure = refused(run(command([req("RESERVE", 4, "wh-2")]), state));
    expect(failure).toEqual({ code: "insufficient_stock", location_id: "wh-2", requested: 4, available: 3, stock: stockBefore(state) });
  });

  it("RESERVE is refused beyond available even when the command is a fact", () => {
    const state = stateWith([level("default", 5)]);
    const failure = refused(run(command([req("RESERVE", 6)], { is_fact: true }), state));
    expect(failure).toEqual({ code: "insufficient_stock", location_id: "default", requested: 6, available: 5, stock: stockBefore(state) });
  });

  it("RESERVE is refused when available is already negative, even as a fact", () => {
    const state = stateWith([level("default", -2)]);
    const failure = refused(run(command([req("RESERVE", 1)], { is_fact: true }), state));
    expect(failure).toEqual({ code: "insufficient_stock", location_id: "default", requested: 1, available: -2, stock: stockBefore(state) });
  });

  it("RELEASE of exactly the reserved quantity is accepted and leaves reserved at zero", () => {
    const d = accepted(run(command([req("RELEASE", 4)]), stateWith([level("default", 5, 4)])));
    expect(d.levels).toEqual([level("default", 5, 0)]);
  });

  it("RELEASE beyond the location's reserved is refused with insufficient_reserved naming the location, requested and reserved", () => {
    const state = stateWith([level("wh-3", 50, 4)]);
    const failure = refused(run(command([req("RELEASE", 5, "wh-3")]), state));
    expect(failure).toEqual({ code: "insufficient_reserved", location_id: "wh-3", requested: 5, reserved: 4, stock: stockBefore(state) });
  });

  it("RELEASE beyond reserved is refused even as a fact", () => {
    const state = stateWith([level("default", 5, 0)]);
    const failure = refused(run(command([req("RELEASE", 1)], { is_fact: true }), state));
    expect(failure).toEqual({
      code: "insufficient_reserved",
      location_id: "default",
      requested: 1,
      reserved: 0,
      stock: stockBefore(state),
    });
  });

  it("a fact REMOVE beyond available is recorded and takes available below zero", () => {
    const d = accepted(run(command([req("REMOVE", 7)], { is_fact: true }), stateWith([level("default", 5, 1)])));
    expect(d.rows[0]).toMatchObject({ type: "REMOVE", quantity: 7, delta: -7 });
    expect(d.levels).toEqual([level("default", -2, 1)]);
    expect(d.next).toMatchObject({ on_hand: -2, reserved: 1, oversold_locations: 1 });
  });

  it("ADJUST below reserved is recorded and makes available negative (oversold)", () => {
    const d = accepted(run(command([req("ADJUST", 2)]), stateWith([level("default", 10, 5)])));
    expect(d.rows[0]).toMatchObject({ delta: -8 });
    expect(d.levels).toEqual([level("default", 2, 5)]);
    expect(d.next.oversold_locations).toBe(1);
  });

  it("ADD and RETURN are accepted at any level, including an oversold one", () => {
    const state = stateWith([level("default", -3, 0)]);
    expect(accepted(run(command([req("ADD", 1)]), state)).levels).toEqual([level("default", -2, 0)]);
    expect(accepted(run(command([req("RETURN", 1)]), state)).levels).toEqual([level("default", -2, 0)]);
  });

  it("a refusal in a multi-request command refuses the whole command", () => {
    const state = stateWith([level("a", 0)]);
    const d = run(command([req("ADD", 5, "a"), req("REMOVE", 100, "a")]), state);
    // The stock a refusal answers with is the stock before the command: nothing of it applied.
    expect(refused(d)).toEqual({ code: "insufficient_stock", location_id: "a", requested: 100, available: 5, stock: stockBefore(state) });
  });
});

describe("decide: version check", () => {
  it("refuses with version_conflict when expected_version differs from the current version", () => {
    const failure = refused(run(command([req("ADD", 1)], { expected_version: 9 }), stateWith([], { version: 10 })));
    expect(failure).toEqual({ code: "version_conflict", expected_version: 9, current_version: 10 });
  });

  it("refuses with version_conflict when expected_version is ahead of the current version", () => {
    const failure = refused(run(command([req("ADD", 1)], { expected_version: 11 }), stateWith([], { version: 10 })));
    expect(failure).toEqual({ code: "version_conflict", expected_version: 11, current_version: 10 });
  });

  it("version_conflict takes precedence over a stock rule the command would also break", () => {
    const failure = refused(run(command([req("REMOVE", 100)], { expected_version: 3 }), stateWith([level("default", 1)], { version: 10 })));
    expect(failure.code).toBe("version_conflict");
  });

  it("accepts when expected_version equals the current version", () => {
    const d = accepted(run(command([req("ADD", 1)], { expected_version: 10 }), stateWith([], { version: 10 })));
    expect(d.rows[0]!.seq).toBe(11);
  });

  it("expected_version 0 matches a product with no rows", () => {
    const d = accepted(run(command([req("ADD", 1)], { expected_version: 0 }), stateWith([], { version: 0, last_created_at: null })));
    expect(d.rows[0]!.seq).toBe(1);
    expect(d.next.version).toBe(1);
  });

  it("performs no check when expected_version is null, whatever the version", () => {
    for (const version of [0, 1, 10, 12345]) {
      const d = accepted(run(command([req("ADD", 1)], { expected_version: null }), stateWith([], { version })));
      expect(d.rows[0]!.seq).toBe(version + 1);
    }
  });
});

describe("decide: limits", () => {
  it("accepts an ADD that brings on_hand exactly to TOTAL_MAX", () => {
    const d = accepted(run(command([req("ADD", 10)]), stateWith([level("default", TOTAL_MAX - 10)])));
    expect(d.next.on_hand).toBe(TOTAL_MAX);
  });

  it("refuses with limit_exceeded an ADD that would take a location's on_hand past TOTAL_MAX", () => {
    const failure = refused(run(command([req("ADD", 1)]), stateWith([level("default", TOTAL_MAX)])));
    expect(failure.code).toBe("limit_exceeded");
  });

  it("refuses with limit_exceeded an ADD that would take the product total past TOTAL_MAX though each location stays within it", () => {
    const state = stateWith([level("a", TOTAL_MAX - 5), level("b", 0)]);
    const failure = refused(run(command([req("ADD", QUANTITY_MAX, "b")]), state));
    expect(failure.code).toBe("limit_exceeded");
  });

  it("refuses with limit_exceeded an ADJUST to a count past TOTAL_MAX in the product total", () => {
    const state = stateWith([level("a", TOTAL_MAX - 1), level("b", 0)]);
    expect(refused(run(command([req("ADJUST", 2, "b")]), state)).code).toBe("limit_exceeded");
  });

  it("refuses with limit_exceeded a fact REMOVE that would take on_hand below -TOTAL_MAX", () => {
    const failure = refused(run(command([req("REMOVE", 2)], { is_fact: true }), stateWith([level("default", -TOTAL_MAX + 1)])));
    expect(failure.code).toBe("limit_exceeded");
  });

  it("refuses with limit_exceeded a RESERVE that would take total reserved past TOTAL_MAX", () => {
    // Location a was counted down to 0 under its reservations; b has 30 available. on_hand stays
    // well within TOTAL_MAX, but the reserved sum passes it while each location stays within it.
    const half = Math.floor(TOTAL_MAX / 2);
    const state = stateWith([level("a", 0, half + 10), level("b", half + 10, half - 20)]);
    expect(state.on_hand).toBeLessThan(TOTAL_MAX);
    const failure = refused(run(command([req("RESERVE", 30, "b")]), state));
    expect(failure.code).toBe("limit_exceeded");
  });

  it(`accepts a new location while the product has fewer than ${LOCATIONS_PER_PRODUCT_MAX} locations`, () => {
    const state = stateWith([], { location_count: LOCATIONS_PER_PRODUCT_MAX - 1 });
    const d = accepted(run(command([req("ADD", 1, "last-one")]), state));
    expect(d.next.location_count).toBe(LOCATIONS_PER_PRODUCT_MAX);
  });

  it(`refuses with limit_exceeded a new location past ${LOCATIONS_PER_PRODUCT_MAX} locations`, () => {
    const state = stateWith([], { location_count: LOCATIONS_PER_PRODUCT_MAX });
    const failure = refused(run(command([req("ADD", 1, "one-too-many")]), state));
    expect(failure.code).toBe("limit_exceeded");
    if (failure.code === "limit_exceeded") expect(failure.detail).toContain(String(LOCATIONS_PER_PRODUCT_MAX));
  });

  it("still accepts writes to an existing location when the product is at the location limit", () => {
    const state = stateWith([level("known", 5)], { location_count: LOCATIONS_PER_PRODUCT_MAX });
    const d = accepted(run(command([req("ADD", 1, "known")]), state));
    expect(d.next.location_count).toBe(LOCATIONS_PER_PRODUCT_MAX);
  });

  it("counts two new locations in one command against the limit", () => {
    const state = stateWith([], { location_count: LOCATIONS_PER_PRODUCT_MAX - 1 });
    expect(refused(run(command([req("ADD", 1, "n1"), req("ADD", 1, "n2")]), state)).code).toBe("limit_exceeded");
  });

  it("counts a new location only once when one command touches it twice", () => {
    const state = stateWith([], { location_count: LOCATIONS_PER_PRODUCT_MAX - 1 });
    const d = accepted(run(command([req("ADD", 1, "n1"), req("ADD", 2, "n1")]), state));
    expect(d.next.location_count).toBe(LOCATIONS_PER_PRODUCT_MAX);
    expect(d.levels).toEqual([level("n1", 3, 0)]);
  });
});

describe("decide: multi-request commands", () => {
  it("numbers rows contiguously from state.version + 1 and advances the version by the row count", () => {
    const state = stateWith([level("default", 10, 4)], { version: 41 });
    const d = accepted(run(command([req("RELEASE", 4), req("REMOVE", 4), req("ADD", 1, "b")]), state));
    expect(d.rows.map((r) => r.seq)).toEqual([42, 43, 44]);
    expect(d.rows.map((r) => r.id)).toEqual(["id-0", "id-1", "id-2"]);
    expect(d.next.version).toBe(44);
  });

  it("a later request sees the effect of an earlier one at the same location (RELEASE then REMOVE commits a reservation)", () => {
    // available is 0: the REMOVE alone would be refused; after the RELEASE it has 3 to take.
    const state = stateWith([level("default", 3, 3)]);
    expect(refused(run(command([req("REMOVE", 3)]), state)).code).toBe("insufficient_stock");
    const d = accepted(run(command([req("RELEASE", 3), req("REMOVE", 3)]), state));
    expect(d.rows.map((r) => r.delta)).toEqual([3, -3]);
    expect(d.levels).toEqual([level("default", 0, 0)]);
    expect(d.next).toMatchObject({ on_hand: 0, reserved: 0, version: 12 });
  });

  it("a later ADJUST computes its delta from the level an earlier request in the same command left", () => {
    const d = accepted(run(command([req("ADD", 5), req("ADJUST", 12)]), stateWith([level("default", 4)])));
    expect(d.rows.map((r) => r.delta)).toEqual([5, 3]);
    expect(d.levels).toEqual([level("default", 12, 0)]);
  });

  it("returns one level per touched location in first-touch order", () => {
    const state = stateWith([level("a", 5), level("b", 5)]);
    const d = accepted(run(command([req("ADD", 1, "b"), req("ADD", 1, "c"), req("REMOVE", 1, "b"), req("ADD", 2, "a")]), state));
    expect(d.levels).toEqual([level("b", 5), level("c", 1), level("a", 7)]);
    expect(d.next).toMatchObject({ on_hand: 13, location_count: 3 });
  });

  it("gives every row of a command the same created_at and idempotency key", () => {
    const d = accepted(run(command([req("ADD", 1), req("ADD", 2)], { idempotency_key: "k" }), stateWith([])));
    expect(new Set(d.rows.map((r) => r.created_at))).toEqual(new Set([NOW]));
    expect(new Set(d.rows.map((r) => r.idempotency_key))).toEqual(new Set(["k"]));
  });
});

describe("decide: created_at", () => {
  it("stamps rows with the context time when it is after the last row", () => {
    const d = accepted(run(command([req("ADD", 1)]), stateWith([], { last_created_at: "2026-03-01T11:59:59.999Z" })));
    expect(d.rows[0]!.created_at).toBe(NOW);
    expect(d.next.last_created_at).toBe(NOW);
  });

  it("stamps rows with the context time when there is no previous row", () => {
    const d = accepted(run(command([req("ADD", 1)]), stateWith([], { version: 0, last_created_at: null })));
    expect(d.rows[0]!.created_at).toBe(NOW);
    expect(d.next.last_created_at).toBe(NOW);
  });

  it("never goes back in time: when the clock is behind the last row, rows get the last row's created_at", () => {
    const later = "2026-03-01T12:00:05.123Z";
    const d = accepted(run(command([req("ADD", 1), req("ADD", 1)]), stateWith([], { last_created_at: later })));
    expect(d.rows.map((r) => r.created_at)).toEqual([later, later]);
    expect(d.next.last_created_at).toBe(later);
  });

  it("keeps the same time when the clock equals the last row's time", () => {
    const d = accepted(run(command([req("ADD", 1)]), stateWith([], { last_created_at: NOW })));
    expect(d.rows[0]!.created_at).toBe(NOW);
  });
});

describe("decide: oversold_locations bookkeeping", () => {
  it("counts a location once when it goes below zero available", () => {
    const d = accepted(run(command([req("ADJUST", 0, "a")]), stateWith([level("a", 5, 2), level("b", 1)])));
    expect(d.levels).toEqual([level("a", 0, 2)]);
    expect(d.next.oversold_locations).toBe(1);
  });

  it("does not count a location twice when it goes further below zero", () => {
    const state = stateWith([level("a", -1)]);
    expect(state.oversold_locations).toBe(1);
    const d = accepted(run(command([req("REMOVE", 3, "a")], { is_fact: true }), state));
    expect(d.levels).toEqual([level("a", -4)]);
    expect(d.next.oversold_locations).toBe(1);
  });

  it("uncounts a location when it comes back to zero available", () => {
    const d = accepted(run(command([req("ADD", 2, "a")]), stateWith([level("a", -2), level("b", -1)])));
    expect(d.levels).toEqual([level("a", 0)]);
    expect(d.next.oversold_locations).toBe(1);
  });

  it("counts each oversold location separately, even when another location makes the total positive", () => {
    const state = stateWith([level("a", 1), level("b", 1), level("c", 100)]);
    const d = accepted(run(command([req("REMOVE", 2, "a"), req("REMOVE", 2, "b")], { is_fact: true }), state));
    expect(d.next).toMatchObject({ on_hand: 98, oversold_locations: 2 });
  });

  it("a location that dips below zero and recovers within one command ends up uncounted", () => {
    const d = accepted(run(command([req("REMOVE", 5, "a"), req("ADD", 5, "a")], { is_fact: true }), stateWith([level("a", 2)])));
    expect(d.next.oversold_locations).toBe(0);
    expect(d.levels).toEqual([level("a", 2)]);
  });

  it("a RELEASE that brings an oversold location back to zero uncounts it", () => {
    // on_hand 2, reserved 4: available -2; releasing 2 makes available 0.
    const d = accepted(run(command([req("RELEASE", 2, "a")]), stateWith([level("a", 2, 4)])));
    expect(d.levels).toEqual([level("a", 2, 2)]);
    expect(d.next.oversold_locations).toBe(0);
  });
});

describe("decide: ids", () => {
  it("throws when the context holds fewer ids than requests", () => {
    expect(() => decide(command([req("ADD", 1), req("ADD", 1)]), stateWith([]), { now: NOW, new_ids: ["only-one"] })).toThrow(/id/);
  });
});
