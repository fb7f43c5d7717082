// The D1 handle: the one place the audit database binding becomes a drizzle database.

import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { ledgerTransactions, products, runProducts, runs, subscriptions, webhookDeliveries } from "./tables";

export const d1Schema = { products, ledgerTransactions, runs, runProducts, webhookDeliveries, subscriptions };
export type AuditDb = DrizzleD1Database<typeof d1Schema> & { $client: D1Database };

export function auditDb(database: D1Database): AuditDb {
  return drizzle(database, { schema: d1Schema });
}
