// Small helpers for calling the worker over HTTP inside workerd, as a client would.
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { TEST_TOKENS, type TestRole } from "./tokens";
import type { StockWithLocations, Transaction, TransactionPage } from "./wire";

export const BASE = "http://ledger.test";

export interface CallOptions {
  role?: TestRole | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  const role = options.role === undefined ? "admin" : options.role;
  if (role !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${TEST_TOKENS[role].token}`);
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
}

let keyCounter = 0;
export function freshKey(): string {
  keyCounter += 1;
  return `key-${keyCounter}-${crypto.randomUUID()}`;
}

export function freshProductId(prefix = "sku"): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

export interface TransactionInput {
  type: string;
  quantity?: number;
  on_hand?: number;
  reason?: string;
  location_id?: string;
  actor?: string;
  metadata?: Record<string, unknown>;
  expected_version?: number;
}

export function postTransaction(
  product_id: string,
  input: TransactionInput,
  options: { key?: string; role?: TestRole; headers?: Record<string, string> } = {},
) {
  return call("POST", `/v1/products/${encodeURIComponent(product_id)}/transactions`, {
    role: options.role ?? "writer",
    headers: { "idempotency-key": options.key ?? freshKey(), ...options.headers },
    body: { reason: "test", ...input },
  });
}

export async function getStock(product_id: string, query = "") {
  const response = await call("GET", `/v1/products/${encodeURIComponent(product_id)}/stock${query}`, { role: "reader" });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & {
      on_hand: number;
      reserved: number;
      available: number;
      version: number;
      oversold: boolean;
      locations: { location_id: string; on_hand: number; reserved: number; available: number }[];
    },
    response,
  };
}

/** A product's stock, asserting the read answered 200. */
export async function stockOf(product_id: string, query = ""): Promise<StockWithLocations> {
  const { status, body } = await getStock(product_id, query);
  expect(status).toBe(200);
  return body as unknown as StockWithLocations;
}

/** One page of a product's history (`query` as the API takes it, e.g. "?type=ADD"), asserting 200. */
export async function historyOf(product_id: string, query = ""): Promise<TransactionPage> {
  const response = await call("GET", `/v1/products/${encodeURIComponent(product_id)}/transactions${query}`, { role: "reader" });
  expect(response.status).toBe(200);
  return (await response.json()) as TransactionPage;
}

/** A product's first 500 rows (the page maximum), oldest first: all of them in these tests. */
export async function historyRows(product_id: string): Promise<Transaction[]> {
  return (await historyOf(product_id, "?limit=500")).data;
}
