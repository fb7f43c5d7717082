// Every test runs inside workerd with the real bindings from wrangler.toml: Durable Objects with
// SQLite, D1. Only API_KEYS is replaced, by hashes of the test tokens in test/helpers/tokens.ts.
import { createHash } from "node:crypto";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_TOKENS, TEST_WEBHOOK_SOURCES } from "./test/helpers/tokens.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export default defineConfig(async () => {
  const d1Migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations/d1"));
  const apiKeys = Object.values(TEST_TOKENS).map(({ principal, role, token }) => ({ principal, role, token_sha256: sha256(token) }));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            API_KEYS: JSON.stringify(apiKeys),
            WEBHOOK_SOURCES: JSON.stringify(TEST_WEBHOOK_SOURCES),
            TEST_D1_MIGRATIONS: d1Migrations,
            // The tests' receiver listens on 127.0.0.1 (test/helpers/receiver-server.ts).
            ALLOW_LOCAL_WEBHOOK_URLS: "true",
          },
          // Deliver queued export messages within 50 ms instead of the configured 1 s.
          queueConsumers: { "ledger-export": { maxBatchTimeout: 0.05 } },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/helpers/apply-d1-migrations.ts"],
      globalSetup: ["./test/helpers/receiver-server.mjs"],
      testTimeout: 30_000,
    },
  };
});
