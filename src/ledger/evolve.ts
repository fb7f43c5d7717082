// How one ledger row changes the level of its location. Pure: the ledger is the sum of these.

import { type LocationLevel, ON_HAND_TYPES, type TransactionType } from "./types";

export const ZERO_LEVEL = (location_id: string): LocationLevel => ({ location_id, on_hand: 0, reserved: 0 });

/** Whether rows of this type move on_hand (true) or reserved (false). */
export function movesOnHand(type: TransactionType): boolean {
  return ON_HAND_TYPES.includes(type);
}

/**
 * on_hand = SUM(delta) over ADD, REMOVE, RETURN, ADJUST;
 * reserved = -SUM(delta) over RESERVE, RELEASE; so available = SUM(delta) over all rows.
 */
export function evolve(level: LocationLevel, row: { type: TransactionType; delta: number }): LocationLevel {
  if (movesOnHand(row.type)) return { ...level, on_hand: level.on_hand + row.delta };
  return { ...level, reserved: level.reserved - row.delta };
}

export function availableOf(level: { on_hand: number; reserved: number }): number {
  return level.on_hand - level.reserved;
}

/** The signed delta a request writes, given the location's level before it. */
export function deltaOf(type: TransactionType, quantity: number, level: LocationLevel): number {
  switch (type) {
    case "ADD":
    case "RETURN":
    case "RELEASE":
      return quantity;
    case "REMOVE":
    case "RESERVE":
      return -quantity;
    case "ADJUST":
      // A physical count states the new on_hand; the row records the difference.
      return quantity - level.on_hand;
  }
}
