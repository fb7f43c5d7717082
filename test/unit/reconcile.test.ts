import { describe, expect, it } from "vitest";
import { type ChunkSummary, firstDivergence, sameLevels } from "../../src/ledger/reconcile";

const chunk = (n: number, overrides: Partial<ChunkSummary> = {}): ChunkSummary => ({
  chunk: n,
  rows: 1000,
  delta_sum: 10,
  on_hand_delta_sum: 10,
  quantity_sum: 10,
  seq_sum: 5,
  ...overrides,
});

describe("sameLevels", () => {
  it("ignores order but not values", () => {
    const a = [
      { location_id: "x", on_hand: 1, reserved: 0 },
      { location_id: "y", on_hand: 2, reserved: 1 },
    ];
    expect(sameLevels(a, [...a].reverse())).toBe(true);
    expect(sameLevels(a, [a[0]!, { ...a[1]!, reserved: 2 }])).toBe(false);
    expect(sameLevels(a, [a[0]!])).toBe(false);
    expect(sameLevels(a, [a[0]!, { ...a[1]!, location_id: "z" }])).toBe(false);
  });
});

describe("firstDivergence", () => {
  it("finds nothing when every chunk agrees", () => {
    expect(firstDivergence([chunk(0), chunk(1)], [chunk(1), chunk(0)], 1000, 2000)).toBeNull();
  });

  it("names the first chunk that differs, capped at the watermark", () => {
    const found = firstDivergence(
      [chunk(0), chunk(1), chunk(2, { rows: 500 })],
      [chunk(0), chunk(1, { delta_sum: 9 }), chunk(2)],
      1000,
      2500,
    );
    expect(found).toMatchObject({ from_seq: 1001, to_seq: 2000 });
    expect(found!.detail).toContain("delta_sum");
    expect(firstDivergence([chunk(0), chunk(1, { rows: 3 })], [chunk(0)], 1000, 1003)).toMatchObject({ from_seq: 1001, to_seq: 1003 });
  });

  it("reports rows the copy has that the ledger does not", () => {
    expect(firstDivergence([chunk(0)], [chunk(0), chunk(4)], 1000, 1000)).toMatchObject({ from_seq: 4001 });
  });
});
