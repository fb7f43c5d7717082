// An order line's placement and cancellation may arrive in either order, any number of times
// (src/ledger/facts.ts): the ledger then holds the sale and its return, or neither, never one
// without the other, and nothing twice. Pure: a model of the ledger's keys plays the history.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type FactHistory, type FactOp, planFact } from "../../src/ledger/facts";
import type { TransactionRequest } from "../../src/ledger/types";

const REMOVE: TransactionRequest = {
  type: "REMOVE",
  quantity: 3,
  location_id: "wh-2",
  reason: "order:1",
  actor: null,
  metadata: null,
  reservation_id: null,
};
const place: FactOp = { kind: "place", product_id: "sku-1", key: "order:1:1:placed", cancel_key: "order:1:1:cancelled", request: REMOVE };
const cancel: FactOp = {
  kind: "cancel",
  product_id: "sku-1",
  key: "order:1:1:cancelled",
  place_key: "order:1:1:placed",
  reason: "order:1:cancelled",
};

/** The ledger as far as facts see it: keys written (with the row each wrote first), cancellations remembered. */
class ModelLedger implements FactHistory {
  readonly rows = new Map<string, TransactionRequest>();
  readonly remembered = new Set<string>();
  keyUsed = (key: string) => this.rows.has(key);
  cancellationRemembered = (key: string) => this.remembered.has(key);
  firstRow = (key: string) => this.rows.get(key);

  /** Carries out a plan as the product object does; a write under a used key is a replay. */
  apply(op: FactOp): void {
    const plan = planFact(op, this);
    if (plan.kind === "write" && !this.rows.has(op.key)) this.rows.set(op.key, plan.request);
    if (plan.kind === "remember_cancellation") this.remembered.add(op.key);
  }
}

describe("planFact", () => {
  it("records a plain fact under its key", () => {
    const record: FactOp = { kind: "record", product_id: "sku-1", key: "received:po:sku-1:default", request: { ...REMOVE, type: "ADD" } };
    expect(planFact(record, new ModelLedger())).toEqual({ kind: "write", request: record.request });
  });

  it("places a line, then cancels it with a RETURN of the placement's quantity and location", () => {
    const ledger = new ModelLedger();
    expect(planFact(place, ledger)).toEqual({ kind: "write", request: REMOVE });
    ledger.apply(place);
    expect(planFact(cancel, ledger)).toEqual({ kind: "write", request: { ...REMOVE, type: "RETURN", reason: "order:1:cancelled" } });
  });

  it("remembers a cancellation that comes first, and then acknowledges the late placement without writing", () => {
    const ledger = new ModelLedger();
    expect(planFact(cancel, ledger)).toEqual({ kind: "remember_cancellation" });
    ledger.apply(cancel);
    expect(planFact(cancel, ledger)).toEqual({ kind: "duplicate" });
    expect(planFact(place, ledger)).toEqual({ kind: "skip_cancelled" });
  });

  it("replays a placement that was applied even after its cancellation, so its answer stays the same", () => {
    const ledger = new ModelLedger();
    ledger.apply(place);
    ledger.apply(cancel);
    expect(planFact(place, ledger)).toEqual({ kind: "write", request: REMOVE });
    expect(planFact(cancel, ledger).kind).toBe("write");
  });

  it("in any order and any number of copies, writes the sale and its return, or neither, each at most once", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(place, cancel), { minLength: 1, maxLength: 12 }), (ops) => {
        const ledger = new ModelLedger();
        for (const op of ops) ledger.apply(op);
        const sold = ledger.rows.has(place.key);
        const returned = ledger.rows.has(cancel.key);
        const cancelFirst = ops[0] === cancel;
        // A return only ever undoes a recorded sale.
        if (returned) expect(sold).toBe(true);
        // A cancellation first means the sale never happens; a placement first means it does.
        expect(sold).toBe(!cancelFirst);
        // Once both arrived, the line is settled: sold and returned, or neither.
        if (ops.includes(place) && ops.includes(cancel)) expect(sold).toBe(returned);
        if (returned)
          expect(ledger.rows.get(cancel.key)).toMatchObject({ type: "RETURN", quantity: REMOVE.quantity, location_id: REMOVE.location_id });
      }),
    );
  });
});
