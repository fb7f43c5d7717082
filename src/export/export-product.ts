// Exports one product: pages of rows past its watermark go to D1, and only after D1 confirmed a
// page does the product object move its watermark. A crash anywhere leaves rows either not in
// D1 (copied next time) or in D1 past the watermark (skipped next time by ON CONFLICT).

import { EXPORT_PAGE_ROWS } from "../ledger/constants";
import type { Transaction } from "../ledger/types";
import { writeLedgerRows, type AuditDb } from "./d1-writer";

/** The product object's export methods, as the export uses them (tests may substitute). */
export interface ExportSource {
  exportPage(product_id: string, limit: number): Promise<{ rows: Transaction[]; watermark_seq: number }>;
  confirmExported(through_seq: number): Promise<number>;
}

export interface ProductExport {
  /** Rows this call moved the watermark past. */
  rows_exported: number;
  /** False when the row budget ran out first; a follow-up message continues. */
  finished: boolean;
}

/**
 * Copies pages while the message's row budget (shared by the products of one queue message)
 * lasts; what is left goes to a follow-up message.
 */
export async function exportProduct(db: AuditDb, source: ExportSource, product_id: string, budget: { rows_left: number }): Promise<ProductExport> {
  let rows_exported = 0;
  while (budget.rows_left > 0) {
    const limit = Math.min(EXPORT_PAGE_ROWS, budget.rows_left);
    const page = await source.exportPage(product_id, limit);
    if (page.rows.length === 0) return { rows_exported, finished: true };
    budget.rows_left -= page.rows.length;
    await writeLedgerRows(db, page.rows);
    rows_exported += await source.confirmExported(page.rows[page.rows.length - 1]!.seq);
    if (page.rows.length < limit) return { rows_exported, finished: true };
  }
  return { rows_exported, finished: false };
}
