// Property tests: random command sequences folded through decide(), the way the Durable Object
// does it, checked against a reference model written independently from src (plain numbers per
// location, rules straight from the "Stock model" section of API.md).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, type ProductState } from "../../src/ledger/decide";
import { evolve } from "../../src/ledger/evolve";
import {
  type LedgerEntry,
  type LocationLevel,
  TRANSACTION_TYPES,
  type TransactionRequest,
  type TransactionType,
  type WriteCommand,
} from "../../src/ledger/types";

const PRODUCT = "sku-prop";
const LOCATIONS = ["a", "b", "c"] as const;
const START_MS = Date.UTC(2026, 0, 1);

interface GeneratedRequest {
  type: TransactionType;
  quantity: number;
  location_id: string;
}

interface GeneratedCommand {
  requests: GeneratedRequest[];
  is_fact: boolean;
  version_check: "none" | "current" | "stale";
  /** How far the clock moves before this command; negative values model a clock going back. */
  clock_step_ms: number;
}

const requestArb: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    type: fc.constantFrom(...TRANSACTION_TYPES),
    quantity: fc.integer({ min: 1, max: 12 }),
    counted: fc.integer({ min: 0, max: 12 }),
    location_id: fc.constantFrom(...LOCATIONS),
  })
  .map(({ type, quantity, counted, location_id }) => ({ type, quantity: type === "ADJUST" ? counted : quantity, location_id }));

const commandArb: fc.Arbitrary<GeneratedCommand> = fc.record({
  requests: fc.array(requestArb, { minLength: 1, maxLength: 3 }),
  // About three commands in ten are facts (a count or a sale reported by a source).
  is_fact: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
  version_check: fc.constantFrom("none", "none", "none", "current", "stale"),
  clock_step_ms: fc.integer({ min: -2_000, max: 3_000 }),
});

/** The reference model: plain numbers per location, nothing imported from src. */
interface ModelLocation {
  on_hand: number;
  reserved: number;
}
type Model = Map<string, ModelLocation>;

type ModelOutcome = { ok: true; next: Model } | { ok: false; code: "insufficient_stock" | "insufficient_reserved" | "version_conflict" };

function modelApply(model: Model, version: number, cmd: GeneratedCommand, expected_version: number | null): ModelOutcome {
  if (expected_version !== null && expected_version !== version) return { ok: false, code: "version_conflict" };
  const next: Model = new Map([...model].map(([id, loc]) => [id, { ...loc }]));
  for (const r of cmd.requests) {
    const loc = next.get(r.location_id) ?? { on_hand: 0, reserved: 0 };
    const available = loc.on_hand - loc.reserved;
    switch (r.type) {
      case "ADD":
      case "RETURN":
        loc.on_hand += r.quantity;
        break;
      case "REMOVE":
        if (!cmd.is_fact && available < r.quantity) return { ok: false, code: "insufficient_stock" };
        loc.on_hand -= r.quantity;
        break;
      case "RESERVE":
        if (available < r.quantity) return { ok: false, code: "insufficient_stock" };
        loc.reserved += r.quantity;
        break;
      case "RELEASE":
        if (loc.reserved < r.quantity) return { ok: false, code: "insufficient_reserved" };
        loc.reserved -= r.quantity;
        break;
      case "ADJUST":
        loc.on_hand = r.quantity;
        break;
    }
    next.set(r.location_id, loc);
  }
  return { ok: true, next };
}

/** What the Durable Object keeps between writes: the totals row and every location's level. */
interface Stored {
  totals: Omit<ProductState, "levels">;
  levels: Map<string, LocationLevel>;
  rows: LedgerEntry[];
}

function emptyStored(): Stored {
  return {
    totals: { product_id: PRODUCT, version: 0, on_hand: 0, reserved: 0, oversold_locations: 0, location_count: 0, last_created_at: null },
    levels: new Map(),
    rows: [],
  };
}

/** Like the Durable Object: the state holds the levels of the locations the command touches. */
function stateFor(stored: Stored, cmd: WriteCommand): ProductState {
  const levels = new Map<string, LocationLevel>();
  for (const r of cmd.requests) {
    const level = stored.levels.get(r.location_id);
    if (level) levels.set(r.location_id, { ...level });
  }
  return { ...stored.totals, levels };
}

function toRequest(r: GeneratedRequest, index: number): TransactionRequest {
  return {
    type: r.type,
    quantity: r.quantity,
    location_id: r.location_id,
    reason: `r-${index}`,
    actor: null,
    metadata: null,
    reservation_id: null,
  };
}

function snapshot(stored: Stored): string {
  return JSON.stringify({ totals: stored.totals, levels: [...stored.levels.entries()].sort(), rows: stored.rows.length });
}

function checkInvariants(stored: Stored, model: Model): void {
  const levels = [...stored.levels.values()];
  // Totals are the sums over the levels.
  expect(stored.totals.on_hand).toBe(levels.reduce((s, l) => s + l.on_hand, 0));
  expect(stored.totals.reserved).toBe(levels.reduce((s, l) => s + l.reserved, 0));
  expect(stored.totals.oversold_locations).toBe(levels.filter((l) => l.on_hand - l.reserved < 0).length);
  expect(stored.totals.location_count).toBe(stored.levels.size);
  // reserved never below zero.
  for (const l of levels) expect(l.reserved).toBeGreaterThanOrEqual(0);
  // The maintained levels equal the reference model, location by location.
  expect(stored.levels.size).toBe(model.size);
  for (const [id, loc] of model) {
    expect(stored.levels.get(id)).toEqual({ location_id: id, on_hand: loc.on_hand, reserved: loc.reserved });
  }
  // Folding evolve() over every accepted row rebuilds the maintained levels.
  const replayed = new Map<string, LocationLevel>();
  for (const row of stored.rows) {
    const before = replayed.get(row.location_id) ?? { location_id: row.location_id, on_hand: 0, reserved: 0 };
    replayed.set(row.location_id, evolve(before, row));
  }
  expect(new Map([...replayed].sort())).toEqual(new Map([...stored.levels].sort()));
  // available = SUM(delta) over all rows, per location.
  for (const l of levels) {
    const sum = stored.rows.filter((row) => row.location_id === l.location_id).reduce((s, row) => s + row.delta, 0);
    expect(l.on_hand - l.reserved).toBe(sum);
  }
  // seq is 1, 2, 3... with no gaps, and version is the last seq.
  expect(stored.rows.map((row) => row.seq)).toEqual(stored.rows.map((_, i) => i + 1));
  expect(stored.totals.version).toBe(stored.rows.length);
  // created_at never goes backwards along the ledger.
  for (let i = 1; i < stored.rows.length; i++) expect(stored.rows[i]!.created_at >= stored.rows[i - 1]!.created_at).toBe(true);
}

describe("ledger model (property)", () => {
  it("random command sequences keep totals, levels, the ledger and a reference model in agreement", () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 40 }), (commands) => {
        const stored = emptyStored();
        let model: Model = new Map();
        let clock = START_MS;

        for (const [step, generated] of commands.entries()) {
          clock += generated.clock_step_ms;
          const now = new Date(clock).toISOString();
          const version = stored.totals.version;
          const expected_version =
            generated.version_check === "none"
              ? null
              : generated.version_check === "current"
                ? version
                : version + (step % 2 === 0 ? 1 : -1);
          const cmd: WriteCommand = {
            idempotency_key: `key-${step}`,
            principal: "writer",
            expected_version,
            is_fact: generated.is_fact,
            requests: generated.requests.map(toRequest),
          };
          const state = stateFor(stored, cmd);
          const stateBefore = JSON.stringify({ ...state, levels: [...state.levels] });
          const before = snapshot(stored);
          const availableBefore = new Map([...stored.levels].map(([id, l]) => [id, l.on_hand - l.reserved]));

          const decision = decide(cmd, state, { now, new_ids: cmd.requests.map((_, i) => `id-${step}-${i}`) });
          const expected = modelApply(model, version, generated, expected_version);

          // decide is pure: it never mutates the state it is given.
          expect(JSON.stringify({ ...state, levels: [...state.levels] })).toBe(stateBefore);
          expect(decision.ok).toBe(expected.ok);

          if (!decision.ok || !expected.ok) {
            if (!decision.ok && !expected.ok) expect(decision.failure.code).toBe(expected.code);
            // A refused command changes nothing: nothing to persist, the stored state stays.
            expect(snapshot(stored)).toBe(before);
            checkInvariants(stored, model);
            continue;
          }

          // Rows continue the sequence from the previous version.
          expect(decision.rows.map((row) => row.seq)).toEqual(cmd.requests.map((_, i) => version + i + 1));
          expect(decision.rows.map((row) => row.type)).toEqual(cmd.requests.map((r) => r.type));
          // available goes below zero, or further below, only through an ADJUST or a fact REMOVE.
          const running = new Map(availableBefore);
          for (const row of decision.rows) {
            const was = running.get(row.location_id) ?? 0;
            const now_available = was + row.delta;
            if (now_available < 0 && now_available < was) {
              expect(row.type === "ADJUST" || (row.type === "REMOVE" && cmd.is_fact)).toBe(true);
            }
            running.set(row.location_id, now_available);
          }
          // Persist exactly what decide returned, like the Durable Object does.
          expect(decision.levels.map((l) => l.location_id)).toEqual([...new Set(cmd.requests.map((r) => r.location_id))]);
          for (const l of decision.levels) stored.levels.set(l.location_id, l);
          stored.totals = decision.next;
          stored.rows.push(...decision.rows);
          model = expected.next;

          checkInvariants(stored, model);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("without facts or counts, available never goes below zero anywhere", () => {
    const plainRequestArb = requestArb.filter((r) => r.type !== "ADJUST");
    fc.assert(
      fc.property(fc.array(fc.array(plainRequestArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 40 }), (commands) => {
        const stored = emptyStored();
        for (const [step, requests] of commands.entries()) {
          const cmd: WriteCommand = {
            idempotency_key: `key-${step}`,
            principal: "writer",
            expected_version: null,
            is_fact: false,
            requests: requests.map(toRequest),
          };
          const decision = decide(cmd, stateFor(stored, cmd), {
            now: new Date(START_MS + step).toISOString(),
            new_ids: requests.map((_, i) => `id-${step}-${i}`),
          });
          if (!decision.ok) {
            expect(["insufficient_stock", "insufficient_reserved"]).toContain(decision.failure.code);
            continue;
          }
          for (const l of decision.levels) stored.levels.set(l.location_id, l);
          stored.totals = decision.next;
          stored.rows.push(...decision.rows);
          for (const l of stored.levels.values()) {
            expect(l.on_hand - l.reserved).toBeGreaterThanOrEqual(0);
            expect(l.reserved).toBeGreaterThanOrEqual(0);
          }
          expect(stored.totals.oversold_locations).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
