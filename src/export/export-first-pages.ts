// The first page of every product of a queue message, written to D1 in ONE batch: one D1
// transaction for the message instead of one per product (most products fit in one page). Each
// product's watermark still moves only after D1 confirmed its rows, and only by its own object.
//
// A failure never costs more than the per-product path would: a product whose page could not be
// read or confirmed, or every product when the shared batch failed (one bad row fails the whole
// batch), is left out of the answer and exported alone by exportProduct, which isolates the
// failure. Rows already in D1 are skipped there by ON CONFLICT.

import type { AuditDb } from "../d1/db";
import type { ExportPageResult } from "../durable/product-ledger/rpc";
import { settleBounded } from "../lib/map-bounded";
import { EXPORT_PAGE_ROWS, PRODUCT_FANOUT_MAX } from "../limits";
import { writeLedgerRows } from "./d1-writer";
import type { ExportSource } from "./export-product";

export interface FirstPageOutcome {
  /** Rows that this page newly moved the watermark past. */
  rows_exported: number;
  /** The page was the product's last: nothing is left past the watermark. */
  finished: boolean;
}

interface ReadPage {
  product_id: string;
  page: ExportPageResult;
  limit: number;
}

/**
 * Exports the first page of each product and says, per product, how it went; the products
 * missing from the answer are for exportProduct. Takes rows from the message's `budget` as
 * exportProduct does, and gives back what a product left out did not export.
 */
export async function exportFirstPages(
  db: AuditDb,
  sourceOf: (product_id: string) => ExportSource,
  product_ids: readonly string[],
  budget: { rows_left: number },
): Promise<Map<string, FirstPageOutcome>> {
  const outcomes = new Map<string, FirstPageOutcome>();
  const read = await settleBounded(product_ids, PRODUCT_FANOUT_MAX, async (product_id): Promise<ReadPage | undefined> => {
    // Taken before the call, because the products' calls run in parallel; given back after.
    const limit = Math.min(EXPORT_PAGE_ROWS, budget.rows_left);
    if (limit <= 0) return undefined;
    budget.rows_left -= limit;
    let rows = 0;
    try {
      const page = await sourceOf(product_id).exportPage(limit);
      rows = page.rows.length;
      return { product_id, page, limit };
    } finally {
      budget.rows_left += limit - rows;
    }
  });
  read.forEach((result, index) => {
    if (result.status === "rejected") warn("could not read its first page", product_ids[index]!, result.reason);
  });
  const pages = read.flatMap((result) => (result.status === "fulfilled" && result.value !== undefined ? [result.value] : []));
  for (const { product_id, page } of pages) {
    if (page.rows.length === 0) outcomes.set(product_id, { rows_exported: 0, finished: true });
  }
  const withRows = pages.filter(({ page }) => page.rows.length > 0);
  if (withRows.length === 0) return outcomes;

  try {
    await writeLedgerRows(
      db,
      withRows.flatMap(({ page }) => page.rows),
    );
  } catch (error) {
    // One product's rows can fail the whole batch: each is retried alone, and its rows are
    // counted against the budget again there.
    console.error(
      JSON.stringify({
        level: "warn",
        message: "D1 refused the shared batch of first pages; exporting its products one by one",
        products: withRows.length,
        error: String(error),
      }),
    );
    for (const { page } of withRows) budget.rows_left += page.rows.length;
    return outcomes;
  }

  const confirmed = await settleBounded(withRows, PRODUCT_FANOUT_MAX, async ({ product_id, page }) =>
    sourceOf(product_id).confirmExported(page.last_seq),
  );
  confirmed.forEach((result, index) => {
    const { product_id, page, limit } = withRows[index]!;
    if (result.status === "fulfilled")
      outcomes.set(product_id, { rows_exported: result.value.rows_confirmed, finished: page.rows.length < limit });
    else warn("could not confirm its first page", product_id, result.reason);
  });
  return outcomes;
}

/** A product left to exportProduct, which retries it and counts its attempts if it fails again. */
function warn(what: string, product_id: string, error: unknown): void {
  console.error(
    JSON.stringify({ level: "warn", message: `export: a product ${what}; exporting it alone`, product_id, error: String(error) }),
  );
}
