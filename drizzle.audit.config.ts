// `npm run db:generate` also turns src/export/audit-tables.ts into D1 migrations.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  out: "./migrations/d1",
  schema: "./src/export/audit-tables.ts",
  dialect: "sqlite",
});
