import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiKeysFrom, findApiKey, ROLES, type Role, roleAllows } from "../../src/http/api-keys";
import { canonicalJson, fingerprintOf } from "../../src/ledger/fingerprint";
import { formatUuidV7 } from "../../src/ledger/ids";
import { emptyTotals, type ProductTotals, toStock, totalsFromLevels, withLocations } from "../../src/ledger/stock";
import type { LocationLevel, WriteCommand } from "../../src/ledger/types";
import { constantTimeEqual } from "../../src/lib/bytes";

function totals(overrides: Partial<ProductTotals> = {}): ProductTotals {
  return {
    product_id: "sku-1",
    on_hand: 10,
    reserved: 3,
    version: 7,
    oversold_locations: 0,
    updated_at: "2026-03-01T12:00:00.000Z",
    ...overrides,
  };
}

function level(location_id: string, on_hand: number, reserved = 0): LocationLevel {
  return { location_id, on_hand, reserved };
}

describe("toStock", () => {
  it("derives available as on_hand minus reserved and copies the other fields", () => {
    expect(toStock(totals())).toEqual({
      product_id: "sku-1",
      on_hand: 10,
      reserved: 3,
      available: 7,
      version: 7,
      oversold: false,
      updated_at: "2026-03-01T12:00:00.000Z",
    });
  });

  it("is oversold when any location is below zero even though the product totals are positive", () => {
    const stock = toStock(totals({ on_hand: 100, reserved: 0, oversold_locations: 1 }));
    expect(stock.available).toBe(100);
    expect(stock.oversold).toBe(true);
  });

  it("is not oversold when no location is below zero", () => {
    expect(toStock(totals({ on_hand: 0, reserved: 0, oversold_locations: 0 })).oversold).toBe(false);
  });

  it("reports negative available for a product whose totals are below zero", () => {
    const stock = toStock(totals({ on_hand: 2, reserved: 5, oversold_locations: 1 }));
    expect(stock.available).toBe(-3);
    expect(stock.oversold).toBe(true);
  });

  it("a product with no rows has version 0, zero stock, no update time and is not oversold", () => {
    expect(toStock(emptyTotals("sku-empty"))).toEqual({
      product_id: "sku-empty",
      on_hand: 0,
      reserved: 0,
      available: 0,
      version: 0,
      oversold: false,
      updated_at: null,
    });
  });
});

describe("withLocations", () => {
  it("lists locations sorted by id with available derived per location", () => {
    const levels = [level("wh-2", 5, 1), level("default", 3, 0), level("wh-10", 0, 0)];
    const stock = withLocations(totals({ on_hand: 8, reserved: 1 }), levels);
    expect(stock.locations).toEqual([
      { location_id: "default", on_hand: 3, reserved: 0, available: 3 },
      { location_id: "wh-10", on_hand: 0, reserved: 0, available: 0 },
      { location_id: "wh-2", on_hand: 5, reserved: 1, available: 4 },
    ]);
    expect(stock).toMatchObject({ on_hand: 8, reserved: 1, available: 7 });
  });

  it("sorts by code unit order, so upper case sorts before lower case", () => {
    const stock = withLocations(totals(), [level("b", 1), level("a", 1), level("B", 1), level("A", 1)]);
    expect(stock.locations.map((l) => l.location_id)).toEqual(["A", "B", "a", "b"]);
  });

  it("marks the product oversold when one location is below zero and another makes the total positive", () => {
    const levels = [level("a", -2), level("b", 10)];
    const stock = withLocations(totalsFromLevels("sku-1", levels, 4, null), levels);
    expect(stock).toMatchObject({ on_hand: 8, available: 8, oversold: true });
    expect(stock.locations.find((l) => l.location_id === "a")!.available).toBe(-2);
  });

  it("does not reorder the caller's array", () => {
    const levels = [level("z", 1), level("a", 1)];
    withLocations(totals(), levels);
    expect(levels.map((l) => l.location_id)).toEqual(["z", "a"]);
  });

  it("does not mark a live read as derived", () => {
    expect(withLocations(totals(), [level("a", 1)]).derived).toBeUndefined();
  });
});

describe("totalsFromLevels", () => {
  it("sums on_hand and reserved over locations and counts the locations below zero available", () => {
    const t = totalsFromLevels(
      "sku-1",
      [level("a", 5, 7), level("b", 3, 1), level("c", -1, 0), level("d", 0, 0)],
      12,
      "2026-01-01T00:00:00.000Z",
    );
    expect(t).toEqual({
      product_id: "sku-1",
      on_hand: 7,
      reserved: 8,
      version: 12,
      oversold_locations: 2,
      updated_at: "2026-01-01T00:00:00.000Z",
    });
  });
});

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

describe("formatUuidV7", () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it("is 36 characters with the version nibble 7 and the RFC 9562 variant bits", () => {
    for (const fill of [0x00, 0xff, 0x5a]) {
      const id = formatUuidV7(1_767_225_600_000, new Uint8Array(10).fill(fill));
      expect(id).toHaveLength(36);
      expect(id).toMatch(UUID);
    }
  });

  it("puts the Unix time in milliseconds in the first 48 bits, big-endian", () => {
    const ms = 0x0123_4567_89ab;
    const id = formatUuidV7(ms, new Uint8Array(10));
    expect(id.slice(0, 8) + id.slice(9, 13)).toBe("0123456789ab");
    expect(id).toBe("01234567-89ab-7000-8000-000000000000");
  });

  it("keeps the random bytes outside the version and variant bits", () => {
    const random = Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22]);
    expect(formatUuidV7(0, random)).toBe("00000000-0000-7234-9678-9abcdef01122");
  });

  it("sorts a later millisecond after an earlier one as plain strings, whatever the random bytes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 2 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        (earlier, gap, r1, r2) => {
          const later = Math.min(earlier + gap, 2 ** 48 - 1);
          const a = formatUuidV7(earlier, r1);
          const b = formatUuidV7(later, r2);
          expect(a).toMatch(UUID);
          expect(b).toMatch(UUID);
          expect(a < b).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses fewer than 10 random bytes", () => {
    expect(() => formatUuidV7(0, new Uint8Array(9))).toThrow();
  });
});

describe("roleAllows", () => {
  const matrix: [Role, Role, boolean][] = [
    ["read", "read", true],
    ["read", "write", false],
    ["read", "admin", false],
    ["write", "read", true],
    ["write", "write", true],
    ["write", "admin", false],
    ["admin", "read", true],
    ["admin", "write", true],
    ["admin", "admin", true],
  ];

  it("covers every pair of roles", () => {
    expect(matrix).toHaveLength(ROLES.length * ROLES.length);
  });

  for (const [granted, required, allowed] of matrix) {
    it(`a ${granted} key ${allowed ? "may" : "may not"} do what needs ${required}`, () => {
      expect(roleAllows(granted, required)).toBe(allowed);
    });
  }
});

describe("constantTimeEqual", () => {
  it("is true for equal byte strings, including empty ones", () => {
    expect(constantTimeEqual(Uint8Array.from([1, 2, 3]), Uint8Array.from([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it("is false when any single byte differs, first or last", () => {
    expect(constantTimeEqual(Uint8Array.from([1, 2, 3]), Uint8Array.from([0, 2, 3]))).toBe(false);
    expect(constantTimeEqual(Uint8Array.from([1, 2, 3]), Uint8Array.from([1, 2, 4]))).toBe(false);
  });

  it("is false when the lengths differ, even if one is a prefix of the other", () => {
    expect(constantTimeEqual(Uint8Array.from([1, 2]), Uint8Array.from([1, 2, 3]))).toBe(false);
    expect(constantTimeEqual(Uint8Array.from([1, 2, 3]), Uint8Array.from([1, 2]))).toBe(false);
  });

  it("agrees with byte-by-byte comparison for any inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        const same = a.length === b.length && a.every((byte, i) => byte === b[i]);
        expect(constantTimeEqual(a, b)).toBe(same);
        expect(constantTimeEqual(a, Uint8Array.from(a))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("apiKeysFrom", () => {
  const HASH = "a".repeat(64);

  it("parses a valid secret into keys with the hash as 32 bytes", () => {
    const keys = apiKeysFrom(JSON.stringify([{ principal: "storefront-eu", role: "write", token_sha256: `00ff${HASH.slice(4)}` }]));
    expect(keys).toHaveLength(1);
    expect(keys[0]!.principal).toBe("storefront-eu");
    expect(keys[0]!.role).toBe("write");
    expect(keys[0]!.token_sha256).toHaveLength(32);
    expect([...keys[0]!.token_sha256.slice(0, 3)]).toEqual([0x00, 0xff, 0xaa]);
  });

  it("parses several keys of every role", () => {
    const raw = JSON.stringify(ROLES.map((role, i) => ({ principal: `p-${i}`, role, token_sha256: String(i).repeat(64) })));
    expect(apiKeysFrom(raw).map((key) => [key.principal, key.role])).toEqual([
      ["p-0", "read"],
      ["p-1", "write"],
      ["p-2", "admin"],
    ]);
  });

  it("returns the same keys when called again with the same secret", () => {
    const raw = JSON.stringify([{ principal: "again", role: "read", token_sha256: "b".repeat(64) }]);
    expect(apiKeysFrom(raw)).toEqual(apiKeysFrom(raw));
    expect(apiKeysFrom(raw)[0]!.principal).toBe("again");
  });

  it("fails closed (no keys) when the secret is undefined, not a string, empty or blank", () => {
    expect(apiKeysFrom(undefined)).toEqual([]);
    expect(apiKeysFrom(null)).toEqual([]);
    expect(apiKeysFrom(42)).toEqual([]);
    expect(apiKeysFrom([{ principal: "p", role: "admin", token_sha256: HASH }])).toEqual([]);
    expect(apiKeysFrom("")).toEqual([]);
    expect(apiKeysFrom("   \n")).toEqual([]);
  });

  it("fails closed when the secret is not JSON", () => {
    expect(apiKeysFrom("not json")).toEqual([]);
    expect(apiKeysFrom(`[{"principal":"p","role":"admin","token_sha256":"${HASH}"}`)).toEqual([]);
  });

  it("fails closed when the secret has the wrong shape", () => {
    const valid = { principal: "p", role: "admin", token_sha256: HASH };
    const malformed: unknown[] = [
      valid, // an object, not an array
      [{ ...valid, role: "superuser" }],
      [{ ...valid, principal: "" }],
      [{ ...valid, principal: "x".repeat(129) }],
      [{ ...valid, token_sha256: "a".repeat(63) }],
      [{ ...valid, token_sha256: "g".repeat(64) }],
      [{ ...valid, token: "plaintext" }], // unknown keys are refused
      [{ principal: "p", role: "admin" }],
      ["just a string"],
      "a JSON string",
      null,
    ];
    for (const value of malformed) expect(apiKeysFrom(JSON.stringify(value))).toEqual([]);
  });

  it("fails closed for the whole secret when a single entry is malformed", () => {
    const raw = JSON.stringify([
      { principal: "good", role: "admin", token_sha256: HASH },
      { principal: "bad", role: "admin", token_sha256: "short" },
    ]);
    expect(apiKeysFrom(raw)).toEqual([]);
  });
});

describe("findApiKey", () => {
  it("finds the key whose hash matches the token and returns undefined for an unknown token", async () => {
    const raw = JSON.stringify([
      { principal: "reader", role: "read", token_sha256: await sha256Hex("token-read") },
      { principal: "writer", role: "write", token_sha256: await sha256Hex("token-write") },
      { principal: "admin", role: "admin", token_sha256: await sha256Hex("token-admin") },
    ]);
    const keys = apiKeysFrom(raw);
    expect(keys).toHaveLength(3);
    expect((await findApiKey(keys, "token-write"))?.principal).toBe("writer");
    expect((await findApiKey(keys, "token-read"))?.role).toBe("read");
    expect((await findApiKey(keys, "token-admin"))?.role).toBe("admin");
    expect(await findApiKey(keys, "token-unknown")).toBeUndefined();
    expect(await findApiKey(keys, "")).toBeUndefined();
    expect(await findApiKey(keys, "token-write ")).toBeUndefined();
  });

  it("matches a hash configured in upper-case hex", async () => {
    const keys = apiKeysFrom(
      JSON.stringify([{ principal: "upper", role: "read", token_sha256: (await sha256Hex("token-upper")).toUpperCase() }]),
    );
    expect((await findApiKey(keys, "token-upper"))?.principal).toBe("upper");
  });

  it("does not accept the hash itself as a token", async () => {
    const hash = await sha256Hex("token-secret");
    const keys = apiKeysFrom(JSON.stringify([{ principal: "p", role: "admin", token_sha256: hash }]));
    expect(await findApiKey(keys, hash)).toBeUndefined();
    expect((await findApiKey(keys, "token-secret"))?.principal).toBe("p");
  });

  it("returns the first configured key when two keys share a hash", async () => {
    const hash = await sha256Hex("shared-token");
    const keys = apiKeysFrom(
      JSON.stringify([
        { principal: "first", role: "read", token_sha256: hash },
        { principal: "second", role: "admin", token_sha256: hash },
      ]),
    );
    expect((await findApiKey(keys, "shared-token"))?.principal).toBe("first");
  });

  it("accepts no token at all when no keys are configured", async () => {
    expect(await findApiKey(apiKeysFrom(undefined), "anything")).toBeUndefined();
    expect(await findApiKey(apiKeysFrom("garbage"), "garbage")).toBeUndefined();
  });
});
