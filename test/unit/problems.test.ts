// Every error a Durable Object answers with becomes one problem (src/http/problems.ts): its
// code and status as API.md lists them, and the extensions a client needs to act on it.
import { describe, expect, it } from "vitest";
import { problemOf, type ServiceError } from "../../src/http/problems";
import type { Stock } from "../../src/ledger/types";

const stock: Stock = {
  product_id: "sku-1",
  on_hand: 3,
  reserved: 1,
  available: 2,
  version: 7,
  oversold: false,
  updated_at: "2026-11-26T23:01:02.345Z",
};

/** One of every error code, with what its problem must say. */
const CASES: { error: ServiceError; status: number; code: string; extensions?: Record<string, unknown> }[] = [
  {
    error: { code: "insufficient_stock", location_id: "wh-1", requested: 5, available: 2, stock },
    status: 409,
    code: "insufficient_stock",
    extensions: { location_id: "wh-1", requested: 5, available: 2, stock },
  },
  {
    error: { code: "insufficient_reserved", location_id: "wh-1", requested: 5, reserved: 1, stock },
    status: 409,
    code: "insufficient_reserved",
    extensions: { location_id: "wh-1", requested: 5, reserved: 1, stock },
  },
  {
    error: { code: "version_conflict", expected_version: 3, current_version: 7 },
    status: 412,
    code: "version_conflict",
    extensions: { current_version: 7 },
  },
  { error: { code: "idempotency_key_reused" }, status: 422, code: "idempotency_key_reused" },
  { error: { code: "limit_exceeded", detail: "too many" }, status: 422, code: "limit_exceeded" },
  {
    error: { code: "version_not_reached", current_version: 7 },
    status: 400,
    code: "invalid_request",
    extensions: { errors: [{ path: "query.at_version", message: "the product is at version 7" }] },
  },
  { error: { code: "reservation_exists", reservation_id: "r-1" }, status: 409, code: "reservation_exists" },
  { error: { code: "reservation_key_reused" }, status: 422, code: "idempotency_key_reused" },
  {
    error: { code: "reservation_lines_short", lines: [{ product_id: "sku-1", location_id: "default", requested: 4, available: 2 }] },
    status: 409,
    code: "insufficient_stock",
    extensions: { lines: [{ product_id: "sku-1", location_id: "default", requested: 4, available: 2 }] },
  },
  { error: { code: "reservation_not_found", reservation_id: "r-1" }, status: 404, code: "not_found" },
  {
    error: { code: "reservation_not_active", reservation_id: "r-1", status: "expired" },
    status: 409,
    code: "reservation_not_active",
    extensions: { reservation_status: "expired" },
  },
  {
    error: { code: "event_cursor_unknown", after: "evt_x_1" },
    status: 400,
    code: "invalid_request",
    extensions: { errors: [{ path: "query.after", message: "not an event id of this product" }] },
  },
  { error: { code: "subscription_not_found", subscription_id: "sub_1" }, status: 404, code: "not_found" },
  { error: { code: "delivery_not_found", subscription_id: "sub_1", event_id: "evt_x_1" }, status: 404, code: "not_found" },
  { error: { code: "subscription_exists", subscription_id: "sub_1" }, status: 409, code: "conflict" },
];

describe("problemOf", () => {
  it.each(CASES)("maps $error.code to $status $code with its extensions", ({ error, status, code, extensions }) => {
    const { problem } = problemOf(error);
    expect(problem).toMatchObject({ status, code, type: `urn:inventory-ledger:problem:${code}`, ...extensions });
    expect(problem.detail.length).toBeGreaterThan(0);
  });

  it("names the limit's own words, and the reservation, in the detail", () => {
    expect(problemOf({ code: "limit_exceeded", detail: "No total may pass 9." }).problem.detail).toBe("No total may pass 9.");
    expect(problemOf({ code: "reservation_not_found", reservation_id: "checkout-7" }).problem.detail).toContain("checkout-7");
  });
});
