// Products and their settings (API.md, "Products and their settings"): the list from D1's
// registry, paged and by prefix; settings with their defaults, a PUT that keeps what it leaves
// out, and a product.settings_changed event for every change.
import { describe, expect, it } from "vitest";
import { waitRegistered } from "../helpers/export";
import { feedTypes, putSettings } from "../helpers/feed";
import { call, freshProductId, postTransaction } from "../helpers/http";
import { expectProblem } from "../helpers/wire";

describe("GET /v1/products", () => {
  it("lists products that have a ledger, ascending, by prefix, paged with next_after", async () => {
    const prefix = `list-${crypto.randomUUID().slice(0, 8)}-`;
    const ids = ["c", "a", "b"].map((suffix) => `${prefix}${suffix}`);
    for (const id of ids) expect((await postTransaction(id, { type: "ADD", quantity: 1 })).status).toBe(201);
    await waitRegistered(...ids);
    const first = (await (await call("GET", `/v1/products?prefix=${prefix}&limit=2`, { role: "reader" })).json()) as {
      data: { product_id: string; created_at: string }[];
      next_after: string | null;
    };
    expect(first.data.map((row) => row.product_id)).toEqual([`${prefix}a`, `${prefix}b`]);
    expect(first.next_after).toBe(`${prefix}b`);
    const rest = (await (await call("GET", `/v1/products?prefix=${prefix}&after=${first.next_after}`, { role: "reader" })).json()) as {
      data: { product_id: string }[];
      next_after: string | null;
    };
    expect(rest).toMatchObject({ data: [{ product_id: `${prefix}c` }], next_after: null });
    // The prefix is case-sensitive, like product ids.
    const upper = (await (await call("GET", `/v1/products?prefix=${prefix.toUpperCase()}`, { role: "reader" })).json()) as {
      data: unknown[];
    };
    expect(upper.data).toEqual([]);
  });

  it("refuses a limit out of range and a bad cursor with 400", async () => {
    await expectProblem(await call("GET", "/v1/products?limit=0", { role: "reader" }), 400, "invalid_request");
    await expectProblem(await call("GET", "/v1/products?limit=1001", { role: "reader" }), 400, "invalid_request");
    await expectProblem(await call("GET", "/v1/products?after=%20bad", { role: "reader" }), 400, "invalid_request");
  });
});

describe("settings", () => {
  it("answers the defaults for a product never configured", async () => {
    const product = freshProductId("settings");
    const response = await call("GET", `/v1/products/${product}/settings`, { role: "reader" });
    expect(await response.json()).toEqual({
      product_id: product,
      low_stock_threshold: null,
      shards: 1,
      updated_by: null,
      updated_at: null,
    });
  });

  it("changes what the PUT names, keeps the rest, records who, and emits product.settings_changed at the version", async () => {
    const product = freshProductId("settings");
    expect((await postTransaction(product, { type: "ADD", quantity: 4 })).status).toBe(201);
    const put = await putSettings(product, { low_stock_threshold: 3 });
    const settings = (await put.json()) as Record<string, unknown>;
    expect(settings).toMatchObject({ product_id: product, low_stock_threshold: 3, shards: 1, updated_by: "test-writer" });
    expect((await putSettings(product, {})).status).toBe(200);
    expect(await (await call("GET", `/v1/products/${product}/settings`, { role: "reader" })).json()).toEqual(settings);
    expect((await feedTypes(product)).at(-1)).toEqual([1, "product.settings_changed"]);
    expect(await (await putSettings(product, { low_stock_threshold: null })).json()).toMatchObject({ low_stock_threshold: null });
  });

  it("emits no event for a PUT that changes nothing (a retried PUT says nothing twice)", async () => {
    const product = freshProductId("settings");
    await putSettings(product, { low_stock_threshold: 7 });
    await putSettings(product, { low_stock_threshold: 7, shards: 1 });
    expect((await feedTypes(product)).filter(([, type]) => type === "product.settings_changed")).toHaveLength(1);
  });

  it("refuses a bad threshold, unknown fields, shards other than 1 (sharding is not built yet), and a read token", async () => {
    const product = freshProductId("settings");
    for (const body of [
      { low_stock_threshold: -1 },
      { low_stock_threshold: 1.5 },
      { low_stock_threshold: 1_000_000_001 },
      { color: "red" },
      { shards: 0 },
      { shards: 17 },
    ]) {
      await expectProblem(await putSettings(product, body), 400, "invalid_request");
    }
    const sharded = await expectProblem(await putSettings(product, { shards: 8 }), 400, "invalid_request");
    expect(sharded.errors?.[0]?.path).toBe("body.shards");
    await expectProblem(await putSettings(product, { low_stock_threshold: 1 }, "reader"), 403, "forbidden");
    expect(await feedTypes(product)).toEqual([]);
  });
});
