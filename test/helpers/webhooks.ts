// A Standard Webhooks signer written from the spec (https://www.standardwebhooks.com/), not
// from the code under test: base64(HMAC-SHA256(base64decode(secret without "whsec_"),
// "<id>.<timestamp>.<body>")), sent as "v1,<signature>".
import { exports } from "cloudflare:workers";
import { BASE } from "./http";

export async function sign(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const keyBytes = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (ch) => ch.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)));
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

export interface SendOptions {
  source?: string;
  id?: string;
  timestamp?: number;
  secret: string;
  /** Replace the computed signature header entirely. */
  signature?: string;
  /** Change the body after signing (tampering). */
  tamper?: (body: string) => string;
}

export async function sendWebhook(event: unknown, options: SendOptions): Promise<Response> {
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const body = JSON.stringify(event);
  const signature = options.signature ?? (await sign(options.secret, id, timestamp, body));
  const sent = options.tamper ? options.tamper(body) : body;
  return exports.default.fetch(
    new Request(`${BASE}/v1/webhooks/${options.source ?? "test-oms"}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature,
      },
      body: sent,
    }),
  );
}
