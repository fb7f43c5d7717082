// The product registry in D1: every product that has ledger rows, which the export enumerates
// so that it never has to list Durable Objects. Each product object registers itself.

import { and, asc, gt, gte, sql } from "drizzle-orm";
import type { AuditDb } from "./db";
import { products } from "./tables";

/** Adds a product to the registry; registering it again changes nothing. */
export async function registerProduct(db: AuditDb, product_id: string, registered_at: string): Promise<void> {
  await db.insert(products).values({ productId: product_id, registeredAt: registered_at }).onConflictDoNothing().run();
}

/** One page of the registry in ascending product_id, optionally of the ids that start with `prefix` (case-sensitive). */
export async function listProducts(
  db: AuditDb,
  filter: { prefix?: string | undefined; after?: string | undefined; limit: number },
): Promise<{ data: { product_id: string; created_at: string }[]; next_after: string | null }> {
  const where = [];
  if (filter.prefix !== undefined) {
    // The range lets the primary key find the first match; substr keeps it exact (LIKE ignores case).
    where.push(gte(products.productId, filter.prefix), sql`substr(${products.productId}, 1, ${filter.prefix.length}) = ${filter.prefix}`);
  }
  if (filter.after !== undefined) where.push(gt(products.productId, filter.after));
  const rows = await db
    .select({ product_id: products.productId, created_at: products.registeredAt })
    .from(products)
    .where(and(...where))
    .orderBy(asc(products.productId))
    .limit(filter.limit + 1)
    .all();
  const page = rows.slice(0, filter.limit);
  return { data: page, next_after: rows.length > filter.limit ? page[page.length - 1]!.product_id : null };
}
