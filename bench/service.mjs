// Starts the service for the benchmark: the bundled worker (`wrangler deploy --dry-run`) under
// Miniflare's API, with the bindings wrangler.toml declares (not `wrangler dev`, whose proxy
// costs 2-3x), local D1 migrated, state persisted to a fresh temporary folder.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

export const BENCH_TOKEN = "bench-admin-token";
export const BENCH_WEBHOOK_SECRET = `whsec_${Buffer.from("bench-webhook-secret-0123456789ab").toString("base64")}`;

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

export function bundleWorker() {
  const outdir = path.join(root, "bench", ".build");
  rmSync(outdir, { recursive: true, force: true });
  execFileSync("npx", ["--no-install", "wrangler", "deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    stdio: "ignore",
  });
  return outdir;
}

/** Miniflare running the bundled worker; returns { url, mf, dispose }. */
export async function startService(outdir, { port = 0, inspectorPort } = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  const apiKeys = JSON.stringify([
    { principal: "bench", role: "admin", token_sha256: createHash("sha256").update(BENCH_TOKEN).digest("hex") },
  ]);
  const service = await launch({
    ...workerOptions,
    name: "inventory-ledger",
    modules: true,
    scriptPath: path.join(outdir, "index.js"),
    modulesRoot: outdir,
    modulesRules: [{ type: "Text", include: ["**/*.sql"], fallthrough: true }],
    // The change feed's receiver listens on 127.0.0.1 (bench/receiver.mjs).
    bindings: {
      API_KEYS: apiKeys,
      WEBHOOK_SOURCES: JSON.stringify([{ id: "bench-oms", secrets: [BENCH_WEBHOOK_SECRET] }]),
      ALLOW_LOCAL_WEBHOOK_URLS: "true",
    },
    queueConsumers: { "ledger-export": { maxBatchSize: 1, maxBatchTimeout: 0.05 } },
    port,
    ...(inspectorPort ? { inspectorPort } : {}),
  });
  await migrateD1(await service.mf.getD1Database("AUDIT_DB"));
  return service;
}

/**
 * A Miniflare on loopback with its state in a fresh temporary folder, removed on dispose. `pid`
 * is its workerd process (Linux only, else null), whose CPU time the benchmark reads.
 */
async function launch(options) {
  const persist = mkdtempSync(path.join(tmpdir(), `ledger-bench-${options.name}-`));
  const before = workerdPids();
  const mf = new Miniflare({ ...options, defaultPersistRoot: persist, host: "127.0.0.1" });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const started = [...workerdPids()].filter((pid) => !before.has(pid));
  return {
    url,
    mf,
    pid: started.length === 1 ? started[0] : null,
    async dispose() {
      await mf.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}

/** Running workerd processes, by /proc (an empty set where there is no /proc). */
function workerdPids() {
  if (!existsSync("/proc")) return new Set();
  const pids = new Set();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (path.basename(command[0] ?? "") === "workerd" && command.includes("serve")) pids.add(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/**
 * CPU time (user + system) a process has used, in milliseconds, or null when unknown. /proc
 * counts in clock ticks, which are 10 ms on Linux (USER_HZ = 100).
 */
export function cpuMillis(pid) {
  if (pid === null) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

async function migrateD1(db) {
  const dir = path.join(root, "migrations", "d1");
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()) {
    const statements = readFileSync(path.join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((sql) => sql.trim())
      .filter(Boolean);
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }
}

/** The baseline worker (bench/baseline/worker.js) under the same runtime and persistence. */
export async function startBaseline({ port = 0 } = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  return launch({
    name: "bare",
    modules: true,
    scriptPath: path.join(root, "bench", "baseline", "worker.js"),
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    durableObjects: { BARE: { className: "BareLedger", useSQLite: true } },
    port,
  });
}
