// Byte helpers the platform almost has: hex through @noble/hashes, base64 through atob, and the
// runtime's own constant-time comparison.

export { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

/** Decodes standard base64 (throws on anything else). */
export function base64ToBytes(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
}

/** Compares two byte strings in time that depends only on their length (crypto.subtle.timingSafeEqual). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}
