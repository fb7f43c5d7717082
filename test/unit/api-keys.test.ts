// API keys: what each role may do, the configured secret parsed (failing closed), a token's key found in constant time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiKeysFrom, findApiKey, ROLES, type Role, roleAllows } from "../../src/http/api-keys";
import { constantTimeEqual } from "../../src/lib/bytes";

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
