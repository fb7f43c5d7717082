// Bytes as lowercase hex, from a table: faster than toString(16) per byte on the write path
// (row hashes, UUIDv7s, reservation ids).

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export function hex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += HEX[byte];
  return text;
}
