// The change feed (API.md, "Change feed"): every ledger row is a stock.changed event with the
// stock right after it, the threshold crossings are events of their own, written in the same
// transaction as the rows, and GET /v1/products/{id}/events pages through them in order.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { positionBefore } from "../../src/durable/product-ledger/events-store";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import { waitRegistered, waitRunFinished } from "../helpers/export";
import { eventsPage, feedOf, feedTypes, putSettings } from "../helpers/feed";
import { call, freshProductId, postTransaction } from "../helpers/http";
import { injectFailureAfterLedgerInsert, ledgerStub, rawState } from "../helpers/ledger-object";
import { closeReservation, createReservation } from "../helpers/reservations";
import { expectProblem, RFC3339_MS } from "../helpers/wire";

async function write(product: string, type: string, quantity: number, extra: Record<string, unknown> = {}) {
  const response = await postTransaction(product, { type, ...(type === "ADJUST" ? { on_hand: quantity } : { quantity }), ...extra });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { transaction: { seq: number }; stock: { available: number } };
}

describe("stock.changed", () => {
  it("is written for every row, with its seq, the row, and the stock right after it", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 10);
    await write(product, "REMOVE", 3);
    const events = (await feedOf(product)).filter((event) => event.type === "stock.changed");
    expect(events.map((event) => [event.type, event.seq])).toEqual([
      ["stock.changed", 1],
      ["stock.changed", 2],
    ]);
    const [first, second] = events;
    expect(first!).toMatchObject({
      product_id: product,
      data: { stock: { on_hand: 10, available: 10, version: 1 }, transaction: { seq: 1, type: "ADD" } },
    });
    expect(second!.data.stock).toMatchObject({ on_hand: 7, available: 7, version: 2 });
    expect(first!.id).toMatch(/^evt_[0-9a-f]{16}_1$/);
    expect(second!.occurred_at).toMatch(RFC3339_MS);
    expect(second!.occurred_at).toBe((second!.data.transaction as unknown as { created_at: string }).created_at);
  });

  it("gives a commit's RELEASE and REMOVE one event each, and no crossing it did not make (available stays)", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 1);
    const reservation = `r-${crypto.randomUUID()}`;
    expect((await createReservation({ reservation_id: reservation, lines: [{ product_id: product, quantity: 1 }] })).status).toBe(201);
    expect((await closeReservation(reservation, "commit")).status).toBe(200);
    // ADD (back in), RESERVE (out), RELEASE + REMOVE: available 0 -> 1 -> 0 inside the commit, announced by neither.
    expect(await feedTypes(product)).toEqual([
      [1, "stock.changed"],
      [1, "stock.back_in"],
      [2, "stock.changed"],
      [2, "stock.out"],
      [3, "stock.changed"],
      [4, "stock.changed"],
    ]);
    const events = await feedOf(product);
    expect(events[4]!.data.stock).toMatchObject({ reserved: 0, available: 1, version: 3 });
    expect(events[5]!.data.stock).toMatchObject({ on_hand: 0, reserved: 0, available: 0, version: 4 });
  });

  it("comes from a reservation's expiry too, written by the system", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 5);
    const reservation = `r-${crypto.randomUUID()}`;
    expect(
      (await createReservation({ reservation_id: reservation, ttl_seconds: 1, lines: [{ product_id: product, quantity: 2 }] })).status,
    ).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await closeReservation(reservation, "release")).status).toBe(200);
    const last = (await feedOf(product)).at(-1)!;
    expect(last).toMatchObject({
      type: "stock.changed",
      seq: 3,
      data: { stock: { reserved: 0, available: 5 }, transaction: { type: "RELEASE" } },
    });
  });
});

describe("crossings", () => {
  it("stock.out and stock.back_in when available crosses zero, each once per crossing", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 2);
    await write(product, "REMOVE", 2);
    await write(product, "ADD", 1);
    await write(product, "ADD", 1);
    expect((await feedTypes(product)).filter(([, type]) => type !== "stock.changed")).toEqual([
      [1, "stock.back_in"],
      [2, "stock.out"],
      [3, "stock.back_in"],
    ]);
  });

  it("stock.low when available falls to the threshold or below, again only after it was above it", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 10);
    expect((await putSettings(product, { low_stock_threshold: 5 })).status).toBe(200);
    await write(product, "REMOVE", 4); // 6: above
    await write(product, "REMOVE", 1); // 5: low
    await write(product, "REMOVE", 1); // 4: still low, no event
    await write(product, "ADD", 3); // 7: above again (re-armed)
    await write(product, "REMOVE", 3); // 4: low
    expect((await feedTypes(product)).filter(([, type]) => type === "stock.low")).toEqual([
      [3, "stock.low"],
      [6, "stock.low"],
    ]);
  });

  it("stock.oversold when a fact takes available below zero, and not while it stays oversold", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 5);
    expect((await createReservation({ lines: [{ product_id: product, quantity: 3 }] })).status).toBe(201);
    await write(product, "ADJUST", 1); // on_hand 1, reserved 3: available -2
    await write(product, "ADJUST", 0);
    expect((await feedTypes(product)).filter(([, type]) => type !== "stock.changed")).toEqual([
      [1, "stock.back_in"],
      [3, "stock.out"],
      [3, "stock.oversold"],
    ]);
  });
});

describe("events in the same transaction as their rows", () => {
  it("leaves neither a row nor an event when the write throws after the ledger insert, and both when it does not", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 3);
    await injectFailureAfterLedgerInsert(product, true);
    expect((await postTransaction(product, { type: "REMOVE", quantity: 1 })).status).toBe(500);
    await injectFailureAfterLedgerInsert(product, false);
    expect((await rawState(product)).rows).toHaveLength(1);
    expect(await feedTypes(product)).toEqual([
      [1, "stock.changed"],
      [1, "stock.back_in"],
    ]);
    await write(product, "REMOVE", 1);
    expect((await feedTypes(product)).at(-1)).toEqual([2, "stock.changed"]);
  });
});

describe("GET /v1/products/{id}/events", () => {
  it("pages after an event id with limit, gives next_after until the last page, and filters by type", async () => {
    const product = freshProductId("feed");
    for (let n = 0; n < 5; n++) await write(product, "ADD", 1);
    const first = await eventsPage(product, "?limit=2");
    expect(first.data.map((event) => event.seq)).toEqual([1, 1]);
    expect(first.next_after).toBe(first.data[1]!.id);
    const rest = await eventsPage(product, `?after=${first.next_after}&limit=10`);
    expect(rest.data.map((event) => event.seq)).toEqual([2, 3, 4, 5]);
    expect(rest.next_after).toBeNull();
    const backIn = await eventsPage(product, "?type=stock.back_in,stock.out");
    expect(backIn.data.map((event) => [event.type, event.seq])).toEqual([["stock.back_in", 1]]);
  });

  it("answers an empty feed for a product with no rows, and 400 to a cursor of another product or a bad type", async () => {
    const product = freshProductId("feed");
    expect(await eventsPage(product)).toEqual({ data: [], next_after: null });
    const other = freshProductId("feed");
    await write(other, "ADD", 1);
    const foreign = (await feedOf(other))[0]!.id;
    const path = `/v1/products/${product}/events`;
    expect(
      (await expectProblem(await call("GET", `${path}?after=${foreign}`, { role: "reader" }), 400, "invalid_request")).errors?.[0]?.path,
    ).toBe("query.after");
    await expectProblem(await call("GET", `${path}?type=stock.gone`, { role: "reader" }), 400, "invalid_request");
    await expectProblem(await call("GET", `${path}?limit=501`, { role: "reader" }), 400, "invalid_request");
    await expectProblem(await call("GET", path, { role: null }), 401, "unauthorized");
  });
});

describe("events of a reconciliation repair and of a subscription's start", () => {
  it("gives a cache rebuilt from the ledger a stock.changed with the repaired stock and no transaction, and its crossing", async () => {
    const product = freshProductId("feed");
    await write(product, "ADD", 2);
    await waitRegistered(product);
    // Corrupt the cache: it claims nothing is available.
    await runInDurableObject<ProductLedger, void>(ledgerStub(product), (_instance, state) => {
      state.storage.sql.exec("UPDATE product_stock SET on_hand = 0");
      state.storage.sql.exec("UPDATE location_stock SET on_hand = 0");
    });
    const { id } = (await (await call("POST", "/v1/admin/reconciliations")).json()) as { id: string };
    await waitRunFinished(`/v1/admin/reconciliations/${id}`);
    const events = await feedOf(product);
    expect(events.slice(2).map((event) => [event.type, event.seq])).toEqual([
      ["stock.changed", 1],
      ["stock.back_in", 1],
    ]);
    expect(events[2]!.data.stock).toMatchObject({ on_hand: 2, available: 2 });
    expect(events[2]!.data.transaction).toBeUndefined();
  });

  it("finds the first event at or after an instant, the start of a subscription created then", async () => {
    const product = freshProductId("feed");
    for (let n = 0; n < 6; n++) {
      await write(product, "ADD", 1);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const events = await feedOf(product);
    const instants = [events[0]!.occurred_at, events[4]!.occurred_at, "9999-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z"];
    const positions = await runInDurableObject<ProductLedger, number[]>(ledgerStub(product), (_instance, state) =>
      instants.map((instant) => positionBefore(state.storage.sql, instant)),
    );
    // The last position written strictly before each instant (the feed's events are at positions 1, 2, 3…).
    expect(positions).toEqual(instants.map((instant) => events.filter((event) => event.occurred_at < instant).length));
    expect(positions[2]).toBe(events.length);
    expect(positions[3]).toBe(0);
  });
});
