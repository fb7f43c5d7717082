// The product registry in D1: every product that has ledger rows, which the export enumerates
// so that it never has to list Durable Objects. Each product object registers itself.

import type { AuditDb } from "./db";
import { products } from "./tables";

/** Adds a product to the registry; registering it again changes nothing. */
export async function registerProduct(db: AuditDb, product_id: string, registered_at: string): Promise<void> {
  await db.insert(products).values({ productId: product_id, registeredAt: registered_at }).onConflictDoNothing().run();
}
