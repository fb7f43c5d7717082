#!/usr/bin/env node
// A/B of the hot-write path between two git revisions, in one run, in alternating rounds:
//
//   node bench/ab.mjs <refA> <refB> [--rounds N] [--seconds S] [--connections C]
//
// (defaults: 6 rounds, 8 s per measurement, 8 connections). Each ref is checked out into its own
// detached worktree in a temporary folder, gets its dependencies (a symlink to this checkout's
// node_modules when its package-lock.json is identical, else `npm ci`), is bundled with
// `wrangler deploy --dry-run` and started under Miniflare by ITS OWN bench/service.mjs, so it runs
// with its own wrangler.toml and migrations. Both services run side by side; each gets a hot
// product, and every round loads A then B (even rounds) or B then A (odd rounds) with the
// hot-writes scenario of bench/load.mjs, reading each workerd process's CPU time before and after.
// Prints CPU µs per request per side and round, the B/A ratio of each round and the medians, and
// writes bench/results/ab-<timestamp>.json. Refs are commits: uncommitted changes are not measured.
// Worktrees and temporary state are removed at the end, on error and on Ctrl-C.
//
// CPU per request is the measure, not throughput: on a shared 2-core machine the throughput
// moves with whatever else runs, while the CPU a request costs the service moves much less.
// Keep the machine otherwise idle anyway: the load generator and the two services share it.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cpuMillis } from "./service.mjs";

const DEFAULT_ROUNDS = 6;
const DEFAULT_SECONDS = 8;
const DEFAULT_CONNECTIONS = 8;
/** Accepted ranges of the options, checked before anything starts. */
const LIMITS = { rounds: [1, 100], seconds: [1, 600], connections: [1, 999] };
const USAGE = "usage: node bench/ab.mjs <refA> <refB> [--rounds N (1-100)] [--seconds S (1-600)] [--connections C (1-999)]";
/**
 * An unmeasured load per service before the first round: without it the first round of each side
 * also pays for JIT compilation and the object's start-up, and with few rounds that shows.
 */
const WARMUP_SECONDS = 2;
/** A pause before each CPU reading, so work a request leaves behind (waitUntil) is counted with it. */
const SETTLE_MS = 300;
const HOT_PRODUCT = "ab-hot";
/** The stock of the hot product, as bench/run.mjs seeds it: REMOVE never runs out. */
const SEED_QUANTITY = 1_000_000_000;
const SCENARIO = "hot-writes";
const SIDES = ["A", "B"];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LOAD_SCRIPT = path.join(root, "bench", "load.mjs");
// Set for this process too: wrangler's config reader and Miniflare run in it.
const QUIET_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
Object.assign(process.env, QUIET_ENV);

const log = (message) => process.stderr.write(`${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class UsageError extends Error {}

function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArguments(argv) {
  const options = { rounds: DEFAULT_ROUNDS, seconds: DEFAULT_SECONDS, connections: DEFAULT_CONNECTIONS };
  const refs = [];
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(rounds|seconds|connections)(?:=(.*))?$/.exec(argv[i]);
    if (match) {
      const value = match[2] ?? argv[++i];
      options[match[1]] = parseCount(match[1], value);
    } else if (argv[i].startsWith("-")) {
      throw new UsageError(`unknown option ${argv[i]}`);
    } else {
      refs.push(argv[i]);
    }
  }
  if (refs.length !== 2) throw new UsageError(`expected two refs, got ${refs.length}`);
  return { refs, ...options };
}

function parseCount(name, value) {
  const [min, max] = LIMITS[name];
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} needs a whole number from ${min} to ${max}, got ${value ?? "nothing"}`);
  }
  return Number(value);
}

function git(...args) {
  return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The commit a ref names, resolved once: a ref like HEAD may move while the run goes on. */
function resolveCommit(ref) {
  let commit;
  try {
    commit = git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`);
  } catch {
    throw new UsageError(`${ref} is not a commit of ${root}`);
  }
  for (const file of ["package-lock.json", "wrangler.toml"]) {
    try {
      git("cat-file", "-e", `${commit}:${file}`);
    } catch {
      throw new UsageError(`${ref} has no ${file}`);
    }
  }
  return { ref, commit, subject: git("log", "-1", "--format=%s", commit) };
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every step that leaves something behind registers how to undo it, and the undoing
// runs once, whether the run ends, fails or is interrupted.

const cleanups = [];
let cleaning = null;
let activeChild = null;

function cleanUp() {
  cleaning ??= (async () => {
    activeChild?.kill("SIGKILL");
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`clean-up: ${error.message}`);
      }
    }
  })();
  return cleaning;
}

function onSignal(signal) {
  if (cleaning) process.exit(130); // a second Ctrl-C while cleaning up: stop at once
  log(`\n${signal}: cleaning up`);
  cleanUp().finally(() => process.exit(130));
}

/**
 * Makes onSignal the only handler of SIGINT and SIGTERM. Importing wrangler installs one that
 * calls process.exit() (status 0!) and every new Miniflare one that exits 130, both at once,
 * before any asynchronous clean-up could run; so this is called again after each start.
 * (Miniflare's "exit" handler stays: it still kills workerd if the process ends abruptly.)
 */
function takeSignals() {
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }
}

// ---------------------------------------------------------------------------------------------
// Preparing a side: worktree, dependencies, bundle, service

/**
 * node_modules by the hash of the package-lock.json they were installed from: this checkout's,
 * then any a side installed, so that two refs with the same lock install once.
 */
const installed = new Map([[sha256(path.join(root, "package-lock.json")), path.join(root, "node_modules")]]);

function addWorktree(dir, commit) {
  git("worktree", "add", "--detach", dir, commit);
  cleanups.push(() => removeWorktree(dir));
}

function removeWorktree(dir) {
  // A symlinked node_modules is unlinked first, so nothing can follow it into the shared one.
  const modules = path.join(dir, "node_modules");
  if (lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(modules);
  try {
    git("worktree", "remove", "--force", dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
    git("worktree", "prune");
  }
}

/** Links an identical install when there is one (this checkout's or the other side's), else runs npm ci. */
async function installDependencies(worktree) {
  const lock = sha256(path.join(worktree, "package-lock.json"));
  const existing = installed.get(lock);
  if (existing) {
    symlinkSync(existing, path.join(worktree, "node_modules"), "dir");
    return `symlink to ${existing}`;
  }
  log(`  npm ci in ${worktree} (its package-lock.json differs from ${root}'s)…`);
  // --prefer-offline: the machine has no network; the cache holds the packages.
  await run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: worktree });
  installed.set(lock, path.join(worktree, "node_modules"));
  return "npm ci";
}

function bundle(worktree, outdir) {
  execFileSync("npx", ["--no-install", "wrangler", "deploy", "--dry-run", "--outdir", outdir], {
    cwd: worktree,
    env: process.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/**
 * The ref's own bench/service.mjs, whose root is its worktree (so its wrangler.toml and its
 * migrations). A ref from before that file gets this checkout's copy, placed in its worktree so
 * that it still reads the ref's configuration.
 */
async function serviceModule(worktree) {
  const file = path.join(worktree, "bench", "service.mjs");
  const own = existsSync(file) && readFileSync(file, "utf8").includes("export async function startService");
  if (!own) {
    log(`  ${worktree} has no bench/service.mjs with startService: using ${root}'s`);
    cpSync(path.join(root, "bench", "service.mjs"), file);
  }
  return import(pathToFileURL(file).href);
}

/** workerd processes this process started (Miniflare spawns them as its children). */
function workerdChildren() {
  const pids = new Set();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm === "workerd" && ppid === process.pid) pids.add(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/**
 * Starts a side's service and finds its workerd process. service.mjs's own `pid` is any workerd
 * that appeared during the start, machine-wide, which a test run starting workerd at the same
 * moment would confuse; our own children cannot be confused, as long as one side starts at a time.
 */
async function startSide(side, info, tmp) {
  const worktree = path.join(tmp, `ab-${side.toLowerCase()}-${info.commit.slice(0, 7)}`);
  const outdir = path.join(tmp, `build-${side.toLowerCase()}`);
  log(`${side}: ${info.ref} = ${info.commit.slice(0, 12)} ${info.subject.slice(0, 80)}`);
  addWorktree(worktree, info.commit);
  const install = await installDependencies(worktree);
  log(`  dependencies: ${install}; bundling…`);
  bundle(worktree, outdir);
  const { startService, BENCH_TOKEN } = await serviceModule(worktree);
  const before = workerdChildren();
  const service = await startService(outdir);
  cleanups.push(() => service.dispose());
  takeSignals();
  const started = [...workerdChildren()].filter((pid) => !before.has(pid));
  if (started.length !== 1) throw new Error(`${side}: expected one new workerd process, found ${started.length}`);
  const pid = started[0];
  if (service.pid !== undefined && service.pid !== pid)
    log(`  note: service.mjs took workerd ${service.pid} for this service; its own child is ${pid}`);
  log(`  serving at ${service.url}, workerd pid ${pid}`);
  return { side, info, install, worktree, url: service.url, pid, token: BENCH_TOKEN, versions: versionsOf(worktree) };
}

function versionsOf(worktree) {
  const modules = path.join(worktree, "node_modules");
  return {
    workerd: execFileSync(path.join(modules, ".bin", "workerd"), ["--version"], { encoding: "utf8" }).trim(),
    miniflare: JSON.parse(readFileSync(path.join(modules, "miniflare", "package.json"), "utf8")).version,
  };
}

/** The hot product's stock: one ADD with an Idempotency-Key, as bench/run.mjs seeds it. */
async function seed(side) {
  const response = await fetch(`${side.url}/v1/products/${HOT_PRODUCT}/transactions`, {
    method: "POST",
    headers: { authorization: `Bearer ${side.token}`, "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
    body: JSON.stringify({ type: "ADD", quantity: SEED_QUANTITY, reason: "stock" }),
  });
  if (!response.ok) throw new Error(`${side.side}: seeding answered ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** A child process to its end; rejects with its stderr when it fails. Tracked so Ctrl-C can end it. */
function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: process.env, ...options, stdio: ["ignore", "pipe", "pipe"] });
    activeChild = child;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      activeChild = null;
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args[0]} failed (${signal ?? `exit ${code}`}): ${stderr.slice(-2000)}`));
    });
  });
}

/** bench/load.mjs's hot-writes scenario (a unique Idempotency-Key per request, REMOVE/ADD in turn). */
async function hotWrites(side, seconds, connections) {
  const spec = {
    url: side.url,
    scenario: SCENARIO,
    connections,
    duration_seconds: seconds,
    params: { product: HOT_PRODUCT },
    token: side.token,
  };
  return JSON.parse(await run(process.execPath, [LOAD_SCRIPT, JSON.stringify(spec)]));
}

/**
 * The whole machine's CPU time (all cores) from /proc/stat's ticks, in milliseconds: busy, and
 * stolen (a virtual machine's cores taken by the host, which no process here is charged for).
 */
function machineMillis() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: (user + nice + system + irq + softirq) * 10, steal: steal * 10 };
}

/** CPU time of this process and of its children that have ended (the load generator), in ms. */
function ownTreeMillis() {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) * 10;
}

/**
 * One measurement of `side` while `other` idles. Besides the side's workerd CPU, it reads the idle
 * one's (background work would show there), this process's (Miniflare's host side), and what the
 * rest of the machine used meanwhile and what the hypervisor took (`foreign_cpu_share` and
 * `steal_share`, of all cores), which say how far to trust the round.
 */
async function measure(side, other, options) {
  await sleep(SETTLE_MS);
  const before = {
    cpu: cpuMillis(side.pid),
    idle: cpuMillis(other.pid),
    host: process.cpuUsage(),
    tree: ownTreeMillis(),
    machine: machineMillis(),
    at: performance.now(),
  };
  const result = await hotWrites(side, options.seconds, options.connections);
  await sleep(SETTLE_MS);
  const cpu = cpuMillis(side.pid);
  const idle = cpuMillis(other.pid);
  if (before.cpu === null || cpu === null) throw new Error(`${side.side}: cannot read the CPU time of workerd ${side.pid}`);
  const host = process.cpuUsage(before.host);
  const ours = cpu - before.cpu + (idle - before.idle) + (ownTreeMillis() - before.tree);
  const machine = machineMillis();
  const capacity = (performance.now() - before.at) * os.cpus().length;
  const perRequest = (micros) => (result.requests === 0 ? null : micros / result.requests);
  if (result.errors > 0) log(`  warning: ${side.side} had ${result.errors} failed requests of ${result.requests}`);
  return {
    ...result,
    cpu_ms: cpu - before.cpu,
    cpu_us_per_request: perRequest((cpu - before.cpu) * 1000),
    host_cpu_us_per_request: perRequest(host.user + host.system),
    idle_other_cpu_ms: idle - before.idle,
    foreign_cpu_share: Math.max(0, machine.busy - before.machine.busy - ours) / capacity,
    steal_share: (machine.steal - before.machine.steal) / capacity,
  };
}

/** Even rounds measure A then B, odd rounds B then A, so drift within a round favours neither. */
async function alternate(sides, options) {
  const [a, b] = sides;
  const rounds = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    const results = {};
    for (const side of order) {
      const other = side === a ? b : a;
      results[side.side] = await measure(side, other, options);
      const { ops_per_second, cpu_us_per_request, foreign_cpu_share, steal_share } = results[side.side];
      log(
        `  round ${round + 1} ${side.side}: ${ops_per_second.toFixed(0)} req/s, ${cpu_us_per_request.toFixed(0)} µs/req (others ${(foreign_cpu_share * 100).toFixed(0)}%, stolen ${(steal_share * 100).toFixed(0)}%)`,
      );
    }
    rounds.push({
      round: round + 1,
      order: order.map((side) => side.side).join(""),
      A: results.A,
      B: results.B,
      cpu_ratio_b_over_a: results.B.cpu_us_per_request / results.A.cpu_us_per_request,
    });
  }
  return rounds;
}

function medianOf(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function summarize(rounds) {
  const of = (side, key) => medianOf(rounds.map((round) => round[side][key]));
  return {
    A: { ops_per_second: of("A", "ops_per_second"), cpu_us_per_request: of("A", "cpu_us_per_request") },
    B: { ops_per_second: of("B", "ops_per_second"), cpu_us_per_request: of("B", "cpu_us_per_request") },
    cpu_ratio_b_over_a: medianOf(rounds.map((round) => round.cpu_ratio_b_over_a)),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function printTable(sides, rounds, medians) {
  const row = (cells) => `| ${cells.join(" | ")} |`;
  const cells = (a, b, ratio) => [
    a.ops_per_second.toFixed(0),
    a.cpu_us_per_request.toFixed(0),
    b.ops_per_second.toFixed(0),
    b.cpu_us_per_request.toFixed(0),
    `${ratio.toFixed(3)}x`,
  ];
  const lines = [
    ...sides.map((side) => `${side.side}: ${side.info.ref} = ${side.info.commit.slice(0, 12)} ${side.info.subject.slice(0, 90)}`),
    "",
    row(["round", "order", "A ops/s", "A CPU µs/req", "B ops/s", "B CPU µs/req", "B/A CPU"]),
    row(["---:", "---", "---:", "---:", "---:", "---:", "---:"]),
    ...rounds.map((round) => row([round.round, round.order, ...cells(round.A, round.B, round.cpu_ratio_b_over_a)])),
    row(["median", "", ...cells(medians.A, medians.B, medians.cpu_ratio_b_over_a)]),
    "",
    `B/A CPU per request, median of the rounds' ratios: ${medians.cpu_ratio_b_over_a.toFixed(3)}x (rounds: ${rounds.map((round) => round.cpu_ratio_b_over_a.toFixed(3)).join(" ")})`,
    `ratio of the medians: ${(medians.B.cpu_us_per_request / medians.A.cpu_us_per_request).toFixed(3)}x`,
    `during the measurements (min / median / max of the machine's CPU): other processes ${shareRange(rounds, "foreign_cpu_share")}, stolen by the host ${shareRange(rounds, "steal_share")}`,
  ];
  console.log(`\n${lines.join("\n")}\n`);
}

/** min / median / max over every measurement of a share of the machine, in per cent. */
function shareRange(rounds, key) {
  const shares = rounds.flatMap((round) => [round.A[key], round.B[key]]);
  const percent = (share) => `${(share * 100).toFixed(0)}%`;
  return [Math.min(...shares), medianOf(shares), Math.max(...shares)].map(percent).join(" / ");
}

function writeResults(report) {
  const dir = path.join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `ab-${report.started_at.replaceAll(":", "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results: ${path.relative(root, file)}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  let options;
  let infos;
  try {
    options = parseArguments(process.argv.slice(2));
    infos = options.refs.map(resolveCommit);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  if (!existsSync("/proc")) throw new Error("the workerd CPU time is read from /proc: Linux only");
  takeSignals();

  const started_at = new Date().toISOString();
  const loadavg_start = os.loadavg();
  log(
    `ab: ${options.rounds} rounds of ${options.seconds} s, ${options.connections} connections, ${SCENARIO}; load average ${loadavg_start.map((x) => x.toFixed(2)).join(" ")}`,
  );
  const tmp = mkdtempSync(path.join(os.tmpdir(), "ab-"));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  // Everything else's temporary files go in it too: service.mjs makes each service's state folder
  // with os.tmpdir(), and leaves it behind when its start fails (e.g. a ref without D1 migrations).
  process.env.TMPDIR = tmp;
  try {
    // One at a time: each start is told apart by the workerd process it adds.
    const sides = [];
    for (const [i, info] of infos.entries()) sides.push(await startSide(SIDES[i], info, tmp));
    for (const side of sides) await seed(side);
    log(`warming up each side for ${WARMUP_SECONDS} s…`);
    for (const side of sides) await hotWrites(side, WARMUP_SECONDS, options.connections);
    const rounds = await alternate(sides, options);
    const medians = summarize(rounds);
    printTable(sides, rounds, medians);
    writeResults({
      scenario: SCENARIO,
      options: {
        rounds: options.rounds,
        seconds: options.seconds,
        connections: options.connections,
        warmup_seconds: WARMUP_SECONDS,
        settle_ms: SETTLE_MS,
      },
      sides: Object.fromEntries(sides.map((side) => [side.side, { ...side.info, dependencies: side.install, ...side.versions }])),
      rounds,
      medians,
      machine: {
        cpu: `${os.cpus()[0]?.model ?? "unknown"} x${os.cpus().length}`,
        node: process.version,
        loadavg_start,
        loadavg_end: os.loadavg(),
      },
      started_at,
      finished_at: new Date().toISOString(),
    });
  } finally {
    await cleanUp();
  }
}

await main();
