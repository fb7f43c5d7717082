#!/usr/bin/env node
// `npm run dev [-- wrangler dev flags]`: a fresh clone to a running API with no prompts.
// Creates .dev.vars from .dev.vars.example when missing, migrates the local D1, then hands
// over to `wrangler dev` with every argument the user passed after `--`.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const wrangler = (args) => spawnSync("npx", ["--no-install", "wrangler", ...args], { stdio: "inherit", env });

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local development tokens only).");
}

// Migrate the same local state wrangler dev will use (its --persist-to, when given).
const args = process.argv.slice(2);
const persistIndex = args.findIndex((arg) => arg === "--persist-to" || arg.startsWith("--persist-to="));
const persist =
  persistIndex === -1 ? [] : args[persistIndex].includes("=") ? [args[persistIndex]] : ["--persist-to", args[persistIndex + 1]];
const migrated = wrangler(["d1", "migrations", "apply", "inventory-audit", "--local", ...persist]);
if (migrated.status !== 0) process.exit(migrated.status ?? 1);

if (!args.some((arg) => arg.startsWith("--show-interactive-dev-session"))) args.push("--show-interactive-dev-session=false");
// Local receivers (http://127.0.0.1:<port>) may subscribe to the change feed, in local development only.
if (!args.some((arg) => arg.includes("ALLOW_LOCAL_WEBHOOK_URLS"))) args.push("--var", "ALLOW_LOCAL_WEBHOOK_URLS:true");
const dev = wrangler(["dev", ...args]);
process.exit(dev.status ?? 1);
