// Calling the worker over HTTP inside workerd, as a client would, and the product resource:
// its transactions, its stock and its history.
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { TEST_TOKENS, type TestRole } from "./tokens";
import type { Stock, StockWithLocations, Transaction, TransactionPage } from "./wire";

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

export function transactionsPath(product_id: string): string {
  return `/v1/products/${encodeURIComponent(product_id)}/transactions`;
}

export function postTransaction(
  product_id: string,
  input: TransactionInput,
  options: { key?: string; role?: TestRole; headers?: Record<string, string> } = {},
) {
  return call("POST", transactionsPath(product_id), {
    role: options.role ?? "writer",
    headers: { "idempotency-key": options.key ?? freshKey(), ...options.headers },
    body: { reason: "test", ...input },
  });
}

/** POST a raw body to a product's transactions with a writer token and a fresh key. */
export function postRaw(product_id: string, rawBody: string, contentType: string | null, headers: Record<string, string> = {}) {
  const all: Record<string, string> = { "idempotency-key": freshKey(), ...headers };
  if (contentType !== null) all["content-type"] = contentType;
  return call("POST", transactionsPath(product_id), { role: "writer", rawBody, headers: all });
}

export interface WriteBody {
  transaction: Transaction;
  stock: Stock;
}

/** Writes and expects 201; returns the parsed body. */
export async function write(product_id: string, input: TransactionInput, key = freshKey()): Promise<WriteBody> {
  const response = await postTransaction(product_id, input, { key });
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return JSON.parse(text) as WriteBody;
}

/** Puts stock on a product with an ADD and expects 201. */
export async function stock(product_id: string, quantity: number, location_id = "default"): Promise<void> {
  const response = await postTransaction(product_id, { type: "ADD", quantity, location_id });
  expect(response.status, await response.text()).toBe(201);
}

/** A fresh product with `quantity` units at the default location. */
export async function stocked(quantity: number, prefix = "sku"): Promise<string> {
  const product = freshProductId(prefix);
  await stock(product, quantity);
  return product;
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
  const response = await call("GET", `${transactionsPath(product_id)}${query}`, { role: "reader" });
  expect(response.status).toBe(200);
  return (await response.json()) as TransactionPage;
}

/** A product's first 500 rows (the page maximum), oldest first: all of them in these tests. */
export async function historyRows(product_id: string): Promise<Transaction[]> {
  return (await historyOf(product_id, "?limit=500")).data;
}
