// The first pages of a message's products go to D1 in one batch (src/export/export-first-pages.ts):
// against the real local D1, with product objects played by fakes that keep a watermark, so each
// failure can be placed exactly: a page that cannot be read, a batch D1 refuses, a confirmation
// that is lost.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AuditDb } from "../../src/d1/db";
import type { ExportPageResult } from "../../src/durable/product-ledger/rpc";
import { exportFirstPages } from "../../src/export/export-first-pages";
import type { ExportSource } from "../../src/export/export-product";
import { EXPORT_PAGE_ROWS } from "../../src/limits";

interface FakeProduct {
  rows: number;
  /** exportPage throws. */
  unreadable?: boolean;
  /** confirmExported throws (the rows reached D1; the watermark did not move). */
  unconfirmable?: boolean;
  /** Its rows break a NOT NULL column, so D1 refuses any batch holding them. */
  refusedByD1?: boolean;
}

/** A product object as the export sees it: rows 1..rows, a watermark moved only by confirmExported. */
class FakeLedger implements ExportSource {
  watermark = 0;
  readonly limits: number[] = [];
  constructor(
    private readonly product_id: string,
    private readonly spec: FakeProduct,
  ) {}

  async exportPage(limit: number): Promise<ExportPageResult> {
    this.limits.push(limit);
    if (this.spec.unreadable) throw new Error("object unreachable");
    const last = Math.min(this.spec.rows, this.watermark + limit);
    const rows: string[] = [];
    for (let seq = this.watermark + 1; seq <= last; seq++) rows.push(this.encoded(seq));
    return { ok: true, rows, last_seq: rows.length > 0 ? last : this.watermark, watermark_seq: this.watermark };
  }

  async confirmExported(through_seq: number): Promise<{ rows_confirmed: number }> {
    if (this.spec.unconfirmable) throw new Error("confirmation lost");
    const moved = Math.max(0, through_seq - this.watermark);
    this.watermark = Math.max(this.watermark, through_seq);
    return { rows_confirmed: moved };
  }

  /** One row as the product object encodes it: the JSON array of EXPORT_COLUMNS. */
  private encoded(seq: number): string {
    const type = this.spec.refusedByD1 ? null : "ADD";
    return JSON.stringify([
      this.product_id,
      seq,
      `id-${seq}`,
      type,
      1,
      1,
      "default",
      "r",
      "test",
      null,
      null,
      null,
      `k-${seq}`,
      "2026-11-27T00:00:00.000Z",
      "0".repeat(64),
      "f".repeat(64),
    ]);
  }
}

/** The real D1, counting the batches sent to it. */
function countingDb(): { db: AuditDb; batches: () => number } {
  let batches = 0;
  const client = {
    prepare: (query: string) => env.AUDIT_DB.prepare(query),
    batch: (statements: D1PreparedStatement[]) => {
      batches += 1;
      return env.AUDIT_DB.batch(statements);
    },
  };
  return { db: { $client: client } as unknown as AuditDb, batches: () => batches };
}

function fleet(specs: Record<string, FakeProduct>) {
  const prefix = crypto.randomUUID();
  const ledgers = new Map(Object.entries(specs).map(([name, spec]) => [`${prefix}-${name}`, new FakeLedger(`${prefix}-${name}`, spec)]));
  const id = (name: string) => `${prefix}-${name}`;
  return { ledgers, id, product_ids: [...ledgers.keys()], sourceOf: (product_id: string) => ledgers.get(product_id)! };
}

async function seqsInD1(product_id: string): Promise<number[]> {
  const result = await env.AUDIT_DB.prepare("SELECT seq FROM ledger_transactions WHERE product_id = ? ORDER BY seq")
    .bind(product_id)
    .all<{ seq: number }>();
  return result.results.map((row) => row.seq);
}

describe("exportFirstPages", () => {
  it("writes the first page of every product in one D1 batch, then moves each watermark", async () => {
    const { ledgers, id, product_ids, sourceOf } = fleet({
      a: { rows: 3 },
      b: { rows: 1 },
      empty: { rows: 0 },
      big: { rows: EXPORT_PAGE_ROWS + 20 },
    });
    const { db, batches } = countingDb();
    const budget = { rows_left: 5_000 };

    const outcomes = await exportFirstPages(db, sourceOf, product_ids, budget);

    expect(batches()).toBe(1);
    expect(outcomes.get(id("a"))).toEqual({ rows_exported: 3, finished: true });
    expect(outcomes.get(id("b"))).toEqual({ rows_exported: 1, finished: true });
    expect(outcomes.get(id("empty"))).toEqual({ rows_exported: 0, finished: true });
    // A full page: more may follow, for exportProduct.
    expect(outcomes.get(id("big"))).toEqual({ rows_exported: EXPORT_PAGE_ROWS, finished: false });
    expect(await seqsInD1(id("a"))).toEqual([1, 2, 3]);
    expect((await seqsInD1(id("big"))).length).toBe(EXPORT_PAGE_ROWS);
    expect(ledgers.get(id("big"))!.watermark).toBe(EXPORT_PAGE_ROWS);
    // The budget lost exactly the rows read.
    expect(budget.rows_left).toBe(5_000 - 3 - 1 - EXPORT_PAGE_ROWS);
  });

  it("leaves out a product whose page cannot be read, gives its budget back, and exports the others", async () => {
    const { ledgers, id, product_ids, sourceOf } = fleet({ down: { rows: 5, unreadable: true }, up: { rows: 2 } });
    const budget = { rows_left: 5_000 };
    const outcomes = await exportFirstPages(countingDb().db, sourceOf, product_ids, budget);

    expect(outcomes.has(id("down"))).toBe(false);
    expect(outcomes.get(id("up"))).toEqual({ rows_exported: 2, finished: true });
    expect(ledgers.get(id("down"))!.watermark).toBe(0);
    expect(budget.rows_left).toBe(5_000 - 2);
  });

  it("leaves every product with rows out when D1 refuses the batch: nothing of it is written and no watermark moves", async () => {
    const { ledgers, id, product_ids, sourceOf } = fleet({ bad: { rows: 2, refusedByD1: true }, good: { rows: 4 }, empty: { rows: 0 } });
    const budget = { rows_left: 5_000 };
    const outcomes = await exportFirstPages(countingDb().db, sourceOf, product_ids, budget);

    expect([...outcomes.keys()]).toEqual([id("empty")]);
    expect(await seqsInD1(id("good"))).toEqual([]);
    expect(ledgers.get(id("good"))!.watermark).toBe(0);
    expect(ledgers.get(id("bad"))!.watermark).toBe(0);
    // exportProduct takes these rows again, one product at a time.
    expect(budget.rows_left).toBe(5_000);
  });

  it("leaves out a product whose confirmation is lost: its rows stay in D1 past its watermark, to be skipped next time", async () => {
    const { ledgers, id, product_ids, sourceOf } = fleet({ lost: { rows: 3, unconfirmable: true }, fine: { rows: 1 } });
    const outcomes = await exportFirstPages(countingDb().db, sourceOf, product_ids, { rows_left: 5_000 });

    expect(outcomes.has(id("lost"))).toBe(false);
    expect(outcomes.get(id("fine"))).toEqual({ rows_exported: 1, finished: true });
    expect(await seqsInD1(id("lost"))).toEqual([1, 2, 3]);
    expect(ledgers.get(id("lost"))!.watermark).toBe(0);
  });

  it("asks for no more rows than the message's budget, and leaves the products it has no budget for", async () => {
    const { ledgers, product_ids, sourceOf } = fleet({ p1: { rows: 400 }, p2: { rows: 400 }, p3: { rows: 400 } });
    const budget = { rows_left: 700 };
    const outcomes = await exportFirstPages(countingDb().db, sourceOf, product_ids, budget);

    // Calls run in parallel, so each takes its limit before any page comes back.
    const limits = [...ledgers.values()].flatMap((ledger) => ledger.limits);
    expect(limits.reduce((sum, limit) => sum + limit, 0)).toBeLessThanOrEqual(700);
    const exported = [...outcomes.values()].reduce((sum, outcome) => sum + outcome.rows_exported, 0);
    expect(exported).toBeLessThanOrEqual(700);
    expect(budget.rows_left).toBe(700 - exported);
    // p1 asked for 500 and got its 400: done. p2 asked for the 200 left and got 200 of its 400:
    // a full page, so NOT done, though shorter than EXPORT_PAGE_ROWS. p3 got no budget.
    const [p1, p2, p3] = product_ids;
    expect(outcomes.get(p1!)).toEqual({ rows_exported: 400, finished: true });
    expect(outcomes.get(p2!)).toEqual({ rows_exported: 200, finished: false });
    expect(outcomes.has(p3!)).toBe(false);
  });
});
