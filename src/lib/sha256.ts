// A synchronous SHA-256, from @noble/hashes (audited, constant-time). Synchronous because a row's
// hash is computed inside the same transactionSync as its insert, where crypto.subtle.digest
// (a promise) cannot run (docs/decisions/0003-synchronous-hash.md).

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

/** The 32-byte SHA-256 digest of `text` encoded as UTF-8. */
export function sha256(text: string): Uint8Array {
  return nobleSha256(utf8ToBytes(text));
}

/** The SHA-256 of `text` as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(text));
}
