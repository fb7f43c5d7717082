// `npm run db:generate` also turns src/d1/tables.ts into D1 migrations.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  out: "./migrations/d1",
  schema: "./src/d1/tables.ts",
  dialect: "sqlite",
});
