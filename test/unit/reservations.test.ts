import { describe, expect, it } from "vitest";
import { RESERVATION_PENDING_TIMEOUT_MS, RESERVATION_RETRY_DELAY_MS_MAX, RESERVATION_RETRY_DELAY_MS_MIN } from "../../src/ledger/constants";
import { duplicateLineIndexes, linesByProduct, nextAlarmAt, publicStatus, retryDelayMs, type ReservationRecord } from "../../src/ledger/reservations";

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
  ...overrides,
});
const now = Date.parse("2026-01-01T00:05:00.000Z");

describe("when a reservation's alarm fires next", () => {
  it("wakes a held reservation at expires_at and a fresh pending one after the pending timeout", () => {
    expect(nextAlarmAt(record({ phase: "held" }), now)).toBe(Date.parse("2026-01-01T00:15:00.000Z"));
    expect(nextAlarmAt(record({ phase: "pending" }), now)).toBe(Date.parse("2026-01-01T00:00:00.000Z") + RESERVATION_PENDING_TIMEOUT_MS);
  });

  it("never waits past expires_at for a pending one", () => {
    expect(nextAlarmAt(record({ phase: "pending", expires_at: "2026-01-01T00:00:10.000Z" }), now)).toBe(Date.parse("2026-01-01T00:00:10.000Z"));
  });

  it("backs off a pending or unfinished step that already failed, instead of firing again at once", () => {
    expect(nextAlarmAt(record({ phase: "pending", retries: 3 }), now)).toBe(now + retryDelayMs(3));
    expect(nextAlarmAt(record({ phase: "committing", retries: 0 }), now)).toBe(now + RESERVATION_RETRY_DELAY_MS_MIN);
    expect(retryDelayMs(50)).toBe(RESERVATION_RETRY_DELAY_MS_MAX);
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
      ["a", [{ location_id: "x", quantity: 1 }, { location_id: "y", quantity: 3 }]],
      ["b", [{ location_id: "x", quantity: 2 }]],
    ]);
    expect(duplicateLineIndexes([...lines, { product_id: "b", location_id: "x" }])).toEqual([3]);
  });
});
