// Standard Webhooks verification (https://www.standardwebhooks.com/): the signature is
// base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")), sent as one or more
// space-separated "v1,<base64>" entries. The raw bytes are verified before anything is parsed.

import { base64ToBytes } from "../lib/bytes";
import { WEBHOOK_ID_LENGTH_MAX, WEBHOOK_SIGNATURES_CHECKED_MAX, WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS } from "../limits";

export interface SignedHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * True only when the headers are well-formed, the timestamp is within the tolerance of now,
 * and some v1 signature matches some key. Every key and entry is checked, each by the
 * platform's HMAC verify, which compares in constant time.
 */
export async function verifySignature(
  keys: readonly Uint8Array[],
  headers: SignedHeaders,
  body: Uint8Array,
  now_seconds: number,
): Promise<boolean> {
  const { id, timestamp, signature } = headers;
  if (id === undefined || id.length === 0 || id.length > WEBHOOK_ID_LENGTH_MAX || timestamp === undefined || signature === undefined)
    return false;
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now_seconds - Number(timestamp)) > WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS) return false;

  const candidates = signature
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .slice(0, WEBHOOK_SIGNATURES_CHECKED_MAX)
    .flatMap((entry) => {
      try {
        return [base64ToBytes(entry.slice(3))];
      } catch {
        return [];
      }
    });
  if (candidates.length === 0) return false;

  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);

  let valid = false;
  for (const key of keys) {
    const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    for (const candidate of candidates) valid = (await crypto.subtle.verify("HMAC", hmacKey, candidate, content)) || valid;
  }
  return valid;
}
