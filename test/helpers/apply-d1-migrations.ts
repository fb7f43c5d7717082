// Runs per test file: D1 storage is isolated per file, so each file migrates its own database.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.AUDIT_DB, env.TEST_D1_MIGRATIONS);
