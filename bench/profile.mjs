#!/usr/bin/env node
// `npm run bench:profile [-- <scenario> [connections] [seconds]]`: where the service's CPU goes.
//
// Starts the bundled service as the benchmark does (bench/service.mjs), with the V8 inspector
// open, loads it with one scenario of bench/load.mjs (default: hot-writes, 8 connections, 5 s),
// and records a CPU profile of the service's isolate. Prints the functions with the most self
// time and the most inclusive time, and the share of each source file of the bundle (wrangler
// marks each module in it). The profile itself is written next to the results, for Chrome
// DevTools (Performance > Load profile). Scenarios: hot-writes, stock-read, replays, reservation
// (3 lines), reservation-commit.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { BENCH_TOKEN, bundleWorker, startService } from "./service.mjs";

const SCENARIOS = ["hot-writes", "stock-read", "replays", "reservation", "reservation-commit"];
const [scenario = "hot-writes", connections = "8", seconds = "5"] = process.argv.slice(2);
// Checked before anything starts, so a typo costs no bundle, no service and no profile.
if (
  !SCENARIOS.includes(scenario) ||
  !/^\d{1,3}$/.test(connections) ||
  Number(connections) < 1 ||
  !/^\d{1,2}$/.test(seconds) ||
  Number(seconds) < 1
) {
  console.error(`usage: npm run bench:profile [-- <scenario> [connections 1-999] [seconds 1-99]]; scenarios: ${SCENARIOS.join(", ")}`);
  process.exit(2);
}
const INSPECTOR_PORT = 9229;
const RESERVED_PRODUCTS = ["res-a", "res-b", "res-c"];
const SAMPLING_INTERVAL_US = 100;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const headers = { authorization: `Bearer ${BENCH_TOKEN}`, "content-type": "application/json" };

const outdir = bundleWorker();
const service = await startService(outdir, { inspectorPort: INSPECTOR_PORT });
try {
  // Stock the product and warm its object, so the profile shows steady state, not start-up.
  for (let i = 0; i < 50; i++) {
    const response = await fetch(`${service.url}/v1/products/hot/transactions`, {
      method: "POST",
      headers: { ...headers, "idempotency-key": `setup-${i}` },
      body: JSON.stringify({ type: "ADD", quantity: 1_000_000, reason: "setup" }),
    });
    await response.arrayBuffer();
  }
  // The products the reservation scenarios hold.
  for (const product of RESERVED_PRODUCTS) {
    await (
      await fetch(`${service.url}/v1/products/${product}/transactions`, {
        method: "POST",
        headers: { ...headers, "idempotency-key": `stock-${product}` },
        body: JSON.stringify({ type: "ADD", quantity: 1_000_000_000, reason: "setup" }),
      })
    ).arrayBuffer();
  }
  // The write the replays scenario repeats (its body, as bench/load.mjs sends it).
  await (
    await fetch(`${service.url}/v1/products/hot/transactions`, {
      method: "POST",
      headers: { ...headers, "idempotency-key": "replayed" },
      body: JSON.stringify({ type: "ADD", quantity: 1, reason: "bench-replay" }),
    })
  ).arrayBuffer();
  const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json();
  const target = targets.find((candidate) => candidate.title.includes("core:user:"));
  const inspector = await connect(target.webSocketDebuggerUrl);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  await inspector.send("Profiler.start");
  const spec = {
    url: service.url,
    scenario,
    connections: Number(connections),
    duration_seconds: Number(seconds),
    params: { product: "hot", key: "replayed", products: RESERVED_PRODUCTS },
    token: BENCH_TOKEN,
  };
  const load = spawnSync(process.execPath, [path.join(root, "bench", "load.mjs"), JSON.stringify(spec)], { encoding: "utf8" });
  const { profile } = await inspector.send("Profiler.stop");
  inspector.close();
  if (load.status !== 0) throw new Error(`load generator failed: ${load.stderr}`);

  const result = JSON.parse(load.stdout);
  console.log(
    `${scenario}, ${connections} connections, ${seconds} s: ${result.ops_per_second.toFixed(0)} req/s, ${result.errors} errors, ${profile.samples.length} samples`,
  );
  const summary = summarize(profile, readFileSync(path.join(outdir, "index.js"), "utf8"));
  print("most self time", summary.self, 25);
  print("most inclusive time", summary.inclusive, 40);
  print("by source file (self time)", summary.files, 25);
  mkdirSync(path.join(root, "bench", "results"), { recursive: true });
  const file = path.join(root, "bench", "results", `profile-${scenario}-${new Date().toISOString().replaceAll(":", "-")}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(`\nprofile: ${path.relative(root, file)}`);
} finally {
  await service.dispose();
}

/** A Chrome DevTools Protocol session: send(method, params) resolves with the result. */
async function connect(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const pending = new Map();
  let next = 0;
  socket.on("message", (data) => {
    const message = JSON.parse(data);
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        next += 1;
        pending.set(next, resolve);
        socket.send(JSON.stringify({ id: next, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** Sample counts per function (self and inclusive) and per bundled source file. */
function summarize(profile, bundle) {
  // wrangler's bundle starts each module with a comment line naming its source file.
  const starts = [];
  bundle.split("\n").forEach((line, index) => {
    const match = /^\/\/ ((?:src|node_modules|migrations)\/\S+)$/.exec(line);
    if (match) starts.push([index, match[1]]);
  });
  const fileAt = (line) => starts.findLast(([start]) => start <= line)?.[1] ?? "(runtime)";
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const name = ({ callFrame }) =>
    `${callFrame.functionName || "(anonymous)"} ${callFrame.url.endsWith("index.js") ? fileAt(callFrame.lineNumber) : callFrame.url || ""}:${callFrame.lineNumber}`;
  const self = new Map();
  const inclusive = new Map();
  const files = new Map();
  const add = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const id of profile.samples) {
    const node = nodes.get(id);
    add(self, name(node));
    add(
      files,
      node.callFrame.url.endsWith("index.js")
        ? fileAt(node.callFrame.lineNumber).replace(/^(node_modules\/(?:@[^/]+\/)?[^/]+).*/, "$1")
        : node.callFrame.functionName || "(native)",
    );
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) seen.add(name(nodes.get(at)));
    for (const key of seen) add(inclusive, key);
  }
  const total = profile.samples.length;
  const ranked = (map) => [...map].sort((a, b) => b[1] - a[1]).map(([key, count]) => [key, (100 * count) / total]);
  return { self: ranked(self), inclusive: ranked(inclusive), files: ranked(files) };
}

function print(title, ranked, limit) {
  console.log(`\n${title}:`);
  for (const [key, percent] of ranked.slice(0, limit)) console.log(`${percent.toFixed(1).padStart(6)}%  ${key}`);
}
