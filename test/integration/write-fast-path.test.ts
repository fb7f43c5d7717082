// The write fast path (src/http/write-fast-path.ts) must answer exactly as the Hono app would.
// The same sequence of requests runs against three fresh products: through the worker's entry
// (fast path, then the app), through the app alone, and through the fast path called directly
// (whose hand-offs then go to the app). The answers must match, apart from ids, hashes and
// times, and the fast path must have answered exactly the cases it is meant to.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { writeFastPath } from "../../src/http/write-fast-path";
import worker from "../../src/index";
import { BASE, freshProductId } from "../helpers/http";
import { TEST_TOKENS } from "../helpers/tokens";

interface Case {
  name: string;
  /** Whether the fast path answers it (else it hands the request to the app). */
  fast: boolean;
  method?: string;
  path?: (product: string) => string;
  headers: Record<string, string>;
  /** A string, or chunks sent as a stream that declares no length. */
  body?: string | string[];
}

const writer = { authorization: `Bearer ${TEST_TOKENS.writer.token}`, "content-type": "application/json" };
const json = (value: unknown) => JSON.stringify(value);

const CASES: Case[] = [
  { name: "a new write", fast: true, headers: { ...writer, "idempotency-key": "k1" }, body: json({ type: "ADD", quantity: 10, reason: "po-1" }) },
  { name: "its replay", fast: true, headers: { ...writer, "idempotency-key": "k1" }, body: json({ type: "ADD", quantity: 10, reason: "po-1" }) },
  { name: "the key with another body", fast: true, headers: { ...writer, "idempotency-key": "k1" }, body: json({ type: "ADD", quantity: 11, reason: "po-1" }) },
  { name: "more than is available", fast: true, headers: { ...writer, "idempotency-key": "k2" }, body: json({ type: "REMOVE", quantity: 100, reason: "order-1" }) },
  { name: "a count at another location, with an actor", fast: true, headers: { ...writer, "idempotency-key": "k3" }, body: json({ type: "ADJUST", on_hand: 7, reason: "count", location_id: "eu-1", actor: "ana" }) },
  { name: "a stale expected_version", fast: true, headers: { ...writer, "idempotency-key": "k4" }, body: json({ type: "RESERVE", quantity: 1, reason: "cart", expected_version: 1 }) },
  { name: "the current expected_version", fast: true, headers: { ...writer, "idempotency-key": "k5" }, body: json({ type: "RESERVE", quantity: 1, reason: "cart", expected_version: 2 }) },
  { name: "a caller's request id and a charset", fast: true, headers: { ...writer, "content-type": "application/json; charset=utf-8", "idempotency-key": "k6", "x-request-id": "trace-1" }, body: json({ type: "RELEASE", quantity: 1, reason: "cart" }) },
  { name: "metadata", fast: false, headers: { ...writer, "idempotency-key": "k7" }, body: json({ type: "ADD", quantity: 1, reason: "po-2", metadata: { channel: "web" } }) },
  { name: "If-Match", fast: false, headers: { ...writer, "idempotency-key": "k8", "if-match": '"5"' }, body: json({ type: "ADD", quantity: 1, reason: "po-3" }) },
  { name: "a wrong If-Match", fast: false, headers: { ...writer, "idempotency-key": "k9", "if-match": '"1"' }, body: json({ type: "ADD", quantity: 1, reason: "po-3" }) },
  { name: "no token", fast: false, headers: { "content-type": "application/json", "idempotency-key": "k10" }, body: json({ type: "ADD", quantity: 1, reason: "r" }) },
  { name: "a read-only token", fast: false, headers: { ...writer, authorization: `Bearer ${TEST_TOKENS.reader.token}`, "idempotency-key": "k11" }, body: json({ type: "ADD", quantity: 1, reason: "r" }) },
  { name: "no Idempotency-Key", fast: false, headers: writer, body: json({ type: "ADD", quantity: 1, reason: "r" }) },
  { name: "malformed JSON", fast: false, headers: { ...writer, "idempotency-key": "k12" }, body: '{"type": "ADD",' },
  { name: "an invalid field", fast: false, headers: { ...writer, "idempotency-key": "k13" }, body: json({ type: "ADD", quantity: 0, reason: "r" }) },
  { name: "an unknown field", fast: false, headers: { ...writer, "idempotency-key": "k14" }, body: json({ type: "ADD", quantity: 1, reason: "r", colour: "red" }) },
  { name: "a body that is not JSON", fast: false, headers: { ...writer, "content-type": "text/plain", "idempotency-key": "k15" }, body: "ADD 1" },
  { name: "a body over the limit", fast: true, headers: { ...writer, "idempotency-key": "k16" }, body: json({ type: "ADD", quantity: 1, reason: "x".repeat(70_000) }) },
  { name: "a streamed body over the limit", fast: true, headers: { ...writer, "idempotency-key": "k16s" }, body: Array.from({ length: 70 }, () => "x".repeat(1_000)) },
  { name: "a streamed body in chunks", fast: true, headers: { ...writer, "idempotency-key": "k16c" }, body: ['{"type":"AD', 'D","quantity":2,', '"reason":"chunked"}'] },
  { name: "a trailing ; in Content-Type", fast: false, headers: { ...writer, "content-type": "application/json;", "idempotency-key": "k18" }, body: json({ type: "ADD", quantity: 1, reason: "r" }) },
  { name: "a Content-Type parameter without a value", fast: false, headers: { ...writer, "content-type": "application/json; charset", "idempotency-key": "k19" }, body: json({ type: "ADD", quantity: 1, reason: "r" }) },
  { name: "a space before the Content-Type parameters", fast: false, headers: { ...writer, "content-type": "application/json ;charset=utf-8", "idempotency-key": "k20" }, body: json({ type: "ADD", quantity: 1, reason: "r" }) },
  { name: "a byte order mark before the body", fast: false, headers: { ...writer, "idempotency-key": "k21" }, body: `\ufeff${json({ type: "ADD", quantity: 1, reason: "bom" })}` },
  { name: "a percent-encoded product id", fast: false, path: (product) => `/v1/products/${product.replace("-", "%2D")}/transactions`, headers: { ...writer, "idempotency-key": "k17" }, body: json({ type: "ADD", quantity: 1, reason: "r" }) },
  { name: "a GET of the same path", fast: false, method: "GET", headers: { authorization: writer.authorization } },
];

function requestFor(product: string, testCase: Case): Request {
  const path = testCase.path?.(product) ?? `/v1/products/${product}/transactions`;
  const body = Array.isArray(testCase.body) ? streamOf(testCase.body) : testCase.body;
  return new Request(`${BASE}${path}`, { method: testCase.method ?? "POST", headers: testCase.headers, body });
}

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

/** What must match: status, the headers clients read, and the body without per-write values. */
async function comparable(response: Response, product: string) {
  const text = await response.text();
  const body: unknown = text === "" ? null : JSON.parse(text.replaceAll(product, "<product>"), (key, value: unknown) =>
    ["id", "created_at", "updated_at", "hash", "prev_hash"].includes(key) && typeof value === "string" ? `<${key}>` : value,
  );
  const request_id = response.headers.get("x-request-id");
  return {
    status: response.status,
    content_type: response.headers.get("content-type"),
    replayed: response.headers.get("idempotent-replayed"),
    www_authenticate: response.headers.get("www-authenticate"),
    request_id: request_id === "trace-1" ? request_id : request_id === null ? null : "<generated>",
    body,
  };
}

describe("the write fast path", () => {
  it("answers as the app does, and answers only the cases meant for it", async () => {
    const [viaEntry, viaApp, viaFastPath] = [freshProductId("fast-entry"), freshProductId("fast-app"), freshProductId("fast-direct")];
    const app = createApp();
    let written = 0;
    for (const testCase of CASES) {
      const entry = await worker.fetch(requestFor(viaEntry, testCase), env, createExecutionContext());
      const appOnly = await app.fetch(requestFor(viaApp, testCase), env, createExecutionContext());
      const handled = await writeFastPath(requestFor(viaFastPath, testCase), env);
      expect(handled instanceof Response, `${testCase.name}: answered by the fast path`).toBe(testCase.fast);
      const direct = handled instanceof Response ? handled : await app.fetch(handled, env, createExecutionContext());

      const expected = await comparable(appOnly, viaApp);
      if (expected.status === 201) written += 1;
      expect(await comparable(entry, viaEntry), testCase.name).toStrictEqual(expected);
      expect(await comparable(direct, viaFastPath), testCase.name).toStrictEqual(expected);
    }
    // And the three ledgers hold the same rows.
    const ledgers = await Promise.all(
      [viaEntry, viaApp, viaFastPath].map(async (product) => {
        const response = await app.fetch(new Request(`${BASE}/v1/products/${product}/transactions`, { headers: { authorization: writer.authorization } }), env, createExecutionContext());
        return comparable(response, product);
      }),
    );
    expect(ledgers[0]).toStrictEqual(ledgers[1]);
    expect(ledgers[2]).toStrictEqual(ledgers[1]);
    expect((ledgers[1]!.body as { data: unknown[] }).data).toHaveLength(written);
    expect(written).toBeGreaterThanOrEqual(8);
  });
});
