// Helpers for POST /v1/transactions/batch: send a batch, read its per-item results.
import { expect } from "vitest";
import { call, freshKey } from "./http";
import type { TestRole } from "./tokens";
import type { Problem, Stock, Transaction } from "./wire";

export interface ItemResult {
  index: number;
  status: number;
  transaction?: Transaction;
  stock?: Stock;
  error?: Problem;
}

export interface BatchItem {
  product_id: string;
  type: string;
  quantity?: number;
  on_hand?: number;
  reason?: string;
  location_id?: string;
  actor?: string;
  metadata?: Record<string, unknown>;
  expected_version?: number;
  [field: string]: unknown;
}

/** `key: null` sends no Idempotency-Key; the role is writer unless told otherwise. */
export function postBatch(items: BatchItem[], options: { key?: string | null; role?: TestRole } = {}): Promise<Response> {
  const key = options.key === undefined ? freshKey() : options.key;
  return call("POST", "/v1/transactions/batch", {
    role: options.role ?? "writer",
    headers: key === null ? {} : { "idempotency-key": key },
    body: { transactions: items.map((item) => ({ reason: "batch-test", ...item })) },
  });
}

/** Posts a batch, expects 200 and one result per item with index = position; returns the results. */
export async function batch(items: BatchItem[], options: { key?: string; role?: TestRole } = {}): Promise<ItemResult[]> {
  const response = await postBatch(items, options);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json\b/);
  const { results } = JSON.parse(text) as { results: ItemResult[] };
  expect(results).toHaveLength(items.length);
  results.forEach((result, position) => {
    expect(result.index).toBe(position);
  });
  return results;
}

/** An item's error is a full problem object whose status is the item's status. */
export function expectItemProblem(result: ItemResult, status: number, code: string): Problem {
  expect(result.status, JSON.stringify(result)).toBe(status);
  expect(result.transaction).toBeUndefined();
  expect(result.error).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  return result.error!;
}
