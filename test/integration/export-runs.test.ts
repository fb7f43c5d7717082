// The export to D1 (real cron, queue, D1 and objects): the product registry, every row copied exactly once, failures and retries.
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import worker from "../../src/index";
import {
  d1Rows,
  exportToEnd,
  fillLedger,
  productWithRows,
  readExport,
  startExport,
  waitRegistered,
  waitRunFinished,
  watermarkOf,
} from "../helpers/export";
import { call, freshProductId, postTransaction } from "../helpers/http";
import { directCommand, ledgerStub } from "../helpers/ledger-object";
import { waitFor } from "../helpers/wait";

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
