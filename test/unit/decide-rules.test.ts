// What decide refuses and counts: the stock rules, the version check, the limits, oversold bookkeeping, and the ids it needs.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/ledger/decide";
import { LOCATIONS_PER_PRODUCT_MAX, QUANTITY_MAX, TOTAL_MAX } from "../../src/limits";
import { accepted, command, level, NOW, refused, req, run, stateWith, stockBefore } from "../helpers/ledger-state";

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
