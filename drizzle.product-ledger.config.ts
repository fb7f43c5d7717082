// `npm run db:generate` turns src/durable/product-ledger/tables.ts into migrations for the product ledger.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  out: "./migrations/product-ledger",
  schema: "./src/durable/product-ledger/tables.ts",
  dialect: "sqlite",
  driver: "durable-sqlite",
});
