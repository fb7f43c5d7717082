// Exports one product: pages of rows past its watermark go to D1, and only after D1 confirmed a
// page does the product object move its watermark. A crash anywhere leaves rows either not in
// D1 (copied next time) or in D1 past the watermark (skipped next time by ON CONFLICT).

import type { AuditDb } from "../d1/db";
import type { ExportPageResult } from "../durable/product-ledger/rpc";
import { EXPORT_PAGE_ROWS } from "../limits";
import { writeLedgerRows } from "./d1-writer";

/** The product object's export methods, as the export uses them (tests may substitute). */
export interface ExportSource {
  exportPage(limit: number): Promise<ExportPageResult>;
  confirmExported(through_seq: number): Promise<{ rows_confirmed: number }>;
}

/**
 * Copies pages while the message's row budget (shared by the products of one queue message)
 * lasts; what is left goes to a follow-up message. `progress.rows_exported` grows page by page,
 * so a failure halfway still reports the rows whose watermark moved.
 */
export async function exportProduct(
  db: AuditDb,
  source: ExportSource,
  budget: { rows_left: number },
  progress: { rows_exported: number },
): Promise<{ finished: boolean }> {
  while (budget.rows_left > 0) {
    // Take the budget before the call: products of one message run in parallel.
    const limit = Math.min(EXPORT_PAGE_ROWS, budget.rows_left);
    budget.rows_left -= limit;
    const page = await source.exportPage(limit);
    budget.rows_left += limit - page.rows.length;
    if (page.rows.length === 0) return { finished: true };
    await writeLedgerRows(db, page.rows);
    progress.rows_exported += (await source.confirmExported(page.last_seq)).rows_confirmed;
    if (page.rows.length < limit) return { finished: true };
  }
  return { finished: false };
}
