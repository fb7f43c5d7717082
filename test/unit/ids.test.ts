// Row ids: UUIDv7 as RFC 9562 lays it out, sorting by time as plain strings.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatUuidV7 } from "../../src/ledger/ids";

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
