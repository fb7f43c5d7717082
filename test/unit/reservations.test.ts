import { describe, expect, it } from "vitest";
import { type Hold, holdsAttempt } from "../../src/ledger/holds";
import {
  duplicateLineIndexes,
  linesByProduct,
  nextAlarmAt,
  publicStatus,
  type ReservationRecord,
  reservationShard,
  retryDelayMs,
  withinProductCalls,
} from "../../src/ledger/reservations";
import { RESERVATION_PENDING_TIMEOUT_MS, RESERVATION_RETRY_BACKOFF_MS, RESERVATION_SHARDS } from "../../src/limits";

const record = (overrides: Partial<ReservationRecord>): ReservationRecord => ({
  id: "r",
  phase: "held",
  reason: "x",
  ttl_seconds: 900,
  expires_at: "2026-01-01T00:15:00.000Z",
  created_by: "p",
  created_at: "2026-01-01T00:00:00.000Z",
  lines: [],
  idempotency_key: "k",
  fingerprint: "f",
  attempt: 1,
  retries: 0,
  closed_by: null,
  closed_key: null,
  ...overrides,
});
const now = Date.parse("2026-01-01T00:05:00.000Z");

describe("when a reservation's alarm fires next", () => {
  it("wakes a held reservation at expires_at and a fresh pending one after the pending timeout", () => {
    expect(nextAlarmAt(record({ phase: "held" }), now)).toBe(Date.parse("2026-01-01T00:15:00.000Z"));
    expect(nextAlarmAt(record({ phase: "pending" }), now)).toBe(Date.parse("2026-01-01T00:00:00.000Z") + RESERVATION_PENDING_TIMEOUT_MS);
  });

  it("never waits past expires_at for a pending one, fresh or backing off", () => {
    expect(nextAlarmAt(record({ phase: "pending", expires_at: "2026-01-01T00:00:10.000Z" }), now)).toBe(
      Date.parse("2026-01-01T00:00:10.000Z"),
    );
    expect(nextAlarmAt(record({ phase: "pending", retries: 12, expires_at: "2026-01-01T00:06:00.000Z" }), now)).toBe(
      Date.parse("2026-01-01T00:06:00.000Z"),
    );
  });

  it("backs off a pending or unfinished step that already failed, instead of firing again at once", () => {
    expect(nextAlarmAt(record({ phase: "pending", retries: 3 }), now)).toBe(now + retryDelayMs(3));
    expect(nextAlarmAt(record({ phase: "committing", retries: 0 }), now)).toBe(now + RESERVATION_RETRY_BACKOFF_MS.base);
    expect(retryDelayMs(50)).toBe(RESERVATION_RETRY_BACKOFF_MS.max);
  });

  it("stops once the outcome is final", () => {
    for (const phase of ["failed", "committed", "released", "expired"] as const) expect(nextAlarmAt(record({ phase }), now)).toBeNull();
  });
});

describe("what clients see and how lines are grouped", () => {
  it("shows the decided outcome and hides unfinished or failed creations", () => {
    expect(publicStatus("committing")).toBe("committed");
    expect(publicStatus("expiring")).toBe("expired");
    expect(publicStatus("pending")).toBeNull();
    expect(publicStatus("failed")).toBeNull();
  });

  it("groups lines by product in first-seen order and finds duplicate product+location lines", () => {
    const lines = [
      { product_id: "a", location_id: "x", quantity: 1 },
      { product_id: "b", location_id: "x", quantity: 2 },
      { product_id: "a", location_id: "y", quantity: 3 },
    ];
    expect([...linesByProduct(lines)]).toEqual([
      [
        "a",
        [
          { location_id: "x", quantity: 1 },
          { location_id: "y", quantity: 3 },
        ],
      ],
      ["b", [{ location_id: "x", quantity: 2 }]],
    ]);
    expect(duplicateLineIndexes([...lines, { product_id: "b", location_id: "x" }])).toEqual([3]);
  });
});

describe("which object holds a reservation", () => {
  it("is the same for the same id, and one of RESERVATION_SHARDS names", () => {
    expect(reservationShard("rsv-1")).toBe(reservationShard("rsv-1"));
    expect(reservationShard("")).toBe(`reservations-${0x811c9dc5 % RESERVATION_SHARDS}`);
    for (let i = 0; i < 1_000; i++) {
      const index = Number(/^reservations-(\d+)$/.exec(reservationShard(`id-${i}`))![1]);
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(RESERVATION_SHARDS);
    }
  });

  it("spreads ids evenly enough that no object takes more than twice its share", () => {
    const counts = new Map<string, number>();
    const ids = 6_400;
    for (let i = 0; i < ids; i++) {
      const shard = reservationShard(crypto.randomUUID());
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect(counts.size).toBe(RESERVATION_SHARDS);
    expect(Math.max(...counts.values())).toBeLessThan((2 * ids) / RESERVATION_SHARDS);
  });
});

describe("which due reservations one alarm run works on", () => {
  const due = (...calls: number[]) => calls.map((product_calls, i) => ({ id: `r${i}`, product_calls }));

  it("takes them in order while their product calls stay within the budget, and stops at the first that would pass it", () => {
    expect(withinProductCalls(due(100, 100, 100, 100, 100, 100, 100), 500)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    expect(withinProductCalls(due(200, 200, 100, 1), 500)).toEqual(["r0", "r1", "r2"]);
    // Order is kept: a small one after the stop waits for the next run too.
    expect(withinProductCalls(due(300, 300, 1), 500)).toEqual(["r0"]);
  });

  it("always takes the first, even when it alone passes the budget, and nothing from nothing", () => {
    expect(withinProductCalls(due(600, 1), 500)).toEqual(["r0"]);
    expect(withinProductCalls([], 500)).toEqual([]);
  });
});

describe("holdsAttempt: how a crashed creation is decided", () => {
  const hold = (attempt: number, status: Hold["status"]): Hold => ({
    reservation_id: "r",
    location_id: "default",
    quantity: 1,
    status,
    attempt,
  });

  it("is true only while this very attempt is held", () => {
    expect(holdsAttempt([hold(2, "held")], 2)).toBe(true);
    expect(holdsAttempt([hold(1, "released"), hold(2, "held")], 2)).toBe(true);
  });

  it("is false for nothing held, an older attempt's hold, or this attempt given back", () => {
    expect(holdsAttempt([], 1)).toBe(false);
    expect(holdsAttempt([hold(1, "held")], 2)).toBe(false);
    expect(holdsAttempt([hold(2, "released")], 2)).toBe(false);
  });
});
