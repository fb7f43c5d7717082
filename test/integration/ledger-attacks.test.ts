// Attacks on the write path: concurrency on one product, replays racing originals, a throw
// halfway through a write, and an object reset between requests.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import { call, freshKey, freshProductId, getStock, postTransaction } from "../helpers/http";
import { injectFailureAfterLedgerInsert, ledgerStub, rawState, sumsFromRows } from "../helpers/ledger-object";

describe("concurrent writes on one product", () => {
  it("lets exactly 15 of 40 concurrent REMOVEs of 1 succeed against stock 15, ending at 0", async () => {
    const product = freshProductId();
    expect((await postTransaction(product, { type: "ADD", quantity: 15 })).status).toBe(201);

    const responses = await Promise.all(Array.from({ length: 40 }, () => postTransaction(product, { type: "REMOVE", quantity: 1 })));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(15);
    expect(statuses.filter((status) => status === 409)).toHaveLength(25);
    for (const response of responses.filter((r) => r.status === 409)) {
      expect(((await response.json()) as { code: string }).code).toBe("insufficient_stock");
    }

    const { body } = await getStock(product);
    expect(body).toMatchObject({ on_hand: 0, reserved: 0, available: 0, version: 16, oversold: false });
    const raw = await rawState(product);
    expect(raw.rows.map((row) => row.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it("writes one row for 20 concurrent requests with one Idempotency-Key; the rest are replays of it", async () => {
    const product = freshProductId();
    await postTransaction(product, { type: "ADD", quantity: 100 });
    const key = freshKey();

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => postTransaction(product, { type: "REMOVE", quantity: 3 }, { key })),
    );
    const created = responses.filter((response) => response.status === 201);
    const replayed = responses.filter((response) => response.status === 200);
    expect(created).toHaveLength(1);
    expect(replayed).toHaveLength(19);
    const original = await created[0]!.text();
    for (const response of replayed) {
      expect(response.headers.get("idempotent-replayed")).toBe("true");
      expect(await response.text()).toBe(original);
    }

    const raw = await rawState(product);
    expect(raw.rows.filter((row) => row.idempotency_key === key)).toHaveLength(1);
    expect(raw.totals).toMatchObject({ on_hand: 97, version: 2 });
  });

  it("keeps concurrent writes to different locations of one product consistent with the ledger", async () => {
    const product = freshProductId();
    const locations = ["north", "south", "east"];
    await Promise.all(locations.map((location_id) => postTransaction(product, { type: "ADD", quantity: 10, location_id })));
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        postTransaction(product, { type: i % 2 === 0 ? "RESERVE" : "REMOVE", quantity: 1, location_id: locations[i % 3]! }),
      ),
    );
    const raw = await rawState(product);
    const sums = sumsFromRows(raw.rows);
    expect(raw.levels).toEqual(locations.sort().map((location_id) => ({ location_id, ...sums.get(location_id)! })));
    expect(raw.totals!.version).toBe(raw.rows.length);
  });
});

describe("a failure halfway through a write", () => {
  it("leaves neither the ledger row nor the cache update nor the key when it throws after the ledger insert", async () => {
    const product = freshProductId();
    await postTransaction(product, { type: "ADD", quantity: 10 });
    const before = await rawState(product);

    await injectFailureAfterLedgerInsert(product, true);
    const key = freshKey();
    const failed = await postTransaction(product, { type: "REMOVE", quantity: 4 }, { key });
    expect(failed.status).toBe(500);
    const problem = (await failed.json()) as { code: string; detail: string };
    expect(problem.code).toBe("internal_error");
    expect(problem.detail).not.toContain("injected");

    expect(await rawState(product)).toEqual(before);

    // The key was not remembered: once the fault is gone, a retry is applied exactly once.
    await injectFailureAfterLedgerInsert(product, false);
    const retried = await postTransaction(product, { type: "REMOVE", quantity: 4 }, { key });
    expect(retried.status).toBe(201);
    const after = await rawState(product);
    expect(after.rows).toHaveLength(2);
    expect(after.totals).toMatchObject({ on_hand: 6, version: 2 });
  });
});

describe("an object that is reset", () => {
  it("serves the same stock and history afterwards, because nothing lives only in memory", async () => {
    const product = freshProductId();
    await postTransaction(product, { type: "ADD", quantity: 12, location_id: "north" });
    await postTransaction(product, { type: "RESERVE", quantity: 5, location_id: "north" });
    const key = freshKey();
    const first = await postTransaction(product, { type: "REMOVE", quantity: 2, location_id: "north" }, { key });
    const firstBody = await first.text();
    const stockBefore = (await getStock(product)).body;
    const historyBefore = await (await call("GET", `/v1/products/${product}/transactions`, { role: "reader" })).json();

    // A mark on the live instance: if it is still there afterwards, the object was not reset.
    const marked = await runInDurableObject<ProductLedger, boolean>(ledgerStub(product), (instance) => {
      Object.assign(instance, { resetMark: true });
      return "resetMark" in instance;
    });
    expect(marked).toBe(true);
    try {
      await runInDurableObject<ProductLedger, void>(ledgerStub(product), (_instance, state) => {
        state.abort("reset by test");
      });
    } catch {
      // abort() rejects the call that made it; the object restarts on the next request.
    }

    expect((await getStock(product)).body).toEqual(stockBefore);
    expect(await runInDurableObject<ProductLedger, boolean>(ledgerStub(product), (instance) => "resetMark" in instance)).toBe(false);
    expect(await (await call("GET", `/v1/products/${product}/transactions`, { role: "reader" })).json()).toEqual(historyBefore);
    const replay = await postTransaction(product, { type: "REMOVE", quantity: 2, location_id: "north" }, { key });
    expect(replay.status).toBe(200);
    expect(await replay.text()).toBe(firstBody);
  });
});
