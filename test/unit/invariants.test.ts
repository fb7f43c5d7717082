// The invariants asserted where state is written and read back (src/ledger/invariants.ts): each
// must throw on the broken state it names, and stay quiet on a sound one.
import { describe, expect, it } from "vitest";
import { assertContiguous, assertLevel, assertTotalsMatchLevels, InvariantViolation } from "../../src/ledger/invariants";
import { emptyTotals, type ProductTotals } from "../../src/ledger/stock";

const totals = (overrides: Partial<ProductTotals>): ProductTotals => ({ ...emptyTotals("sku-1"), ...overrides });

describe("assertLevel", () => {
  it("accepts integers with reserved at or above zero, and a negative available (a fact may cause it)", () => {
    expect(() => assertLevel({ location_id: "a", on_hand: 5, reserved: 0 })).not.toThrow();
    expect(() => assertLevel({ location_id: "a", on_hand: -3, reserved: 2 })).not.toThrow();
  });

  it("throws an InvariantViolation naming the location when reserved is below zero", () => {
    expect(() => assertLevel({ location_id: "wh-9", on_hand: 5, reserved: -1 })).toThrow(InvariantViolation);
    expect(() => assertLevel({ location_id: "wh-9", on_hand: 5, reserved: -1 })).toThrow(/reserved of wh-9 is below zero/);
  });

  it("throws when a count is not a safe integer", () => {
    expect(() => assertLevel({ location_id: "a", on_hand: 1.5, reserved: 0 })).toThrow(/on_hand of a/);
    expect(() => assertLevel({ location_id: "a", on_hand: 0, reserved: 2 ** 53 })).toThrow(/reserved of a/);
    expect(() => assertLevel({ location_id: "a", on_hand: Number.NaN, reserved: 0 })).toThrow(InvariantViolation);
  });
});

describe("assertTotalsMatchLevels", () => {
  const levels = [
    { location_id: "a", on_hand: 10, reserved: 4 },
    { location_id: "b", on_hand: -2, reserved: 0 },
  ];

  it("accepts totals that are the sums over the locations, with the oversold locations counted", () => {
    expect(() => assertTotalsMatchLevels(totals({ on_hand: 8, reserved: 4, oversold_locations: 1 }), levels)).not.toThrow();
    expect(() => assertTotalsMatchLevels(totals({}), [])).not.toThrow();
  });

  it("throws when on_hand, reserved or the oversold count differs from the sums", () => {
    expect(() => assertTotalsMatchLevels(totals({ on_hand: 9, reserved: 4, oversold_locations: 1 }), levels)).toThrow(/on_hand total 9/);
    expect(() => assertTotalsMatchLevels(totals({ on_hand: 8, reserved: 3, oversold_locations: 1 }), levels)).toThrow(/reserved total 3/);
    expect(() => assertTotalsMatchLevels(totals({ on_hand: 8, reserved: 4, oversold_locations: 0 }), levels)).toThrow(
      /oversold_locations 0/,
    );
  });

  it("checks every level it sums, so a location with reserved below zero is caught here too", () => {
    expect(() => assertTotalsMatchLevels(totals({ on_hand: 1, reserved: -1 }), [{ location_id: "a", on_hand: 1, reserved: -1 }])).toThrow(
      /below zero/,
    );
  });
});

describe("assertContiguous", () => {
  it("accepts rows that continue the sequence right after the previous version", () => {
    expect(() => assertContiguous(0, [{ seq: 1 }, { seq: 2 }])).not.toThrow();
    expect(() => assertContiguous(41, [{ seq: 42 }])).not.toThrow();
    expect(() => assertContiguous(7, [])).not.toThrow();
  });

  it("throws on a gap, a repeat, or a start anywhere but right after the version", () => {
    expect(() => assertContiguous(0, [{ seq: 1 }, { seq: 3 }])).toThrow(/seq 3 breaks the sequence after 1/);
    expect(() => assertContiguous(5, [{ seq: 6 }, { seq: 6 }])).toThrow(InvariantViolation);
    expect(() => assertContiguous(5, [{ seq: 5 }])).toThrow(/seq 5 breaks the sequence after 5/);
  });
});
