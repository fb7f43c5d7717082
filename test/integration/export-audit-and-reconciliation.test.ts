// The audit API over the rows exported to D1, and reconciliation of each product's cache, and of D1, against the ledger.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import { exportToEnd, productWithRows, waitRegistered, waitRunFinished } from "../helpers/export";
import { call, freshProductId, getStock, postTransaction } from "../helpers/http";
import { ledgerStub, rawState } from "../helpers/ledger-object";
import { closeReservation, createReservation } from "../helpers/reservations";
import { waitFor } from "../helpers/wait";

describe("the audit API", () => {
  it("filters rows across products by product, reason, creator, type, reservation and time, and pages with a stable cursor", async () => {
    const a = freshProductId("audit-a");
    const b = freshProductId("audit-b");
    await postTransaction(a, { type: "ADD", quantity: 10, reason: "po-1" });
    await postTransaction(b, { type: "ADD", quantity: 10, reason: "po-1" }, { role: "admin" });
    await postTransaction(a, { type: "REMOVE", quantity: 2, reason: "order-1001" });
    await postTransaction(b, { type: "REMOVE", quantity: 3, reason: "order-1001" });
    const reservation = await createReservation({
      lines: [
        { product_id: a, quantity: 1 },
        { product_id: b, quantity: 1 },
      ],
    });
    const { id: reservation_id } = (await reservation.json()) as { id: string };
    await closeReservation(reservation_id, "commit");
    await waitRegistered(a, b);
    await exportToEnd();

    const list = async (query: string) =>
      (await (await call("GET", `/v1/audit/transactions?${query}`)).json()) as {
        data: { product_id: string; seq: number; reason: string; type: string; created_by: string }[];
        next_after: string | null;
        exported_through: string | null;
      };

    const orders = await list(`reason=order-1001`);
    expect(orders.data.filter((row) => row.product_id === a || row.product_id === b).map((row) => [row.product_id, row.type])).toEqual([
      [a, "REMOVE"],
      [b, "REMOVE"],
    ]);
    expect(orders.exported_through).not.toBeNull();
    expect((await list(`product_id=${a}`)).data.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await list(`product_id=${b}&created_by=test-admin`)).data.map((row) => row.seq)).toEqual([1]);
    expect((await list(`product_id=${a}&type=RESERVE`)).data.map((row) => row.seq)).toEqual([3]);
    expect((await list(`reservation_id=${reservation_id}`)).data).toHaveLength(6);
    expect((await list(`product_id=${a}&from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z`)).data).toEqual([]);

    // Paging two at a time visits each row once, in order.
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await list(`product_id=${b}&limit=2${after ? `&after=${after}` : ""}`);
      seen.push(...page.data.map((row) => `${row.product_id}:${row.seq}`));
      after = page.next_after;
    } while (after !== null);
    expect(seen).toEqual([1, 2, 3, 4, 5].map((seq) => `${b}:${seq}`));

    const bad = await call("GET", "/v1/audit/transactions?after=not-a-cursor");
    expect(bad.status).toBe(400);
    expect((await call("GET", "/v1/audit/transactions", { role: "writer" })).status).toBe(403);
  });

  it("sums deltas per group exactly as the ledger does", async () => {
    const product = freshProductId("sum");
    await postTransaction(product, { type: "ADD", quantity: 9 });
    await postTransaction(product, { type: "REMOVE", quantity: 4 });
    // Refused (nothing at north yet): a refusal leaves no row for the summary to count.
    expect((await postTransaction(product, { type: "RESERVE", quantity: 2, location_id: "north" })).status).toBe(409);
    await postTransaction(product, { type: "ADD", quantity: 5, location_id: "north" });
    await postTransaction(product, { type: "RESERVE", quantity: 2, location_id: "north" });
    await waitRegistered(product);
    await exportToEnd();

    const summary = (await (await call("GET", "/v1/audit/summary?group_by=product_id")).json()) as {
      data: { key: string; transactions: number; delta_sum: number }[];
    };
    const mine = summary.data.find((row) => row.key === product)!;
    const { body } = await getStock(product);
    const raw = await rawState(product);
    expect(mine.transactions).toBe(raw.rows.length);
    expect(mine.delta_sum).toBe(body.available);

    const byType = (await (await call("GET", "/v1/audit/summary?group_by=type")).json()) as { data: { key: string }[] };
    expect(byType.data.map((row) => row.key)).toEqual(expect.arrayContaining(["ADD", "REMOVE", "RESERVE"]));
    expect((await call("GET", "/v1/audit/summary?group_by=color")).status).toBe(400);
  });
});

describe("reconciliation", () => {
  it("rebuilds a cache corrupted on purpose from the ledger, reports it, and never changes the ledger", async () => {
    const product = await productWithRows(5, "corrupt");
    const ledgerBefore = (await rawState(product)).rows;
    await runInDurableObject<ProductLedger, void>(ledgerStub(product), (_i, state) => {
      state.storage.sql.exec("UPDATE location_stock SET on_hand = 999");
      state.storage.sql.exec("UPDATE product_stock SET on_hand = 999");
    });
    const started = await call("POST", "/v1/admin/reconciliations");
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const report = (await waitRunFinished(`/v1/admin/reconciliations/${id}`)) as unknown as {
      status: string;
      products_checked: number;
      caches_repaired: { product_id: string; before: { on_hand: number }; after: { on_hand: number } }[];
    };
    expect(report.status).toBe("succeeded");
    const repaired = report.caches_repaired.find((entry) => entry.product_id === product);
    expect(repaired).toMatchObject({ before: { on_hand: 999 }, after: { on_hand: 5 } });
    expect((await getStock(product)).body).toMatchObject({ on_hand: 5, available: 5, version: 5 });
    expect((await rawState(product)).rows).toEqual(ledgerBefore);
  });

  it("recreates a product's cached totals that are missing altogether, from the ledger", async () => {
    const product = await productWithRows(3, "lost-cache");
    await runInDurableObject<ProductLedger, void>(ledgerStub(product), (_i, state) => {
      state.storage.sql.exec("DELETE FROM product_stock");
    });
    const { id } = (await (await call("POST", "/v1/admin/reconciliations")).json()) as { id: string };
    const report = (await waitRunFinished(`/v1/admin/reconciliations/${id}`)) as unknown as {
      caches_repaired: { product_id: string; after: { on_hand: number; version: number } }[];
    };
    expect(report.caches_repaired.find((entry) => entry.product_id === product)).toMatchObject({ after: { on_hand: 3, version: 3 } });
    expect((await getStock(product)).body).toMatchObject({ product_id: product, on_hand: 3, version: 3 });
  });

  it("reports a row missing or altered in D1 with its product and seq range", async () => {
    const product = await productWithRows(1_500, "diverge");
    await exportToEnd();
    await env.AUDIT_DB.prepare("DELETE FROM ledger_transactions WHERE product_id = ? AND seq = 1200").bind(product).run();
    const { id } = (await (await call("POST", "/v1/admin/reconciliations")).json()) as { id: string };
    const report = (await waitRunFinished(`/v1/admin/reconciliations/${id}`)) as unknown as {
      export_divergences: { product_id: string; from_seq: number; to_seq: number; detail: string }[];
    };
    expect(report.export_divergences.find((entry) => entry.product_id === product)).toMatchObject({ from_seq: 1200, to_seq: 1200 });
  });

  it("runs by itself after each export", async () => {
    await productWithRows(1, "after-export");
    const run = await exportToEnd();
    await waitFor(async () => {
      const rows = await env.AUDIT_DB.prepare(
        "SELECT status FROM runs WHERE kind = 'reconciliation' AND trigger = 'export' AND started_at >= (SELECT finished_at FROM runs WHERE run_id = ?)",
      )
        .bind(run.run_id)
        .all();
      return rows.results.some((row) => row.status === "succeeded");
    }, 20_000);
  });
});
