// Canonical JSON, and the fingerprint of a request that an Idempotency-Key is checked against.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, fingerprintOf } from "../../src/ledger/fingerprint";
import type { WriteCommand } from "../../src/ledger/types";

describe("canonicalJson", () => {
  it("is independent of key order, at every depth", () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: "s" } };
    const b = { a: { x: "s", y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"s","y":[1,{"p":2,"q":1}]},"b":1}');
  });

  it("keeps array order significant", () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it("skips keys whose value is undefined, like JSON.stringify", () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it("keeps keys whose value is null, so null differs from absent", () => {
    expect(canonicalJson({ a: 1, b: null })).toBe('{"a":1,"b":null}');
    expect(canonicalJson({ a: 1, b: null })).not.toBe(canonicalJson({ a: 1 }));
  });

  it("encodes scalars and escapes strings as JSON does", () => {
    expect(canonicalJson(null)).toBe("null");
    expect(canonicalJson(true)).toBe("true");
    expect(canonicalJson(-1.5)).toBe("-1.5");
    expect(canonicalJson('a"b\\c\n')).toBe(JSON.stringify('a"b\\c\n'));
    expect(canonicalJson({ 'k"ey': 1 })).toBe('{"k\\"ey":1}');
  });

  it("parses back to a value deep-equal to the input, for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 200 },
    );
  });
});

describe("fingerprintOf", () => {
  const base: WriteCommand = {
    idempotency_key: "key-1",
    principal: "storefront",
    expected_version: 5,
    is_fact: false,
    requests: [
      {
        type: "REMOVE",
        quantity: 2,
        location_id: "default",
        reason: "order-1",
        actor: "u-1",
        metadata: { a: 1, b: 2 },
        reservation_id: null,
      },
    ],
  };

  it("is the same for the same request whatever the key order of the objects", () => {
    const reordered: WriteCommand = {
      requests: [
        {
          reservation_id: null,
          metadata: { b: 2, a: 1 },
          actor: "u-1",
          reason: "order-1",
          location_id: "default",
          quantity: 2,
          type: "REMOVE",
        },
      ],
      is_fact: false,
      expected_version: 5,
      principal: "storefront",
      idempotency_key: "key-1",
    };
    expect(fingerprintOf(reordered)).toBe(fingerprintOf(base));
  });

  it("differs when another principal sends the same body", () => {
    expect(fingerprintOf({ ...base, principal: "other" })).not.toBe(fingerprintOf(base));
  });

  it("differs when the expected version differs, including no check at all", () => {
    expect(fingerprintOf({ ...base, expected_version: 6 })).not.toBe(fingerprintOf(base));
    expect(fingerprintOf({ ...base, expected_version: null })).not.toBe(fingerprintOf(base));
  });

  it("differs when the body differs", () => {
    const request = base.requests[0]!;
    expect(fingerprintOf({ ...base, requests: [{ ...request, quantity: 3 }] })).not.toBe(fingerprintOf(base));
    expect(fingerprintOf({ ...base, requests: [{ ...request, metadata: { a: 1, b: 3 } }] })).not.toBe(fingerprintOf(base));
    expect(fingerprintOf({ ...base, requests: [{ ...request, actor: null }] })).not.toBe(fingerprintOf(base));
    expect(fingerprintOf({ ...base, is_fact: true })).not.toBe(fingerprintOf(base));
  });

  it("does not depend on the idempotency key it is stored under", () => {
    expect(fingerprintOf({ ...base, idempotency_key: "key-2" })).toBe(fingerprintOf(base));
  });
});
