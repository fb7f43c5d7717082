// The plain-JavaScript SHA-256 (src/lib/sha256.ts) against the FIPS 180-4 examples and against
// the platform's crypto.subtle on random text, around every padding boundary.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256, sha256Hex } from "../../src/lib/sha256";

async function platformHex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("sha256", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    expect(sha256Hex("a".repeat(1_000_000))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("returns the same digest as bytes and as hex", () => {
    const bytes = sha256("inventory");
    expect(bytes).toHaveLength(32);
    expect([...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")).toBe(sha256Hex("inventory"));
  });

  it("agrees with crypto.subtle at every length from 0 to 300 bytes (each padding boundary)", async () => {
    for (let length = 0; length <= 300; length++) {
      const text = "x".repeat(length);
      expect(sha256Hex(text), `length ${length}`).toBe(await platformHex(text));
    }
  });

  it("agrees with crypto.subtle on random text, multi-byte UTF-8 included", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 400 }), async (text) => {
        expect(sha256Hex(text)).toBe(await platformHex(text));
      }),
      { numRuns: 500 },
    );
  });
});
