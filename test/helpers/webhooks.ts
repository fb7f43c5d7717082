// A Standard Webhooks signer written from the spec (https://www.standardwebhooks.com/), not
// from the code under test: base64(HMAC-SHA256(base64decode(secret without "whsec_"),
// "<id>.<timestamp>.<body>")), sent as "v1,<signature>". Then the events, their answers and
// the admin's delivery log, as the webhook tests send and read them.
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { BASE, call } from "./http";
import { TEST_WEBHOOK_SECRETS } from "./tokens";

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

export interface LineResult {
  product_id: string;
  key: string;
  status: "applied" | "duplicate" | "skipped_cancelled" | "cancel_remembered" | "refused";
  seq?: number;
  error?: string;
}

export interface Answer {
  status: "applied" | "duplicate" | "ignored";
  results: LineResult[];
}

export interface Delivery {
  seq: number;
  id: string;
  source_id: string;
  type: string;
  status: string;
  result: unknown;
  attempts: number;
  received_at: string;
  updated_at: string;
}

export interface DeliveryPage {
  data: Delivery[];
  next_after: number | null;
}

export const PRIMARY = TEST_WEBHOOK_SECRETS.primary;

/** A fresh business id (order, line, reference, webhook-id) under `prefix`. */
export function uid(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Sends a signed event to test-oms with the primary secret unless told otherwise. */
export function send(event: unknown, options: Partial<SendOptions> = {}): Promise<Response> {
  return sendWebhook(event, { secret: PRIMARY, ...options });
}

/** Sends raw bytes with exactly the webhook headers given (a header set to undefined is left out). */
export function sendRaw(source: string, body: string, headers: Record<string, string | undefined>): Promise<Response> {
  const sent = new Headers({ "content-type": "application/json" });
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) sent.set(name, value);
  return exports.default.fetch(new Request(`${BASE}/v1/webhooks/${source}`, { method: "POST", headers: sent, body }));
}

export async function answerOf(response: Response): Promise<Answer> {
  expect(response.status).toBe(200);
  return (await response.json()) as Answer;
}

export async function listDeliveries(query: string, role: "admin" | "writer" | "reader" | null = "admin"): Promise<Response> {
  return call("GET", `/v1/admin/webhooks${query}`, { role });
}

/** Every delivery of a source, newest first, walking the pages. */
export async function allDeliveries(source_id: string, limit = 200): Promise<Delivery[]> {
  const all: Delivery[] = [];
  let after: number | null = null;
  for (let page = 0; page < 1000; page++) {
    const response = await listDeliveries(`?source_id=${source_id}&limit=${limit}${after === null ? "" : `&after=${after}`}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as DeliveryPage;
    all.push(...body.data);
    if (body.next_after === null) return all;
    expect(body.next_after).toBe(body.data[body.data.length - 1]!.seq);
    after = body.next_after;
  }
  throw new Error("the delivery log never reached its last page");
}

export async function deliveryById(source_id: string, id: string): Promise<Delivery | undefined> {
  return (await allDeliveries(source_id)).find((delivery) => delivery.id === id);
}

export interface OrderLine {
  line_id: string;
  product_id: string;
  quantity: number;
  location_id?: string;
}

export function placed(order_id: string, lines: OrderLine[]) {
  return { type: "order.placed", data: { order_id, lines } };
}

export function cancelled(order_id: string, lines: OrderLine[]) {
  return { type: "order.cancelled", data: { order_id, lines } };
}

export function received(product_id: string, quantity: number, reference: string, location_id?: string) {
  return { type: "stock.received", data: { product_id, quantity, reference, ...(location_id === undefined ? {} : { location_id }) } };
}
