// Reading a product's history over HTTP: every row in seq order, paging with after and limit, filters.
import { describe, expect, it } from "vitest";
import { call, freshProductId, historyOf, write } from "../helpers/http";
import { expectProblem, type Transaction } from "../helpers/wire";

describe("history", () => {
  it("lists every row in ascending seq with the fields the write answered", async () => {
    const product = freshProductId();
    const written: Transaction[] = [];
    written.push((await write(product, { type: "ADD", quantity: 10, reason: "po-1" })).transaction);
    written.push((await write(product, { type: "RESERVE", quantity: 2, reason: "cart-1" })).transaction);
    written.push((await write(product, { type: "ADJUST", on_hand: 7, reason: "count-1" })).transaction);
    const page = await historyOf(product);
    expect(page).toEqual({ data: written, next_after: null });
    expect(page.data.map((row) => row.seq)).toEqual([1, 2, 3]);
  });

  it("pages with after and limit, giving next_after until the last page, where it is null", async () => {
    const product = freshProductId();
    for (let i = 0; i < 5; i++) await write(product, { type: "ADD", quantity: i + 1 });
    const first = await historyOf(product, "?limit=2");
    expect(first.data.map((row) => row.seq)).toEqual([1, 2]);
    expect(first.next_after).toBe(2);
    const second = await historyOf(product, `?limit=2&after=${first.next_after}`);
    expect(second.data.map((row) => row.seq)).toEqual([3, 4]);
    expect(second.next_after).toBe(4);
    const third = await historyOf(product, `?limit=2&after=${second.next_after}`);
    expect(third.data.map((row) => row.seq)).toEqual([5]);
    expect(third.next_after).toBeNull();
    const exact = await historyOf(product, "?limit=2&after=3");
    expect(exact.data.map((row) => row.seq)).toEqual([4, 5]);
    expect(exact.next_after).toBeNull();
    const beyond = await historyOf(product, "?after=5");
    expect(beyond).toEqual({ data: [], next_after: null });
  });

  it("answers an empty page for a product with no rows", async () => {
    expect(await historyOf(freshProductId())).toEqual({ data: [], next_after: null });
  });

  it.each([["0"], ["501"], ["-1"], ["abc"], ["1.5"], [""], ["0x5"], ["1e1"], ["%2B3"]])("answers 400 to limit=%s", async (limit) => {
    const response = await call("GET", `/v1/products/${freshProductId()}/transactions?limit=${limit}`, { role: "reader" });
    await expectProblem(response, 400, "invalid_request");
  });

  it.each([[""], ["-1"], ["0x1"], ["1e0"], ["1.0"]])("answers 400 to after=%s", async (after) => {
    const response = await call("GET", `/v1/products/${freshProductId()}/transactions?after=${after}`, { role: "reader" });
    await expectProblem(response, 400, "invalid_request");
  });

  it("accepts limit=500", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    expect((await historyOf(product, "?limit=500")).data).toHaveLength(1);
  });

  it("filters by type, reason and location_id", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 10, reason: "po-1" });
    await write(product, { type: "ADD", quantity: 5, reason: "po-2", location_id: "wh-2" });
    await write(product, { type: "REMOVE", quantity: 1, reason: "order-1" });
    await write(product, { type: "REMOVE", quantity: 2, reason: "order-2", location_id: "wh-2" });
    await write(product, { type: "RETURN", quantity: 1, reason: "order-1" });

    expect((await historyOf(product, "?type=REMOVE")).data.map((row) => row.seq)).toEqual([3, 4]);
    expect((await historyOf(product, "?reason=order-1")).data.map((row) => row.seq)).toEqual([3, 5]);
    expect((await historyOf(product, "?location_id=wh-2")).data.map((row) => row.seq)).toEqual([2, 4]);
    expect((await historyOf(product, "?location_id=default")).data.map((row) => row.seq)).toEqual([1, 3, 5]);
    expect((await historyOf(product, "?type=REMOVE&location_id=wh-2")).data.map((row) => row.seq)).toEqual([4]);
    expect((await historyOf(product, "?type=ADJUST")).data).toEqual([]);
  });

  it("pages through a filtered history", async () => {
    const product = freshProductId();
    for (let i = 0; i < 3; i++) {
      await write(product, { type: "ADD", quantity: 1 });
      await write(product, { type: "REMOVE", quantity: 1 });
    }
    const first = await historyOf(product, "?type=REMOVE&limit=2");
    expect(first.data.map((row) => row.seq)).toEqual([2, 4]);
    expect(first.next_after).toBe(4);
    const second = await historyOf(product, `?type=REMOVE&limit=2&after=${first.next_after}`);
    expect(second.data.map((row) => row.seq)).toEqual([6]);
    expect(second.next_after).toBeNull();
  });

  it("answers 400 to an unknown type filter or a bad location_id filter", async () => {
    const product = freshProductId();
    await expectProblem(await call("GET", `/v1/products/${product}/transactions?type=STEAL`, { role: "reader" }), 400, "invalid_request");
    await expectProblem(
      await call("GET", `/v1/products/${product}/transactions?location_id=-x`, { role: "reader" }),
      400,
      "invalid_request",
    );
  });
});
