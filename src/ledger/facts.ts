// Facts reported by other systems (an order system's webhooks): each is recorded once under a
// stable business key, and an order line's placement and cancellation may arrive in either
// order. Pure: the product's object reads the facts this needs, asks `planFact`, and carries
// out the plan in the same transaction.

import type { TransactionRequest } from "./types";

/** One thing to do on one product's ledger for a reported fact. */
export type FactOp =
  /** A fact to record once under `key` (ADD, ADJUST, RETURN). */
  | { kind: "record"; product_id: string; key: string; request: TransactionRequest }
  /** A sale to record once under `key`, unless the order line's cancellation (`cancel_key`) came first. */
  | { kind: "place"; product_id: string; key: string; cancel_key: string; request: TransactionRequest }
  /** Return what the placement (`place_key`) removed; if the placement has not arrived, remember the cancel. */
  | { kind: "cancel"; product_id: string; key: string; place_key: string; reason: string };

/** What the ledger already knows that decides a fact's plan. */
export interface FactHistory {
  /** A write was accepted under this key (in the facts' key space). */
  keyUsed(key: string): boolean;
  /** A cancellation that arrived before its placement was remembered under this key. */
  cancellationRemembered(key: string): boolean;
  /** The first row written under this key, if any. */
  firstRow(key: string): { quantity: number; location_id: string } | undefined;
}

export type FactPlan =
  /** Write `request` under the op's key (a replay if the key was used: the first answer). */
  | { kind: "write"; request: TransactionRequest }
  /** The line's cancellation came first: acknowledge the placement, write nothing. */
  | { kind: "skip_cancelled" }
  /** The cancellation is already remembered: nothing more to do. */
  | { kind: "duplicate" }
  /** The cancellation came first: remember it, so its placement is not applied when it arrives. */
  | { kind: "remember_cancellation" };

export function planFact(op: FactOp, history: FactHistory): FactPlan {
  switch (op.kind) {
    case "record":
      return { kind: "write", request: op.request };
    case "place": {
      const placed = history.keyUsed(op.key);
      const cancelled = history.cancellationRemembered(op.cancel_key) || history.keyUsed(op.cancel_key);
      return !placed && cancelled ? { kind: "skip_cancelled" } : { kind: "write", request: op.request };
    }
    case "cancel": {
      const placement = history.firstRow(op.place_key);
      // Applied before: a replay of the same RETURN (its placement exists, or it could not have been).
      if (history.keyUsed(op.key) && placement !== undefined) return { kind: "write", request: returnOf(placement, op.reason) };
      if (history.cancellationRemembered(op.key)) return { kind: "duplicate" };
      if (placement === undefined) return { kind: "remember_cancellation" };
      return { kind: "write", request: returnOf(placement, op.reason) };
    }
  }
}

/** The RETURN that undoes an order line's placement: the same quantity and location as its REMOVE. */
function returnOf(placement: { quantity: number; location_id: string }, reason: string): TransactionRequest {
  return {
    type: "RETURN",
    quantity: placement.quantity,
    location_id: placement.location_id,
    reason,
    actor: null,
    metadata: null,
    reservation_id: null,
  };
}
