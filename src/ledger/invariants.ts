// Invariants checked where state is written and where it is read back. A violation is a bug,
// never a client error: it throws, the write's transaction rolls back, and the client sees 500.

import { availableOf } from "./evolve";
import type { ProductTotals } from "./stock";
import type { LocationLevel, Transaction } from "./types";

export class InvariantViolation extends Error {
  override name = "InvariantViolation";
}

export function assertInvariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}

/** reserved >= 0 everywhere; integers everywhere. available may be negative only through facts. */
export function assertLevel(level: LocationLevel): void {
  assertInvariant(Number.isSafeInteger(level.on_hand), `on_hand of ${level.location_id} is not a safe integer`);
  assertInvariant(Number.isSafeInteger(level.reserved), `reserved of ${level.location_id} is not a safe integer`);
  assertInvariant(level.reserved >= 0, `reserved of ${level.location_id} is below zero`);
}

/** The product totals equal the sums over its locations. */
export function assertTotalsMatchLevels(totals: ProductTotals, levels: readonly LocationLevel[]): void {
  let on_hand = 0;
  let reserved = 0;
  let oversold = 0;
  for (const level of levels) {
    assertLevel(level);
    on_hand += level.on_hand;
    reserved += level.reserved;
    oversold += Number(availableOf(level) < 0);
  }
  assertInvariant(on_hand === totals.on_hand, `on_hand total ${totals.on_hand} != sum over locations ${on_hand}`);
  assertInvariant(reserved === totals.reserved, `reserved total ${totals.reserved} != sum over locations ${reserved}`);
  assertInvariant(oversold === totals.oversold_locations, `oversold_locations ${totals.oversold_locations} != ${oversold}`);
}

/** Rows appended by one write continue the sequence with no gap. */
export function assertContiguous(previousVersion: number, rows: readonly Pick<Transaction, "seq">[]): void {
  rows.forEach((row, index) => {
    assertInvariant(row.seq === previousVersion + index + 1, `seq ${row.seq} breaks the sequence after ${previousVersion + index}`);
  });
}
