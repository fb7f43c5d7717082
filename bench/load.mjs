#!/usr/bin/env node
// The load generator, run as its own process so it never shares an event loop with the
// service: `node bench/load.mjs '<json spec>'` runs one autocannon scenario and prints its
// result as JSON. Scenario request shapes live here because functions cannot cross processes.
import { createHmac, randomUUID } from "node:crypto";
import autocannon from "autocannon";

const spec = JSON.parse(process.argv[2]);
const auth = { authorization: `Bearer ${spec.token}`, "content-type": "application/json" };
const key = () => randomUUID();
/** [seq, Unix ms] of each answered write, for scenarios that time them. */
const answeredAt = [];

function scenario() {
  const p = spec.params ?? {};
  switch (spec.scenario) {
    case "hot-writes": {
      let n = 0;
      return [
        {
          method: "POST",
          path: `/v1/products/${p.product}/transactions`,
          headers: auth,
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, "idempotency-key": key() },
            body: JSON.stringify({ type: n++ % 2 === 0 ? "REMOVE" : "ADD", quantity: 1, reason: "bench" }),
          }),
        },
      ];
    }
    case "hot-writes-timed": {
      // hot-writes that also note when each write's answer arrived, by its seq (the feed's lag).
      let n = 0;
      return [
        {
          method: "POST",
          path: `/v1/products/${p.product}/transactions`,
          headers: auth,
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, "idempotency-key": key() },
            body: JSON.stringify({ type: n++ % 2 === 0 ? "REMOVE" : "ADD", quantity: 1, reason: "bench" }),
          }),
          onResponse: (status, body) => {
            if (status === 201) answeredAt.push([JSON.parse(body).transaction.seq, Date.now()]);
          },
        },
      ];
    }
    case "spread-writes": {
      let n = 0;
      return [
        {
          method: "POST",
          headers: auth,
          setupRequest: (req) => ({
            ...req,
            path: `/v1/products/${p.prefix}-${n++ % p.products}/transactions`,
            headers: { ...req.headers, "idempotency-key": key() },
            body: JSON.stringify({ type: "ADD", quantity: 1, reason: "bench" }),
          }),
        },
      ];
    }
    case "stock-read":
      return [{ method: "GET", path: `/v1/products/${p.product}/stock`, headers: auth }];
    case "replays":
      return [
        {
          method: "POST",
          path: `/v1/products/${p.product}/transactions`,
          headers: { ...auth, "idempotency-key": p.key },
          body: JSON.stringify({ type: "ADD", quantity: 1, reason: "bench-replay" }),
        },
      ];
    case "reservation": {
      const lines = p.products.map((product_id) => ({ product_id, quantity: 1 }));
      return [
        {
          method: "POST",
          path: "/v1/reservations",
          headers: auth,
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, "idempotency-key": key() },
            body: JSON.stringify({ reason: "bench", ttl_seconds: 600, lines }),
          }),
        },
      ];
    }
    case "reservation-commit": {
      const lines = p.products.map((product_id) => ({ product_id, quantity: 1 }));
      return [
        {
          method: "POST",
          path: "/v1/reservations",
          headers: auth,
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, "idempotency-key": key() },
            body: JSON.stringify({ reason: "bench", ttl_seconds: 600, lines }),
          }),
          onResponse: (_status, body, context) => {
            context.id = JSON.parse(body).id;
          },
        },
        {
          method: "POST",
          headers: auth,
          setupRequest: (req, context) => ({
            ...req,
            path: `/v1/reservations/${context.id}/commit`,
            headers: { ...req.headers, "idempotency-key": key() },
          }),
        },
      ];
    }
    case "webhook-order": {
      const secret = Buffer.from(p.secret.replace(/^whsec_/, ""), "base64");
      return [
        {
          method: "POST",
          path: `/v1/webhooks/${p.source}`,
          setupRequest: (req) => {
            const id = `msg_${randomUUID()}`;
            const timestamp = Math.floor(Date.now() / 1000);
            const order_id = randomUUID();
            const body = JSON.stringify({
              type: "order.placed",
              data: { order_id, lines: p.products.map((product_id, i) => ({ line_id: `l${i}`, product_id, quantity: 1 })) },
            });
            const signature = createHmac("sha256", secret).update(`${id}.${timestamp}.${body}`).digest("base64");
            return {
              ...req,
              headers: {
                "content-type": "application/json",
                "webhook-id": id,
                "webhook-timestamp": String(timestamp),
                "webhook-signature": `v1,${signature}`,
              },
              body,
            };
          },
        },
      ];
    }
    case "bare-writes": {
      let n = 0;
      return [
        {
          method: "POST",
          path: `/bare/${p.product}`,
          headers: { "content-type": "application/json" },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ delta: n++ % 2 === 0 ? -1 : 1 }) }),
        },
      ];
    }
    default:
      throw new Error(`unknown scenario ${spec.scenario}`);
  }
}

/**
 * Sequential requests with sub-millisecond timing, for the latency comparisons (autocannon
 * reports whole milliseconds, too coarse when a request takes 0.5 ms).
 */
async function probe(requests) {
  const [template] = requests;
  const context = {};
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + spec.duration_seconds * 1000;
  while (performance.now() < deadline) {
    const req = template.setupRequest ? template.setupRequest({ ...template }, context) : template;
    const started = performance.now();
    const response = await fetch(`${spec.url}${req.path}`, { method: req.method, headers: req.headers, body: req.body });
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    if (response.status >= 300) errors++;
  }
  latencies.sort((a, b) => a - b);
  const at = (q) => Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(3));
  return {
    requests: latencies.length,
    ok: latencies.length - errors,
    errors,
    ops_per_second: latencies.length / spec.duration_seconds,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    duration_seconds: spec.duration_seconds,
  };
}

if (spec.probe) {
  process.stdout.write(JSON.stringify(await probe(scenario())));
  process.exit(0);
}

const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.duration_seconds,
  requests: scenario(),
  timeout: 30,
});
const ok = result["2xx"];
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    ok,
    errors: result.errors + result.non2xx + result.timeouts,
    ops_per_second: ok / result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    duration_seconds: result.duration,
    ...(answeredAt.length > 0 ? { answered_at: answeredAt } : {}),
  }),
);
