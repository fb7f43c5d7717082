// How each webhook event becomes facts for the ledger (src/webhooks/events.ts): the business key
// of every fact, the row it asks for, and the data each event type accepts. Pure.
import { describe, expect, it } from "vitest";
import { EVENT_SCHEMAS, isKnownEventType, operationsFor } from "../../src/webhooks/events";

const fact = { actor: null, metadata: null, reservation_id: null };

describe("operationsFor", () => {
  it("stock.received: one ADD keyed by reference, product and location (default when omitted)", () => {
    expect(operationsFor("stock.received", { product_id: "sku-1", quantity: 5, reference: "po-7" })).toEqual([
      {
        kind: "record",
        product_id: "sku-1",
        key: "received:po-7:sku-1:default",
        request: { type: "ADD", quantity: 5, location_id: "default", reason: "received:po-7", ...fact },
      },
    ]);
    expect(operationsFor("stock.received", { product_id: "sku-1", quantity: 5, reference: "po-7", location_id: "wh-2" })[0]!.key).toBe(
      "received:po-7:sku-1:wh-2",
    );
  });

  it("stock.counted: one ADJUST to the counted on_hand, keyed by reference, product and location", () => {
    expect(operationsFor("stock.counted", { product_id: "sku-1", on_hand: 0, reference: "cc-1", location_id: "wh-2" })).toEqual([
      {
        kind: "record",
        product_id: "sku-1",
        key: "counted:cc-1:sku-1:wh-2",
        request: { type: "ADJUST", quantity: 0, location_id: "wh-2", reason: "counted:cc-1", ...fact },
      },
    ]);
  });

  it("order.placed: a REMOVE per line keyed by order and line, each knowing its cancellation's key", () => {
    const ops = operationsFor("order.placed", {
      order_id: "1001",
      lines: [
        { line_id: "1", product_id: "sku-1", quantity: 2 },
        { line_id: "2", product_id: "sku-2", quantity: 1, location_id: "wh-2" },
      ],
    });
    expect(ops).toEqual([
      {
        kind: "place",
        product_id: "sku-1",
        key: "order:1001:1:placed",
        cancel_key: "order:1001:1:cancelled",
        request: { type: "REMOVE", quantity: 2, location_id: "default", reason: "order:1001", ...fact },
      },
      {
        kind: "place",
        product_id: "sku-2",
        key: "order:1001:2:placed",
        cancel_key: "order:1001:2:cancelled",
        request: { type: "REMOVE", quantity: 1, location_id: "wh-2", reason: "order:1001", ...fact },
      },
    ]);
  });

  it("order.cancelled: a cancel per line that names its placement's key (the quantity comes from the placement)", () => {
    expect(operationsFor("order.cancelled", { order_id: "1001", lines: [{ line_id: "1", product_id: "sku-1", quantity: 99 }] })).toEqual([
      {
        kind: "cancel",
        product_id: "sku-1",
        key: "order:1001:1:cancelled",
        place_key: "order:1001:1:placed",
        reason: "order:1001:cancelled",
      },
    ]);
  });

  it("return.received: a RETURN per line keyed by return and line", () => {
    expect(operationsFor("return.received", { return_id: "r-77", lines: [{ line_id: "1", product_id: "sku-1", quantity: 1 }] })).toEqual([
      {
        kind: "record",
        product_id: "sku-1",
        key: "return:r-77:1",
        request: { type: "RETURN", quantity: 1, location_id: "default", reason: "return:r-77", ...fact },
      },
    ]);
  });

  it("gives the same keys for the same event whatever the delivery, so a re-sent event writes nothing twice", () => {
    const data = { order_id: "1001", lines: [{ line_id: "1", product_id: "sku-1", quantity: 2 }] };
    expect(operationsFor("order.placed", structuredClone(data))).toEqual(operationsFor("order.placed", data));
  });
});

describe("event types and their data", () => {
  it("knows exactly the five documented types, and nothing inherited from Object", () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual([
      "order.cancelled",
      "order.placed",
      "return.received",
      "stock.counted",
      "stock.received",
    ]);
    for (const type of ["customer.created", "toString", "__proto__", "constructor", 7, null]) expect(isKnownEventType(type)).toBe(false);
  });

  it("refuses business ids with ':' (it separates key parts) while product ids may contain it", () => {
    expect(EVENT_SCHEMAS["stock.received"].safeParse({ product_id: "a:b", quantity: 1, reference: "po-1" }).success).toBe(true);
    expect(EVENT_SCHEMAS["stock.received"].safeParse({ product_id: "sku-1", quantity: 1, reference: "po:1" }).success).toBe(false);
    expect(
      EVENT_SCHEMAS["order.placed"].safeParse({ order_id: "1:2", lines: [{ line_id: "1", product_id: "sku-1", quantity: 1 }] }).success,
    ).toBe(false);
  });

  it("refuses repeated line ids, unknown fields, and quantities outside 1..1,000,000,000", () => {
    const line = { line_id: "1", product_id: "sku-1", quantity: 1 };
    expect(EVENT_SCHEMAS["order.placed"].safeParse({ order_id: "9", lines: [line, line] }).success).toBe(false);
    expect(EVENT_SCHEMAS["order.placed"].safeParse({ order_id: "9", lines: [{ ...line, price: 3 }] }).success).toBe(false);
    expect(EVENT_SCHEMAS["order.placed"].safeParse({ order_id: "9", lines: [{ ...line, quantity: 0 }] }).success).toBe(false);
    expect(EVENT_SCHEMAS["order.placed"].safeParse({ order_id: "9", lines: [{ ...line, quantity: 1_000_000_001 }] }).success).toBe(false);
    expect(EVENT_SCHEMAS["stock.counted"].safeParse({ product_id: "sku-1", on_hand: -1, reference: "c" }).success).toBe(false);
  });
});
