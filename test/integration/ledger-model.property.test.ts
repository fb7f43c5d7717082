// Random command sequences against the real Durable Object and a reference model written here,
// independently of src/ledger. After every sequence: cache = ledger sums = model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TransactionRequest, WriteCommand } from "../../src/ledger/types";
import { freshProductId } from "../helpers/http";
import { ledgerStub, rawState, sumsFromRows } from "../helpers/ledger-object";

type Kind = "ADD" | "REMOVE" | "RETURN" | "RESERVE" | "RELEASE" | "ADJUST";
interface Step {
  kind: Kind;
  quantity: number;
  location_id: string;
  is_fact: boolean;
  /** Replay the command of an earlier step (by index modulo the steps so far) instead. */
  replay_of: number | null;
}

const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<Kind>("ADD", "REMOVE", "RETURN", "RESERVE", "RELEASE", "ADJUST"),
  quantity: fc.integer({ min: 1, max: 12 }),
  location_id: fc.constantFrom("default", "north", "south"),
  is_fact: fc.boolean(),
  replay_of: fc.option(fc.nat(), { freq: 5 }),
});

interface ModelLevel {
  on_hand: number;
  reserved: number;
}

/** The reference model: plain arithmetic from API.md's Stock model table. */
function modelApply(model: Map<string, ModelLevel>, step: Step): boolean {
  const level = { ...(model.get(step.location_id) ?? { on_hand: 0, reserved: 0 }) };
  const available = level.on_hand - level.reserved;
  const counted = step.quantity - 1; // ADJUST counts from 0 upwards
  switch (step.kind) {
    case "ADD":
    case "RETURN":
      level.on_hand += step.quantity;
      break;
    case "REMOVE":
      if (!step.is_fact && available < step.quantity) return false;
      level.on_hand -= step.quantity;
      break;
    case "RESERVE":
      if (available < step.quantity) return false;
      level.reserved += step.quantity;
      break;
    case "RELEASE":
      if (level.reserved < step.quantity) return false;
      level.reserved -= step.quantity;
      break;
    case "ADJUST":
      level.on_hand = counted;
      break;
  }
  model.set(step.location_id, level);
  return true;
}

function commandOf(step: Step, index: number): WriteCommand {
  const request: TransactionRequest = {
    type: step.kind,
    quantity: step.kind === "ADJUST" ? step.quantity - 1 : step.quantity,
    location_id: step.location_id,
    reason: `step-${index}`,
    actor: null,
    metadata: null,
    reservation_id: null,
  };
  return { idempotency_key: `k-${index}`, principal: "model", expected_version: null, is_fact: step.is_fact, requests: [request] };
}

describe("the product ledger against a reference model", () => {
  it("keeps cache = ledger sums = model, reserved >= 0, seq contiguous, and replays inert, over random sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 25 }), async (steps) => {
        const product_id = freshProductId("model");
        const stub = ledgerStub(product_id);
        const model = new Map<string, ModelLevel>();
        const accepted: number[] = [];
        // A fact that took a location below zero excuses negative availability there.
        const factNegative = new Set<string>();

        for (const [index, step] of steps.entries()) {
          if (step.replay_of !== null && accepted.length > 0) {
            const original = accepted[step.replay_of % accepted.length]!;
            const before = await stub.stock();
            const replay = await stub.write(commandOf(steps[original]!, original));
            expect(replay.ok && replay.replayed).toBe(true);
            expect(await stub.stock()).toEqual(before);
            continue;
          }
          const expectedOk = modelApply(model, step);
          const result = await stub.write(commandOf(step, index));
          expect(result.ok).toBe(expectedOk);
          if (result.ok) accepted.push(index);
          const level = model.get(step.location_id);
          if (level && level.on_hand - level.reserved < 0) {
            if (step.kind === "ADJUST" || (step.kind === "REMOVE" && step.is_fact)) factNegative.add(step.location_id);
          } else {
            factNegative.delete(step.location_id);
          }
        }

        const { stock } = await stub.stock();
        const raw = await rawState(product_id);
        const sums = sumsFromRows(raw.rows);
        expect(raw.rows.map((row) => row.seq)).toEqual(Array.from({ length: accepted.length }, (_, i) => i + 1));
        expect(stock.version).toBe(accepted.length);
        for (const location of stock.locations) {
          const modelLevel = model.get(location.location_id)!;
          expect({ on_hand: location.on_hand, reserved: location.reserved }).toEqual(modelLevel);
          expect({ on_hand: location.on_hand, reserved: location.reserved }).toEqual(sums.get(location.location_id));
          expect(location.reserved).toBeGreaterThanOrEqual(0);
          if (location.available < 0) expect(factNegative.has(location.location_id)).toBe(true);
        }
        expect(stock.locations.map((l) => l.location_id).sort()).toEqual([...sums.keys()].sort());
        expect(stock.oversold).toBe(stock.locations.some((l) => l.available < 0));
      }),
      { numRuns: 40 },
    );
  });
});
