// The fast path's body check (src/http/write-fast-path.ts) may only accept what the zod schema
// accepts, with the same parsed value: otherwise a write would be stored that the documented
// API refuses. Random bodies near the edges of every rule; and typical bodies must be accepted,
// or the fast path would do nothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ACTOR_LENGTH_MAX, QUANTITY_MAX, REASON_LENGTH_MAX, TOTAL_MAX } from "../../src/ledger/constants";
import { certainTransactionBody } from "../../src/http/write-fast-path";
import { TransactionBody } from "../../src/http/schemas";

const text = (length_max: number) =>
  fc.oneof(
    fc.string({ minLength: 0, maxLength: length_max + 2 }),
    fc.string({ unit: "binary", minLength: 1, maxLength: 8 }),
    fc.constantFrom("", "a", "\ud800", "ok\udc00", "é", "x".repeat(length_max), "x".repeat(length_max + 1), "🙂".repeat(length_max / 2), "🙂".repeat(length_max / 2 + 1)),
  );
const integer = (min: number, max: number) =>
  fc.oneof(fc.integer({ min: min - 2, max: min + 2 }), fc.integer({ min: Math.max(min - 2, max - 2), max: Math.min(max + 2, Number.MAX_SAFE_INTEGER) }), fc.constantFrom(-0, 0.5, 1.5, 2 ** 53, -(2 ** 53), Number.NaN), fc.integer());
const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}), fc.string({ maxLength: 3 }), fc.double());

const fieldValue: Record<string, fc.Arbitrary<unknown>> = {
  type: fc.oneof(fc.constantFrom("ADD", "REMOVE", "RETURN", "RESERVE", "RELEASE", "ADJUST", "add", "DELETE", ""), junk),
  quantity: fc.oneof(integer(1, QUANTITY_MAX), junk),
  on_hand: fc.oneof(integer(0, TOTAL_MAX), junk),
  reason: fc.oneof(text(REASON_LENGTH_MAX), junk),
  actor: fc.oneof(text(ACTOR_LENGTH_MAX), junk),
  location_id: fc.oneof(fc.constantFrom("default", "eu-1", "a.b:c@d~e-f", "-x", "x/y", "", "x".repeat(128), "x".repeat(129), "é"), junk),
  expected_version: fc.oneof(integer(0, TOTAL_MAX), junk),
  metadata: fc.oneof(fc.constant({ channel: "web" }), junk),
  extra: junk,
};

/** A valid body with up to three fields set to values near their edges (or junk), and maybe one removed. */
const body = fc
  .tuple(
    fc.oneof(
      fc.record({ type: fc.constantFrom("ADD", "REMOVE", "RETURN", "RESERVE", "RELEASE"), quantity: fc.integer({ min: 1, max: QUANTITY_MAX }), reason: fc.constant("r") }),
      fc.record({ type: fc.constant("ADJUST"), on_hand: fc.integer({ min: 0, max: TOTAL_MAX }), reason: fc.constant("r") }),
    ),
    fc.subarray(Object.keys(fieldValue), { maxLength: 3 }),
    fc.subarray(["type", "quantity", "on_hand", "reason"], { maxLength: 1 }),
  )
  .chain(([base, changed, removed]) =>
    fc.record(Object.fromEntries(changed.map((field) => [field, fieldValue[field]!]))).map((changes) => {
      const value: Record<string, unknown> = { ...base, ...changes };
      for (const field of removed) delete value[field];
      return value;
    }),
  );

describe("certainTransactionBody", () => {
  it("accepts only bodies the zod schema accepts, and parses them to the same value", () => {
    let accepted = 0;
    const run = fc.check(
      fc.property(fc.oneof(body, junk), (value) => {
        // Through JSON and back, as the body arrives: -0 stays -0, NaN becomes null.
        const arrived: unknown = JSON.parse(JSON.stringify(value) ?? "null");
        const fast = certainTransactionBody(arrived);
        if (fast === undefined) return;
        accepted += 1;
        const schema = TransactionBody.safeParse(arrived);
        try {
          expect(schema.success).toBe(true);
          expect(fast).toStrictEqual(schema.data);
        } catch {
          throw new Error(`the fast path accepted ${JSON.stringify(arrived)}, which the schema ${schema.success ? "parses differently" : "refuses"}`);
        }
      }),
      { numRuns: 20_000 },
    );
    // Reported through JSON.stringify, which escapes unpaired surrogates: the test reporter
    // cannot carry them raw (fast-check's own report would).
    expect(run.failed ? `${String((run.errorInstance as Error | undefined)?.message)} (shrunk from ${JSON.stringify(run.counterexample)})` : "no counterexample").toBe("no counterexample");
    // Near-valid bodies are common in the generator; a check that accepts none tests nothing.
    expect(accepted).toBeGreaterThan(2_000);
  });

  it("accepts the bodies storefronts send", () => {
    const typical = [
      { type: "ADD", quantity: 5, reason: "po-1" },
      { type: "REMOVE", quantity: 1, reason: "order-1001:line-1", location_id: "eu-1", actor: "ana" },
      { type: "RESERVE", quantity: 2, reason: "cart-9", expected_version: 12 },
      { type: "ADJUST", on_hand: 0, reason: "count-2026-11" },
      { type: "RELEASE", quantity: QUANTITY_MAX, reason: "🙂".repeat(REASON_LENGTH_MAX / 2) },
    ];
    for (const value of typical) expect(certainTransactionBody(value), JSON.stringify(value)).toStrictEqual(TransactionBody.parse(value));
  });

  it("leaves to the schema what it must explain: metadata, unknown fields, bad values", () => {
    const left = [
      { type: "ADD", quantity: 1, reason: "r", metadata: { a: 1 } },
      { type: "ADD", quantity: 1, reason: "r", extra: true },
      { type: "ADD", quantity: 0, reason: "r" },
      { type: "ADD", on_hand: 1, reason: "r" },
      { type: "ADJUST", quantity: 1, reason: "r" },
      { type: "ADD", quantity: 1, reason: "\ud800" },
      { type: "ADD", quantity: 1 },
      { type: "ADD", quantity: 1, reason: "r", location_id: null },
      [{ type: "ADD", quantity: 1, reason: "r" }],
      null,
    ];
    // Compared as a boolean: the reporter cannot print an unpaired surrogate in a diff.
    for (const value of left) expect(certainTransactionBody(value) === undefined, JSON.stringify(value)).toBe(true);
  });
});
