// The change feed and the product settings, as a client reads and changes them over HTTP.
import { expect } from "vitest";
import { call } from "./http";

export interface FeedEvent {
  id: string;
  type: string;
  product_id: string;
  seq: number;
  occurred_at: string;
  data: {
    stock: { available: number; on_hand: number; reserved: number; version: number; oversold: boolean };
    transaction?: { seq: number; type: string };
    settings?: Record<string, unknown>;
  };
}

/** One page of a product's events (`query` as the API takes it), asserting 200. */
export async function eventsPage(product_id: string, query = ""): Promise<{ data: FeedEvent[]; next_after: string | null }> {
  const response = await call("GET", `/v1/products/${encodeURIComponent(product_id)}/events${query}`, { role: "reader" });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as { data: FeedEvent[]; next_after: string | null };
}

/** Every event of a product (up to 500), oldest first. */
export async function feedOf(product_id: string): Promise<FeedEvent[]> {
  return (await eventsPage(product_id, "?limit=500")).data;
}

/** The (seq, type) of every event of a product, oldest first. */
export async function feedTypes(product_id: string): Promise<[number, string][]> {
  return (await feedOf(product_id)).map((event) => [event.seq, event.type]);
}

export function putSettings(product_id: string, body: unknown, role: "writer" | "reader" | "admin" = "writer") {
  return call("PUT", `/v1/products/${encodeURIComponent(product_id)}/settings`, { role, body });
}
