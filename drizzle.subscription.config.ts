// `npm run db:generate` also turns src/durable/subscription/tables.ts into migrations.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  out: "./migrations/subscription",
  schema: "./src/durable/subscription/tables.ts",
  dialect: "sqlite",
  driver: "durable-sqlite",
});
