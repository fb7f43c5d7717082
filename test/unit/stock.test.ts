// Stock as clients see it, derived from totals and levels: available, oversold, locations sorted, totals summed.
import { describe, expect, it } from "vitest";
import { emptyTotals, type ProductTotals, toStock, totalsFromLevels, withLocations } from "../../src/ledger/stock";
import { level } from "../helpers/ledger-state";

function totals(overrides: Partial<ProductTotals> = {}): ProductTotals {
  return {
    product_id: "sku-1",
    on_hand: 10,
    reserved: 3,
    version: 7,
    oversold_locations: 0,
    updated_at: "2026-03-01T12:00:00.000Z",
    ...overrides,
  };
}

describe("toStock", () => {
  it("derives available as on_hand minus reserved and copies the other fields", () => {
    expect(toStock(totals())).toEqual({
      product_id: "sku-1",
      on_hand: 10,
      reserved: 3,
      available: 7,
      version: 7,
      oversold: false,
      updated_at: "2026-03-01T12:00:00.000Z",
    });
  });

  it("is oversold when any location is below zero even though the product totals are positive", () => {
    const stock = toStock(totals({ on_hand: 100, reserved: 0, oversold_locations: 1 }));
    expect(stock.available).toBe(100);
    expect(stock.oversold).toBe(true);
  });

  it("is not oversold when no location is below zero", () => {
    expect(toStock(totals({ on_hand: 0, reserved: 0, oversold_locations: 0 })).oversold).toBe(false);
  });

  it("reports negative available for a product whose totals are below zero", () => {
    const stock = toStock(totals({ on_hand: 2, reserved: 5, oversold_locations: 1 }));
    expect(stock.available).toBe(-3);
    expect(stock.oversold).toBe(true);
  });

  it("a product with no rows has version 0, zero stock, no update time and is not oversold", () => {
    expect(toStock(emptyTotals("sku-empty"))).toEqual({
      product_id: "sku-empty",
      on_hand: 0,
      reserved: 0,
      available: 0,
      version: 0,
      oversold: false,
      updated_at: null,
    });
  });
});

describe("withLocations", () => {
  it("lists locations sorted by id with available derived per location", () => {
    const levels = [level("wh-2", 5, 1), level("default", 3, 0), level("wh-10", 0, 0)];
    const stock = withLocations(totals({ on_hand: 8, reserved: 1 }), levels);
    expect(stock.locations).toEqual([
      { location_id: "default", on_hand: 3, reserved: 0, available: 3 },
      { location_id: "wh-10", on_hand: 0, reserved: 0, available: 0 },
      { location_id: "wh-2", on_hand: 5, reserved: 1, available: 4 },
    ]);
    expect(stock).toMatchObject({ on_hand: 8, reserved: 1, available: 7 });
  });

  it("sorts by code unit order, so upper case sorts before lower case", () => {
    const stock = withLocations(totals(), [level("b", 1), level("a", 1), level("B", 1), level("A", 1)]);
    expect(stock.locations.map((l) => l.location_id)).toEqual(["A", "B", "a", "b"]);
  });

  it("marks the product oversold when one location is below zero and another makes the total positive", () => {
    const levels = [level("a", -2), level("b", 10)];
    const stock = withLocations(totalsFromLevels("sku-1", levels, 4, null), levels);
    expect(stock).toMatchObject({ on_hand: 8, available: 8, oversold: true });
    expect(stock.locations.find((l) => l.location_id === "a")!.available).toBe(-2);
  });

  it("does not reorder the caller's array", () => {
    const levels = [level("z", 1), level("a", 1)];
    withLocations(totals(), levels);
    expect(levels.map((l) => l.location_id)).toEqual(["z", "a"]);
  });

  it("does not mark a live read as derived", () => {
    expect(withLocations(totals(), [level("a", 1)]).derived).toBeUndefined();
  });
});

describe("totalsFromLevels", () => {
  it("sums on_hand and reserved over locations and counts the locations below zero available", () => {
    const t = totalsFromLevels(
      "sku-1",
      [level("a", 5, 7), level("b", 3, 1), level("c", -1, 0), level("d", 0, 0)],
      12,
      "2026-01-01T00:00:00.000Z",
    );
    expect(t).toEqual({
      product_id: "sku-1",
      on_hand: 7,
      reserved: 8,
      version: 12,
      oversold_locations: 2,
      updated_at: "2026-01-01T00:00:00.000Z",
    });
  });
});
