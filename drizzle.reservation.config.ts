// `npm run db:generate` also turns src/durable/reservation/tables.ts into migrations.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  out: "./migrations/reservation",
  schema: "./src/durable/reservation/tables.ts",
  dialect: "sqlite",
  driver: "durable-sqlite",
});
