// The export to D1, the audit API over it, and reconciliation: real cron handler, real queue,
// real D1 and real product objects. D1 is shared by the tests of this file, so each test looks
// only at its own products.
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import worker from "../../src/index";
import { d1Rows, exportToEnd, fillLedger, readExport, startExport, waitRegistered, waitRunFinished, watermarkOf } from "../helpers/export";
import { call, freshProductId, getStock, postTransaction } from "../helpers/http";
import { directCommand, ledgerStub, rawState } from "../helpers/ledger-object";
import { closeReservation, createReservation } from "../helpers/reservations";
import { waitFor } from "../helpers/wait";

async function productWithRows(count: number, prefix = "exp"): Promise<string> {
  const product = freshProductId(prefix);
  await fillLedger(product, count);
  await waitRegistered(product);
  return product;
}

describe("the product registry", () => {
  it("registers a product in D1 from its alarm after its first write", async () => {
    const product = freshProductId("reg");
    await postTransaction(product, { type: "ADD", quantity: 1 });
    await waitRegistered(product);
  });

  it("still registers a product created while D1 refuses the registry write, by retrying from its alarm", async () => {
    await env.AUDIT_DB.exec(
      "CREATE TRIGGER registry_down BEFORE INSERT ON products BEGIN SELECT RAISE(ABORT, 'registry unavailable'); END",
    );
    const product = freshProductId("reg-retry");
    try {
      await postTransaction(product, { type: "ADD", quantity: 1 });
      await waitFor(
        async () =>
          (await runInDurableObject<ProductLedger, number>(ledgerStub(product), (_i, state) =>
            Number(state.storage.sql.exec("SELECT registration_attempts AS n FROM export_state").one().n),
          )) >= 1,
      );
    } finally {
      await env.AUDIT_DB.exec("DROP TRIGGER registry_down");
    }
    await waitRegistered(product);
  });
});

describe("the export", () => {
  it("copies every row of every registered product to D1 when started by an admin, and reports the run", async () => {
    const a = await productWithRows(3);
    const b = await productWithRows(5);
    const run = await exportToEnd();
    expect(run.status).toBe("succeeded");
    expect(run.products_done).toBe(run.products_total);
    expect(run.rows_exported).toBeGreaterThanOrEqual(8);
    expect((await d1Rows(a)).map((row) => row.seq)).toEqual([1, 2, 3]);
    expect((await d1Rows(b)).map((row) => row.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await watermarkOf(b)).toBe(5);

    const listed = (await (await call("GET", "/v1/admin/exports")).json()) as { data: { run_id: string }[] };
    expect(listed.data[0]!.run_id).toBe(run.run_id);
  });

  it("runs from the nightly cron trigger through the queue", async () => {
    const product = await productWithRows(4, "cron");
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "0 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const listed = (await (await call("GET", "/v1/admin/exports")).json()) as { data: { run_id: string; trigger: string }[] };
    const cronRun = listed.data.find((run) => run.trigger === "cron");
    expect(cronRun).toBeDefined();
    const finished = await waitRunFinished(`/v1/admin/exports/${cronRun!.run_id}`);
    expect(finished.status).toBe("succeeded");
    expect(await d1Rows(product)).toHaveLength(4);
  });

  it("copies only new rows on a rerun, and leaves each row in D1 exactly once", async () => {
    const product = await productWithRows(6, "rerun");
    await exportToEnd();
    await fillLedger(product, 2);
    const second = await exportToEnd();
    expect(second.status).toBe("succeeded");
    // Counted exactly: only the two new rows moved a watermark (no product counted twice).
    expect(second.rows_exported).toBe(2);
    expect((await d1Rows(product)).map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const third = await exportToEnd();
    expect(third.errors).toEqual([]);
    expect(third.rows_exported).toBe(0);
    expect(await d1Rows(product)).toHaveLength(8);
  });

  it("copies every column of every row unchanged through the JSON array, whatever the text in it", async () => {
    const product = freshProductId("json");
    // Key order as posted (not sorted): the ledger stores the metadata's JSON text as it came.
    const metadata = {
      note: "café ☕ 東京 🙂",
      quote: 'say "hi"',
      path: "C:\\temp\\new",
      lines: "one\ntwo\r\n\tthree",
      control: "\u0001\u001f",
      nested: { z: [1, 2.5, -3, true, false, null, { deep: "ü", empty: [] }], a: {} },
      'key "with" quotes': "",
    };
    expect(
      (await postTransaction(product, { type: "ADD", quantity: 10, actor: "Zoë ☕", reason: 'po "7" \\ café\n東京', metadata })).status,
    ).toBe(201);
    expect((await postTransaction(product, { type: "REMOVE", quantity: 2 })).status).toBe(201);
    expect(
      (
        await postTransaction(product, {
          type: "ADJUST",
          on_hand: 5,
          location_id: "north",
          actor: "bob",
          metadata: { count: { by: "Zoë", bins: [[1, 2], [3]] } },
        })
      ).status,
    ).toBe(201);
    // Rows that carry a reservation_id, two in one command, straight through the object's RPC (the
    // reservation service is not what is under test here).
    const reservation_id = `res-${crypto.randomUUID()}`;
    const reservationRequest = { location_id: "default", reason: "hold", actor: null, metadata: null, reservation_id } as const;
    const command = directCommand(
      [
        { type: "RESERVE", quantity: 3, ...reservationRequest },
        { type: "RELEASE", quantity: 1, ...reservationRequest, metadata: { why: "line\n2 ✓" } },
      ],
      "json",
    );
    expect((await ledgerStub(product).write(command)).ok).toBe(true);
    await waitRegistered(product);
    const run = await exportToEnd();
    expect(run.errors.map((error) => error.product_id)).not.toContain(product);
    expect(await watermarkOf(product)).toBe(5);

    // Every column with its SQLite type, read the same way on both sides.
    const columns = [
      "seq",
      "id",
      "type",
      "quantity",
      "delta",
      "location_id",
      "reason",
      "created_by",
      "actor",
      "metadata",
      "reservation_id",
      "idempotency_key",
      "created_at",
      "prev_hash",
      "hash",
    ];
    const select = columns.flatMap((column) => [column, `typeof(${column}) AS ${column}_type`]).join(", ");
    const ledger = await runInDurableObject<ProductLedger, Record<string, unknown>[]>(ledgerStub(product), (_i, state) =>
      state.storage.sql.exec(`SELECT ${select} FROM ledger_rows ORDER BY seq`).toArray(),
    );
    const d1 = (
      await env.AUDIT_DB.prepare(`SELECT product_id, ${select} FROM ledger_transactions WHERE product_id = ? ORDER BY seq`)
        .bind(product)
        .all()
    ).results;
    expect(d1.map((row) => row.product_id)).toEqual([product, product, product, product, product]);
    expect(d1.map(({ product_id: _, ...row }) => row)).toEqual(ledger);

    // And the values are the ones written, not merely equal on both sides.
    expect(d1.map((row) => [row.seq, row.type, row.quantity, row.delta, row.location_id, row.actor, row.reservation_id])).toEqual([
      [1, "ADD", 10, 10, "default", "Zoë ☕", null],
      [2, "REMOVE", 2, -2, "default", null, null],
      [3, "ADJUST", 5, 5, "north", "bob", null],
      [4, "RESERVE", 3, -3, "default", null, reservation_id],
      [5, "RELEASE", 1, 1, "default", null, reservation_id],
    ]);
    for (const row of d1) {
      expect([row.seq_type, row.quantity_type, row.delta_type]).toEqual(["integer", "integer", "integer"]);
    }
    expect(d1.map((row) => [row.actor_type, row.metadata_type, row.reservation_id_type])).toEqual([
      ["text", "text", "null"],
      ["null", "null", "null"],
      ["text", "text", "null"],
      ["null", "null", "text"],
      ["null", "text", "text"],
    ]);
    expect(d1[0]!.reason).toBe('po "7" \\ café\n東京');
    expect(d1[0]!.metadata).toBe(JSON.stringify(metadata));
    expect(JSON.parse(d1[0]!.metadata as string)).toEqual(metadata);
    expect(d1[2]!.metadata).toBe('{"count":{"by":"Zoë","bins":[[1,2],[3]]}}');
    expect(d1[4]!.metadata).toBe('{"why":"line\\n2 ✓"}');
    expect(d1[0]!.prev_hash).toBe("0".repeat(64));
  });

  it("writes nothing twice when rows reach D1 but the watermark did not move (a crash between the two), or a message is redelivered", async () => {
    const product = await productWithRows(7, "crash");
    await exportToEnd();
    // The crash: D1 holds the rows, the object forgot that it confirmed them.
    await runInDurableObject<ProductLedger, void>(ledgerStub(product), (_i, state) => {
      state.storage.sql.exec("UPDATE export_state SET watermark_seq = 2");
    });
    // The same product message twice, as a redelivering queue would do.
    await env.EXPORT_QUEUE.send({
      kind: "products",
      run_kind: "export",
      run_id: "exp-00000000-0000-0000-0000-000000000000",
      product_ids: [product],
      attempt: 0,
    });
    await env.EXPORT_QUEUE.send({
      kind: "products",
      run_kind: "export",
      run_id: "exp-00000000-0000-0000-0000-000000000000",
      product_ids: [product],
      attempt: 0,
    });
    await waitFor(async () => (await watermarkOf(product)) === 7);
    const run = await exportToEnd();
    expect(run.status).toBe("succeeded");
    expect((await d1Rows(product)).map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("never moves the watermark past what D1 holds when D1 fails halfway, and completes on the retry", async () => {
    const product = await productWithRows(700, "d1-fail");
    // D1 refuses rows past seq 600 of this product: the first page (1-500) lands, the second fails.
    await env.AUDIT_DB.exec(
      `CREATE TRIGGER d1_down BEFORE INSERT ON ledger_transactions WHEN NEW.product_id = '${product}' AND NEW.seq > 600 BEGIN SELECT RAISE(ABORT, 'd1 unavailable'); END`,
    );
    let run_id: string;
    try {
      run_id = await startExport();
      await waitFor(async () => (await readExport(run_id)).errors.length > 0 || (await watermarkOf(product)) === 500, 15_000);
      await waitFor(async () => {
        const run = await readExport(run_id);
        return run.status === "running" && (await watermarkOf(product)) === 500;
      }, 15_000);
      expect((await d1Rows(product)).map((row) => row.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
      expect(await watermarkOf(product)).toBeLessThanOrEqual((await d1Rows(product)).length);
    } finally {
      await env.AUDIT_DB.exec("DROP TRIGGER d1_down");
    }
    const finished = await waitRunFinished(`/v1/admin/exports/${run_id}`, 30_000);
    expect(finished.status).toBe("succeeded");
    expect((await d1Rows(product)).map((row) => row.seq)).toEqual(Array.from({ length: 700 }, (_, i) => i + 1));
    expect(await watermarkOf(product)).toBe(700);
  });

  it("retries a product that keeps failing a bounded number of times, reports it, and still exports the others", async () => {
    const broken = await productWithRows(2, "broken");
    const healthy = await productWithRows(2, "healthy");
    await env.AUDIT_DB.exec(
      `CREATE TRIGGER always_down BEFORE INSERT ON ledger_transactions WHEN NEW.product_id = '${broken}' BEGIN SELECT RAISE(ABORT, 'd1 unavailable'); END`,
    );
    try {
      const run = await exportToEnd();
      expect(run.status).toBe("failed");
      expect(run.errors).toEqual([expect.objectContaining({ product_id: broken, attempts: 3 })]);
      expect(await d1Rows(healthy)).toHaveLength(2);
      expect(await d1Rows(broken)).toHaveLength(0);
      expect(await watermarkOf(broken)).toBe(0);
    } finally {
      await env.AUDIT_DB.exec("DROP TRIGGER always_down");
    }
  }, 60_000);
});

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
