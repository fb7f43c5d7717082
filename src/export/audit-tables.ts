// The D1 audit database's schema. drizzle-kit generates migrations/d1 from this file, which
// `wrangler d1 migrations apply` applies (npm run dev does it locally, the tests per file).

import { sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Every product that has ledger rows: what the nightly export will enumerate, so it never has
 * to list Durable Objects. Not yet written: the export and its registration are issue 4.
 */
export const products = sqliteTable("products", {
  productId: text("product_id").primaryKey(),
  registeredAt: text("registered_at").notNull(),
});
