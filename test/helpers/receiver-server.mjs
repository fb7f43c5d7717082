// A real webhook receiver for the tests, in Node (vitest's globalSetup): an HTTP server on
// 127.0.0.1 that the Subscription objects deliver to. Every delivery's signature is verified
// with the official `standardwebhooks` package against each secret the test registered, and
// recorded. Each test uses its own path, and tells the receiver how to behave on it: fail the
// first N deliveries, hang past the timeout, answer 410. Control is over HTTP, from workerd.
//
//   POST /hooks/<name>        a delivery
//   PUT  /control/<name>      { secrets: [...], fail_first?: n, fail_status?: 500, hang_ms?: n, gone?: bool }
//   GET  /control/<name>      { deliveries: [...] } in the order they arrived
// Plain JavaScript: it runs in Node, outside the workerd program that tsc checks
// (test/helpers/receiver.ts has the shapes).
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

function bodyOf(request) {
  return new Promise((resolve, reject) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => {
      text += chunk;
    });
    request.on("end", () => resolve(text));
    request.on("error", reject);
  });
}

/** @param {import("vitest/node").TestProject} project */
export default async function receiver(project) {
  const behaviours = new Map();
  const received = new Map();
  const server = createServer(async (request, response) => {
    const [, kind, name = ""] = (request.url ?? "").split("/");
    const body = await bodyOf(request);
    if (kind === "control") {
      if (request.method === "PUT") {
        behaviours.set(name, JSON.parse(body));
        response.writeHead(204).end();
      } else {
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ deliveries: received.get(name) ?? [] }));
      }
      return;
    }
    const behaviour = behaviours.get(name) ?? { secrets: [] };
    const log = received.get(name) ?? [];
    received.set(name, log);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, String(value)]));
    const verified_with = behaviour.secrets.flatMap((secret, index) => {
      try {
        new Webhook(secret).verify(body, headers);
        return [index];
      } catch {
        return [];
      }
    });
    const failing = log.length < (behaviour.fail_first ?? 0);
    const answered = behaviour.gone ? 410 : failing ? (behaviour.fail_status ?? 500) : 204;
    log.push({
      webhook_id: headers["webhook-id"] ?? "",
      timestamp: headers["webhook-timestamp"] ?? "",
      verified_with,
      signature_count: (headers["webhook-signature"] ?? "").split(" ").filter(Boolean).length,
      answered,
      body: JSON.parse(body),
      received_at: Date.now(),
    });
    if (behaviour.hang_ms !== undefined && failing) await new Promise((resolve) => setTimeout(resolve, behaviour.hang_ms));
    if (!response.destroyed) response.writeHead(answered).end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address();
  project.provide("receiverUrl", `http://127.0.0.1:${port}`);
  return () => new Promise((resolve) => server.close(() => resolve()));
}
