// Exports one product: pages of rows past its watermark go to D1, and only after D1 confirmed a
// page does the product object move its watermark. A crash anywhere leaves rows either not in
// D1 (copied next time) or in D1 past the watermark (skipped next time by ON CONFLICT).

import { EXPORT_PAGE_ROWS, EXPORT_ROWS_PER_MESSAGE_MAX } from "../ledger/constants";
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

export async function exportProduct(db: AuditDb, source: ExportSource, product_id: string): Promise<ProductExport> {
  let rows_exported = 0;
  let copied = 0;
  while (copied < EXPORT_ROWS_PER_MESSAGE_MAX) {
    const page = await source.exportPage(product_id, EXPORT_PAGE_ROWS);
    if (page.rows.length === 0) return { rows_exported, finished: true };
    await writeLedgerRows(db, page.rows);
    rows_exported += await source.confirmExported(page.rows[page.rows.length - 1]!.seq);
    copied += page.rows.length;
    if (page.rows.length < EXPORT_PAGE_ROWS) return { rows_exported, finished: true };
  }
  return { rows_exported, finished: false };
}
