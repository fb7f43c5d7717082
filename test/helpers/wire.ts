// What the API sends, as the black-box tests read it, and the one check of a problem response.
import { expect } from "vitest";

export const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Transaction {
  id: string;
  product_id: string;
  seq: number;
  type: string;
  quantity: number;
  delta: number;
  location_id: string;
  reason: string;
  created_by: string;
  actor: string | null;
  metadata: Record<string, unknown> | null;
  reservation_id: string | null;
  idempotency_key: string;
  created_at: string;
  prev_hash: string;
  hash: string;
}

export interface Stock {
  product_id: string;
  on_hand: number;
  reserved: number;
  available: number;
  version: number;
  oversold: boolean;
  updated_at: string | null;
}

export interface LocationStock {
  location_id: string;
  on_hand: number;
  reserved: number;
  available: number;
}

export interface StockWithLocations extends Stock {
  locations: LocationStock[];
  derived?: true;
}

export interface ReservationLine {
  product_id: string;
  location_id: string;
  quantity: number;
}

export interface Reservation {
  id: string;
  status: "held" | "committed" | "released" | "expired";
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  lines: ReservationLine[];
}

/** A line of an insufficient_stock problem from POST /v1/reservations. */
export interface ShortLine {
  product_id: string;
  location_id: string;
  requested: number;
  available: number;
}

/** One page of GET /v1/products/{id}/transactions. */
export interface TransactionPage {
  data: Transaction[];
  next_after: number | null;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Asserts the status (showing the body when it differs); returns the parsed body. */
export async function expectStatus<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Asserts the status, the problem+json type, the RFC 9457 members and the code; returns the problem. */
export async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get("content-type") ?? "").toMatch(/^application\/problem\+json\b/);
  const problem = JSON.parse(text) as Problem;
  expect(problem).toMatchObject({ status, code });
  for (const member of ["type", "title", "detail"] as const) {
    expect(typeof problem[member]).toBe("string");
    expect(problem[member].length).toBeGreaterThan(0);
  }
  return problem;
}
