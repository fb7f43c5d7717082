// Tamper evidence: the hash chain in the object's SQLite and in D1, attacked row by row.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import { exportToEnd, fillLedger, waitRegistered, waitRunFinished } from "../helpers/export";
import { call, freshProductId, postTransaction } from "../helpers/http";
import { directCommand, ledgerStub } from "../helpers/ledger-object";

interface Verification {
  ok: boolean;
  rows_checked: number;
  head: { seq: number; hash: string };
  first_bad_seq: number | null;
}

async function verify(product: string): Promise<Verification> {
  const response = await call("GET", `/v1/products/${product}/verify`);
  expect(response.status).toBe(200);
  return (await response.json()) as Verification;
}

function tamper(product: string, ...statements: string[]): Promise<void> {
  return runInDurableObject<ProductLedger, void>(ledgerStub(product), (_i, state) => {
    for (const statement of statements) state.storage.sql.exec(statement);
  });
}

async function ledgerOf(count: number, prefix = "chain"): Promise<string> {
  const product = freshProductId(prefix);
  await fillLedger(product, count);
  return product;
}

const COLUMNS =
  "id, type, quantity, delta, location_id, reason, created_by, actor, metadata, reservation_id, idempotency_key, created_at, prev_hash, hash";

describe("the hash chain in the product object", () => {
  it("links every row to the one before, starting from 64 zeros, and an untouched ledger verifies", async () => {
    const product = await ledgerOf(6);
    const history = (await (await call("GET", `/v1/products/${product}/transactions`, { role: "reader" })).json()) as {
      data: { seq: number; prev_hash: string; hash: string }[];
    };
    expect(history.data[0]!.prev_hash).toBe("0".repeat(64));
    history.data.slice(1).forEach((row, index) => {
      expect(row.prev_hash).toBe(history.data[index]!.hash);
    });
    expect(await verify(product)).toEqual({
      ok: true,
      rows_checked: 6,
      head: { seq: 6, hash: history.data[5]!.hash },
      first_bad_seq: null,
    });
    expect((await call("GET", `/v1/products/${product}/verify`, { role: "writer" })).status).toBe(403);
  });

  it("detects a row altered in place at its seq", async () => {
    const product = await ledgerOf(6);
    await tamper(product, "UPDATE ledger_rows SET delta = 99, quantity = 99 WHERE seq = 3");
    expect(await verify(product)).toMatchObject({ ok: false, first_bad_seq: 3, rows_checked: 2 });
  });

  it("detects a row re-hashed by a forger at the next seq, whose link breaks", async () => {
    const product = await ledgerOf(6);
    await tamper(product, "UPDATE ledger_rows SET reason = 'forged', hash = 'f' || substr(hash, 2) WHERE seq = 3");
    expect(await verify(product)).toMatchObject({ ok: false, first_bad_seq: 3 });
  });

  it("detects a deleted row at the missing seq, and a deleted last row through the cached version", async () => {
    const product = await ledgerOf(6);
    await tamper(product, "DELETE FROM ledger_rows WHERE seq = 4");
    expect(await verify(product)).toMatchObject({ ok: false, first_bad_seq: 4 });
    const tail = await ledgerOf(6);
    await tamper(tail, "DELETE FROM ledger_rows WHERE seq = 6");
    expect(await verify(tail)).toMatchObject({ ok: false, first_bad_seq: 6, rows_checked: 5 });
  });

  it("detects a row inserted in the middle at its seq", async () => {
    const product = await ledgerOf(5);
    await tamper(
      product,
      "UPDATE ledger_rows SET seq = seq + 1000 WHERE seq >= 3",
      "UPDATE ledger_rows SET seq = seq - 999 WHERE seq >= 1003",
      `INSERT INTO ledger_rows (seq, ${COLUMNS}) SELECT 3, ${COLUMNS} FROM ledger_rows WHERE seq = 2`,
    );
    expect(await verify(product)).toMatchObject({ ok: false, first_bad_seq: 3 });
  });

  it("detects reordered rows at the first one out of place", async () => {
    const product = await ledgerOf(5);
    await tamper(
      product,
      "UPDATE ledger_rows SET seq = 100 WHERE seq = 2",
      "UPDATE ledger_rows SET seq = 2 WHERE seq = 3",
      "UPDATE ledger_rows SET seq = 3 WHERE seq = 100",
    );
    expect(await verify(product)).toMatchObject({ ok: false, first_bad_seq: 2 });
  });

  it("verifies a ledger longer than one page", async () => {
    const product = await ledgerOf(5_200, "long");
    const result = await verify(product);
    expect(result).toMatchObject({ ok: true, rows_checked: 5_200, first_bad_seq: null, head: { seq: 5_200 } });
  });
});

describe("the chain head kept in product_stock.head_hash", () => {
  interface Head {
    head_hash: string | null;
    /** The ledger's rows, last first: what the head must agree with. */
    last: { seq: number; prev_hash: string; hash: string }[];
  }

  /** Read with SQL inside the object, past every code path under test. */
  function headOf(product: string): Promise<Head> {
    return runInDurableObject<ProductLedger, Head>(ledgerStub(product), (_i, state) => {
      const sql = state.storage.sql;
      return {
        head_hash: (sql.exec("SELECT head_hash FROM product_stock").one().head_hash ?? null) as string | null,
        last: sql.exec("SELECT seq, prev_hash, hash FROM ledger_rows ORDER BY seq DESC LIMIT 2").toArray() as unknown as Head["last"],
      };
    });
  }

  /** One command of several rows (as a reservation commit is), straight through the object's RPC. */
  function writeRows(product: string, locations: string[]) {
    const requests = locations.map((location_id) => ({
      type: "ADD" as const,
      quantity: 2,
      location_id,
      reason: "multi",
      actor: null,
      metadata: null,
      reservation_id: null,
    }));
    return ledgerStub(product).write(directCommand(requests, "multi"));
  }

  it("equals the hash of the row with the highest seq after every write, also a write of several rows and a refused one", async () => {
    const product = await ledgerOf(3, "head");
    const first = await headOf(product);
    expect(first.last[0]!.seq).toBe(3);
    expect(first.head_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.head_hash).toBe(first.last[0]!.hash);

    // Two rows in one transaction: the head is the second row's hash, not the first's.
    expect((await writeRows(product, ["north", "south"])).ok).toBe(true);
    const multi = await headOf(product);
    expect(multi.last.map((row) => row.seq)).toEqual([5, 4]);
    expect(multi.head_hash).toBe(multi.last[0]!.hash);
    expect(multi.head_hash).not.toBe(multi.last[1]!.hash);
    expect(multi.last[1]!.prev_hash).toBe(first.head_hash);

    // A refusal writes no row, so the head stays where it was.
    expect((await postTransaction(product, { type: "REMOVE", quantity: 1_000 })).status).toBe(409);
    expect(await headOf(product)).toEqual(multi);

    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    const after = await headOf(product);
    expect(after.last[0]!.seq).toBe(6);
    expect(after.last[0]!.prev_hash).toBe(multi.head_hash);
    expect(after.head_hash).toBe(after.last[0]!.hash);
  });

  it("is read from the ledger's last row when null (a product last written before migration 0004), then set again", async () => {
    const product = await ledgerOf(4, "head-null");
    const before = await headOf(product);
    await tamper(product, "UPDATE product_stock SET head_hash = NULL");
    expect((await headOf(product)).head_hash).toBeNull();

    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    const after = await headOf(product);
    // Linked onto row 4, not onto the 64 zeros a missing head could be mistaken for.
    expect(after.last[0]!.seq).toBe(5);
    expect(after.last[0]!.prev_hash).toBe(before.last[0]!.hash);
    expect(after.head_hash).toBe(after.last[0]!.hash);
    expect(await verify(product)).toEqual({ ok: true, rows_checked: 5, head: { seq: 5, hash: after.last[0]!.hash }, first_bad_seq: null });
  });

  it("is trusted by the write path: a wrong head left in place links the next row onto it, and verify finds the break", async () => {
    // The control for the next test: it shows that repairing the head is what keeps the chain intact.
    const product = await ledgerOf(3, "head-wrong");
    const wrong = "ab".repeat(32);
    await tamper(product, `UPDATE product_stock SET head_hash = '${wrong}'`);
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    const after = await headOf(product);
    expect(after.last[0]!.prev_hash).toBe(wrong);
    expect(await verify(product)).toMatchObject({ ok: false, first_bad_seq: 4, rows_checked: 3 });
  });

  it("is repaired by reconciliation when it differs from the last row's hash, so the next write links onto the true last hash", async () => {
    const product = await ledgerOf(3, "head-repair");
    const before = await headOf(product);
    // An intact cache is left alone: the repair below is due to the head alone.
    expect((await ledgerStub(product).reconcile()).report.repaired).toBeNull();

    await tamper(product, `UPDATE product_stock SET head_hash = '${"ab".repeat(32)}'`);
    const { report } = await ledgerStub(product).reconcile();
    expect(report.version).toBe(3);
    expect(report.repaired).not.toBeNull();
    // Only the head was wrong: the stock the report shows is the same before and after.
    expect(report.repaired!.before).toMatchObject({ on_hand: 3, version: 3 });
    expect(report.repaired!.after).toMatchObject({ on_hand: 3, version: 3 });
    expect(await headOf(product)).toEqual(before);

    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    const after = await headOf(product);
    expect(after.last[0]!.prev_hash).toBe(before.last[0]!.hash);
    expect(after.head_hash).toBe(after.last[0]!.hash);
    expect(await verify(product)).toEqual({ ok: true, rows_checked: 4, head: { seq: 4, hash: after.last[0]!.hash }, first_bad_seq: null });
  });
});

describe("upgrading a ledger written before the hash chain", () => {
  it("hashes existing rows in seq order when the object starts, so they verify and new rows link on", async () => {
    const product = await ledgerOf(7, "upgrade");
    const before = (await (await call("GET", `/v1/products/${product}/transactions`, { role: "reader" })).json()) as {
      data: { hash: string }[];
    };
    // What an object had before migration 0003: rows with no hashes.
    await tamper(product, "UPDATE ledger_rows SET prev_hash = NULL, hash = NULL");
    try {
      await runInDurableObject<ProductLedger, void>(ledgerStub(product), (_i, state) => state.abort("restart to upgrade"));
    } catch {
      // abort() rejects the call that made it
    }
    const nulls = await runInDurableObject<ProductLedger, number>(ledgerStub(product), (_i, state) =>
      Number(state.storage.sql.exec("SELECT count(*) AS n FROM ledger_rows WHERE hash IS NULL").one().n),
    );
    expect(nulls).toBe(0);
    const after = (await (await call("GET", `/v1/products/${product}/transactions`, { role: "reader" })).json()) as {
      data: { hash: string }[];
    };
    // The same rows hash to the same chain: the backfill and the write path agree.
    expect(after.data.map((row) => row.hash)).toEqual(before.data.map((row) => row.hash));
    await postTransaction(product, { type: "ADD", quantity: 1 });
    expect(await verify(product)).toMatchObject({ ok: true, rows_checked: 8 });
  });

  it("finds rows waiting for the backfill through a partial index, not a scan of the ledger, every time an object starts", async () => {
    const product = await ledgerOf(3, "unhashed");
    const plan = await runInDurableObject<ProductLedger, string>(ledgerStub(product), (_i, state) =>
      state.storage.sql
        .exec("EXPLAIN QUERY PLAN SELECT min(seq) FROM ledger_rows WHERE hash IS NULL")
        .toArray()
        .map((row) => String(row.detail))
        .join("\n"),
    );
    expect(plan).toContain("ledger_rows_unhashed");
    expect(plan).not.toMatch(/SCAN ledger_rows(?! USING)/);
  });
});

describe("the hash chain in D1", () => {
  async function exported(count: number): Promise<string> {
    const product = await ledgerOf(count, "d1chain");
    await waitRegistered(product);
    const run = await exportToEnd();
    // Products tampered with by the tests above may fail their export (an invariant refuses a
    // ledger longer than its version); this product must not.
    expect(run.errors.map((error) => error.product_id)).not.toContain(product);
    return product;
  }

  async function divergenceOf(product: string) {
    const { id } = (await (await call("POST", "/v1/admin/reconciliations")).json()) as { id: string };
    const report = (await waitRunFinished(`/v1/admin/reconciliations/${id}`)) as unknown as {
      export_divergences: { product_id: string; from_seq: number; to_seq: number; detail: string }[];
    };
    return report.export_divergences.find((entry) => entry.product_id === product);
  }

  it("carries prev_hash and hash into D1, and an untouched copy reconciles", async () => {
    const product = await exported(5);
    const rows = await env.AUDIT_DB.prepare("SELECT seq, prev_hash, hash FROM ledger_transactions WHERE product_id = ? ORDER BY seq")
      .bind(product)
      .all();
    expect(rows.results).toHaveLength(5);
    expect(rows.results[0]).toMatchObject({ prev_hash: "0".repeat(64) });
    expect(await divergenceOf(product)).toBeUndefined();
  });

  it("finds a row altered only in D1 (a field the sums do not cover) at its seq", async () => {
    const product = await exported(5);
    await env.AUDIT_DB.prepare("UPDATE ledger_transactions SET reason = 'forged' WHERE product_id = ? AND seq = 4").bind(product).run();
    expect(await divergenceOf(product)).toMatchObject({ from_seq: 4, to_seq: 4 });
  });

  it("finds a row deleted from D1 at its seq", async () => {
    const product = await exported(5);
    await env.AUDIT_DB.prepare("DELETE FROM ledger_transactions WHERE product_id = ? AND seq = 2").bind(product).run();
    expect(await divergenceOf(product)).toMatchObject({ from_seq: 2, to_seq: 2 });
  });

  it("finds rows reordered in D1 at the first one out of place", async () => {
    const product = await exported(5);
    await env.AUDIT_DB.batch([
      env.AUDIT_DB.prepare("UPDATE ledger_transactions SET seq = 100 WHERE product_id = ? AND seq = 3").bind(product),
      env.AUDIT_DB.prepare("UPDATE ledger_transactions SET seq = 3 WHERE product_id = ? AND seq = 4").bind(product),
      env.AUDIT_DB.prepare("UPDATE ledger_transactions SET seq = 4 WHERE product_id = ? AND seq = 100").bind(product),
    ]);
    expect(await divergenceOf(product)).toMatchObject({ from_seq: 3, to_seq: 3 });
  });

  it("finds a row inserted into D1 where it was inserted", async () => {
    const product = await exported(4);
    await env.AUDIT_DB.batch([
      env.AUDIT_DB.prepare("UPDATE ledger_transactions SET seq = seq + 100 WHERE product_id = ? AND seq >= 2").bind(product),
      env.AUDIT_DB.prepare("UPDATE ledger_transactions SET seq = seq - 99 WHERE product_id = ? AND seq >= 102").bind(product),
      env.AUDIT_DB.prepare(
        "INSERT INTO ledger_transactions SELECT product_id, 2, id, type, quantity, delta, location_id, 'forged', created_by, actor, metadata, reservation_id, idempotency_key, created_at, prev_hash, hash FROM ledger_transactions WHERE product_id = ? AND seq = 1",
      ).bind(product),
    ]);
    expect(await divergenceOf(product)).toMatchObject({ from_seq: 2, to_seq: 2 });
  });
});
