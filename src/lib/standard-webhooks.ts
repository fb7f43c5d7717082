// Signing by Standard Webhooks (https://www.standardwebhooks.com/): each signature is
// base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")), and the header carries
// one "v1,<signature>" per key, space-separated, so a receiver accepts either during a rotation.

import { base64ToBytes } from "./bytes";

const encoder = new TextEncoder();
/** HMAC keys by secret, imported once: importing cost more than signing. Bounded, as secrets rotate. */
const keys = new Map<string, Promise<CryptoKey>>();
const KEYS_CACHED_MAX = 256;

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= KEYS_CACHED_MAX) keys.clear();
    key = crypto.subtle.importKey("raw", base64ToBytes(secret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/** The webhook-signature header for a message, one entry per `whsec_` secret. */
export async function signatureHeader(secrets: readonly string[], id: string, timestamp_seconds: number, body: string): Promise<string> {
  const content = encoder.encode(`${id}.${timestamp_seconds}.${body}`);
  const entries = await Promise.all(
    secrets.map(async (secret) => {
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await keyOf(secret), content));
      return `v1,${btoa(String.fromCharCode(...mac))}`;
    }),
  );
  return entries.join(" ");
}

/** A new `whsec_` secret: 32 random bytes, base64. */
export function newSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}
