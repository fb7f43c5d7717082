// Cross-product audit queries, from D1 only. The listing pages by (created_at, product_id, seq)
// with an opaque cursor, so pages stay stable while newer rows are exported.

import { and, asc, count, eq, gt, gte, lt, or, type SQL, sum } from "drizzle-orm";
import type { AuditDb } from "../d1/db";
import { fromD1Row, storedRowColumns } from "../d1/rows";
import { ledgerTransactions } from "../d1/tables";
import type { TransactionType } from "../ledger/types";

export interface AuditFilter {
  product_id?: string | undefined;
  reason?: string | undefined;
  created_by?: string | undefined;
  type?: TransactionType | undefined;
  reservation_id?: string | undefined;
  location_id?: string | undefined;
  /** created_at >= from */
  from?: string | undefined;
  /** created_at < to */
  to?: string | undefined;
}

export interface AuditCursor {
  created_at: string;
  product_id: string;
  seq: number;
}

export const SUMMARY_GROUPS = ["type", "created_by", "product_id", "location_id"] as const;
export type SummaryGroup = (typeof SUMMARY_GROUPS)[number];

const t = ledgerTransactions;

function conditions(filter: AuditFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.product_id !== undefined) where.push(eq(t.productId, filter.product_id));
  if (filter.reason !== undefined) where.push(eq(t.reason, filter.reason));
  if (filter.created_by !== undefined) where.push(eq(t.createdBy, filter.created_by));
  if (filter.type !== undefined) where.push(eq(t.type, filter.type));
  if (filter.reservation_id !== undefined) where.push(eq(t.reservationId, filter.reservation_id));
  if (filter.location_id !== undefined) where.push(eq(t.locationId, filter.location_id));
  if (filter.from !== undefined) where.push(gte(t.createdAt, filter.from));
  if (filter.to !== undefined) where.push(lt(t.createdAt, filter.to));
  return where;
}

export async function listAuditTransactions(db: AuditDb, filter: AuditFilter, after: AuditCursor | null, limit: number) {
  const where = conditions(filter);
  if (after !== null) {
    where.push(
      or(
        gt(t.createdAt, after.created_at),
        and(eq(t.createdAt, after.created_at), gt(t.productId, after.product_id)),
        and(eq(t.createdAt, after.created_at), eq(t.productId, after.product_id), gt(t.seq, after.seq)),
      )!,
    );
  }
  const rows = await db
    .select({ product_id: t.productId, ...storedRowColumns })
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.createdAt), asc(t.productId), asc(t.seq))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(({ product_id, ...row }) => fromD1Row(product_id, row)),
    next: rows.length > limit && last !== undefined ? { created_at: last.created_at, product_id: last.product_id, seq: last.seq } : null,
  };
}

export async function summarize(db: AuditDb, filter: Pick<AuditFilter, "from" | "to">, group_by: SummaryGroup) {
  const key = { type: t.type, created_by: t.createdBy, product_id: t.productId, location_id: t.locationId }[group_by];
  const rows = await db
    .select({ key, transactions: count(), delta_sum: sum(t.delta).mapWith(Number) })
    .from(t)
    .where(and(...conditions(filter)))
    .groupBy(key)
    .orderBy(asc(key))
    .all();
  return rows.map((row) => ({ key: row.key, transactions: row.transactions, delta_sum: row.delta_sum ?? 0 }));
}

export function encodeCursor(cursor: AuditCursor): string {
  return btoa(JSON.stringify([cursor.created_at, cursor.product_id, cursor.seq]))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replaceAll("=", "");
}

/** Null when the text is not a cursor this service issued. */
export function decodeCursor(text: string): AuditCursor | null {
  try {
    const value: unknown = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/")));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string" &&
      Number.isSafeInteger(value[2])
    ) {
      return { created_at: value[0], product_id: value[1], seq: value[2] as number };
    }
  } catch {
    // fall through: not a cursor
  }
  return null;
}
