// The id rules of the ledger, and time-ordered row ids (UUIDv7, RFC 9562). Ordered ids keep
// SQLite's indexes appending at the end instead of splitting pages at random: measured 3-4x
// cheaper than random UUIDs here (docs/decisions/0008-uuidv7-row-ids.md).

import { bytesToHex } from "../lib/bytes";
import { BUSINESS_ID_LENGTH_MAX, ID_LENGTH_MAX, IDEMPOTENCY_KEY_LENGTH_MAX } from "../limits";

/** Product, location and reservation ids: A-Z a-z 0-9 . _ : @ ~ -, the first alphanumeric. */
export const ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:@~-]{0,${ID_LENGTH_MAX - 1}}$`);
export const ID_RULE = `1 to ${ID_LENGTH_MAX} characters of A-Z a-z 0-9 . _ : @ ~ -, the first alphanumeric`;

/** Order, line, return and reference ids in facts from other systems: like ids, without ':', which separates key parts. */
export const BUSINESS_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._@~-]{0,${BUSINESS_ID_LENGTH_MAX - 1}}$`);
export const BUSINESS_ID_RULE = `1 to ${BUSINESS_ID_LENGTH_MAX} characters of A-Z a-z 0-9 . _ @ ~ -, the first alphanumeric (no ':')`;

/** Idempotency keys: printable ASCII. */
export const IDEMPOTENCY_KEY_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${IDEMPOTENCY_KEY_LENGTH_MAX}}$`);
export const IDEMPOTENCY_KEY_RULE = `1 to ${IDEMPOTENCY_KEY_LENGTH_MAX} printable ASCII characters`;

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
  const hex = bytesToHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
