// What decide writes: each type's delta and row fields, multi-request commands, and the created_at of the rows.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/ledger/decide";
import { accepted, command, level, NOW, PRODUCT, refused, req, run, stateWith } from "../helpers/ledger-state";

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
