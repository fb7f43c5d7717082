// Black-box tests of the HTTP edge: authentication and roles, fail-closed configuration,
// problem details, request validation, body guards, request ids, health and the OpenAPI document.
// Storage is shared by the tests of this file, so every test uses its own product id.
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { BASE, call, freshKey, freshProductId, postTransaction } from "../helpers/http";
import { TEST_TOKENS, TEST_WEBHOOK_SECRETS } from "../helpers/tokens";
import { sign } from "../helpers/webhooks";
import { expectProblem, type Problem } from "../helpers/wire";

const PROBLEM_JSON = /^application\/problem\+json\b/;

/** Asserts the RFC 9457 shape, the status and the code; returns the parsed problem. */
/** The paths listed in an invalid_request problem's `errors`, after checking each entry's shape. */
function errorPaths(problem: Problem): string[] {
  expect(Array.isArray(problem.errors)).toBe(true);
  const errors = problem.errors ?? [];
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(typeof error.path).toBe("string");
    expect(typeof error.message).toBe("string");
  }
  return errors.map((error) => error.path);
}

function transactionsPath(product_id: string): string {
  return `/v1/products/${encodeURIComponent(product_id)}/transactions`;
}

/** POST a raw body to a product's transactions with a writer token and a fresh key. */
function postRaw(product_id: string, rawBody: string, contentType: string | null, headers: Record<string, string> = {}) {
  const all: Record<string, string> = { "idempotency-key": freshKey(), ...headers };
  if (contentType !== null) all["content-type"] = contentType;
  return call("POST", transactionsPath(product_id), { role: "writer", rawBody, headers: all });
}

/** POST a JSON body exactly as given (no default reason added). */
function postBody(product_id: string, body: unknown, headers: Record<string, string> = {}) {
  return call("POST", transactionsPath(product_id), { role: "writer", body, headers: { "idempotency-key": freshKey(), ...headers } });
}

describe("authentication", () => {
  it("answers 401 unauthorized with WWW-Authenticate and problem+json when no token is sent", async () => {
    const response = await call("GET", `/v1/products/${freshProductId()}/stock`, { role: null });
    expect(response.headers.get("www-authenticate") ?? "").toMatch(/^Bearer\b/i);
    await expectProblem(response, 401, "unauthorized");
  });

  it("answers 401 unauthorized when the bearer token is not configured", async () => {
    const response = await call("GET", `/v1/products/${freshProductId()}/stock`, {
      role: null,
      headers: { authorization: "Bearer not-a-configured-token" },
    });
    expect(response.headers.get("www-authenticate") ?? "").toMatch(/^Bearer\b/i);
    await expectProblem(response, 401, "unauthorized");
  });

  it.each([
    ["a Basic scheme", `Basic ${btoa("test-admin:test-admin-token")}`],
    ["the bare word Bearer", "Bearer"],
    ["Bearer with no space before the token", `Bearer${TEST_TOKENS.admin.token}`],
    ["two tokens", `Bearer ${TEST_TOKENS.admin.token} ${TEST_TOKENS.admin.token}`],
    ["a token with no scheme", TEST_TOKENS.admin.token],
  ])("answers 401 unauthorized to a malformed Authorization header (%s)", async (_label, authorization) => {
    const response = await call("GET", `/v1/products/${freshProductId()}/stock`, { role: null, headers: { authorization } });
    expect(response.headers.get("www-authenticate") ?? "").toMatch(/^Bearer\b/i);
    await expectProblem(response, 401, "unauthorized");
  });

  it("answers 403 forbidden when a reader posts a transaction, and writes nothing", async () => {
    const product = freshProductId();
    const response = await postTransaction(product, { type: "ADD", quantity: 1 }, { role: "reader" });
    await expectProblem(response, 403, "forbidden");
    const stock = await call("GET", `/v1/products/${product}/stock`, { role: "reader" });
    expect(((await stock.json()) as { version: number }).version).toBe(0);
  });

  it.each([
    ["reader", 200, 403],
    ["writer", 200, 201],
    ["admin", 200, 201],
  ] as const)("lets a %s read stock and history, and answers %i / %i to its reads / write", async (role, readStatus, writeStatus) => {
    const product = freshProductId();
    expect((await call("GET", `/v1/products/${product}/stock`, { role })).status).toBe(readStatus);
    expect((await call("GET", `/v1/products/${product}/transactions`, { role })).status).toBe(readStatus);
    expect((await call("GET", `/v1/stock?product_ids=${product}`, { role })).status).toBe(readStatus);
    const write = await call("POST", transactionsPath(product), {
      role,
      headers: { "idempotency-key": freshKey() },
      body: { type: "ADD", quantity: 1, reason: "role-matrix" },
    });
    expect(write.status).toBe(writeStatus);
  });
});

describe("fail closed when API_KEYS is missing or malformed", () => {
  async function fetchWith(apiKeys: unknown, method: string, path: string, init: { token?: string; body?: unknown } = {}) {
    const headers = new Headers();
    if (init.token !== undefined) headers.set("authorization", `Bearer ${init.token}`);
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers.set("content-type", "application/json");
      headers.set("idempotency-key", freshKey());
    }
    const request = new Request(`${BASE}${path}`, { method, headers, body });
    const brokenEnv = { ...env, API_KEYS: apiKeys } as unknown as Env;
    return worker.fetch(request, brokenEnv, createExecutionContext());
  }

  it("serves the admin token normally when the configured env is passed (control)", async () => {
    const product = freshProductId();
    const response = await fetchWith(env.API_KEYS, "GET", `/v1/products/${product}/stock`, { token: TEST_TOKENS.admin.token });
    expect(response.status).toBe(200);
  });

  it.each([
    ["absent", undefined],
    ["not JSON", "not json"],
    ["an empty list", "[]"],
    ["an empty string", ""],
    ["JSON of the wrong shape", JSON.stringify({ principal: "x", role: "admin" })],
    // The configured keys, each principal with an unpaired surrogate appended.
    [
      "a principal that is not valid Unicode",
      JSON.stringify(
        (JSON.parse(env.API_KEYS as string) as { principal: string }[]).map((key) => ({ ...key, principal: `${key.principal}\ud800` })),
      ),
    ],
  ])("refuses every /v1 request with 401 while API_KEYS is %s, and /healthz still answers 200", async (_label, apiKeys) => {
    const product = freshProductId();
    const token = TEST_TOKENS.admin.token;
    const attempts = [
      await fetchWith(apiKeys, "GET", `/v1/products/${product}/stock`, { token }),
      await fetchWith(apiKeys, "GET", `/v1/products/${product}/transactions`, { token }),
      await fetchWith(apiKeys, "GET", `/v1/stock?product_ids=${product}`, { token }),
      await fetchWith(apiKeys, "POST", transactionsPath(product), { token, body: { type: "ADD", quantity: 1, reason: "fail-closed" } }),
      await fetchWith(apiKeys, "GET", `/v1/no-such-route`, { token }),
      await fetchWith(apiKeys, "GET", `/v1/products/${product}/stock`),
    ];
    // A webhook needs no token, but a correctly signed one is refused all the same.
    const event = JSON.stringify({
      type: "stock.received",
      data: { product_id: product, quantity: 1, reference: `fail-closed-${product}` },
    });
    const id = `msg_${crypto.randomUUID()}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const webhook = new Request(`${BASE}/v1/webhooks/test-oms`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await sign(TEST_WEBHOOK_SECRETS.primary, id, timestamp, event),
      },
      body: event,
    });
    attempts.push(await worker.fetch(webhook, { ...env, API_KEYS: apiKeys } as unknown as Env, createExecutionContext()));
    for (const response of attempts) {
      await expectProblem(response, 401, "unauthorized");
      expect(response.headers.get("x-request-id")).toBeTruthy();
    }
    const health = await fetchWith(apiKeys, "GET", "/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    // Nothing was written by the refused POST or the refused webhook.
    const stock = await call("GET", `/v1/products/${product}/stock`, { role: "reader" });
    expect(((await stock.json()) as { version: number }).version).toBe(0);
  });
});

describe("problem details", () => {
  it("gives every error the RFC 9457 fields type, title, status, detail and code, with status equal to the HTTP status", async () => {
    const product = freshProductId();
    const responses = [
      await call("GET", `/v1/products/${product}/stock`, { role: null }),
      await postTransaction(product, { type: "ADD", quantity: 1 }, { role: "reader" }),
      await call("GET", "/no-such-route", { role: null }),
      await postTransaction(product, { type: "REMOVE", quantity: 1 }),
      await postTransaction(product, { type: "ADD", quantity: 0 }),
    ];
    for (const response of responses) {
      expect(response.headers.get("content-type") ?? "").toMatch(PROBLEM_JSON);
      const problem = (await response.json()) as Problem;
      expect(problem.status).toBe(response.status);
      for (const field of ["type", "title", "detail", "code"] as const) {
        expect(typeof problem[field]).toBe("string");
        expect((problem[field] as string).length).toBeGreaterThan(0);
      }
      expect(problem.code).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
    }
  });

  it("answers an unknown route with a 404 not_found problem", async () => {
    await expectProblem(await call("GET", "/no-such-route", { role: null }), 404, "not_found");
    await expectProblem(await call("GET", "/v1/no-such-route", { role: "admin" }), 404, "not_found");
  });
});

describe("request validation", () => {
  it("lists body.quantity and body.reason in errors when both are bad", async () => {
    const problem = await expectProblem(await postBody(freshProductId(), { type: "ADD", quantity: 0 }), 400, "invalid_request");
    const paths = errorPaths(problem);
    expect(paths).toContain("body.quantity");
    expect(paths).toContain("body.reason");
  });

  it("lists query.limit in errors for a history limit out of range", async () => {
    const response = await call("GET", `/v1/products/${freshProductId()}/transactions?limit=0`, { role: "reader" });
    expect(errorPaths(await expectProblem(response, 400, "invalid_request"))).toContain("query.limit");
  });

  it("lists path.product_id in errors for a bad product id in the path", async () => {
    const response = await call("GET", "/v1/products/-bad/stock", { role: "reader" });
    expect(errorPaths(await expectProblem(response, 400, "invalid_request"))).toContain("path.product_id");
  });

  it("lists header.idempotency-key in errors and answers invalid_request for a 256-character Idempotency-Key", async () => {
    const response = await postTransaction(freshProductId(), { type: "ADD", quantity: 1 }, { key: "k".repeat(256) });
    expect(errorPaths(await expectProblem(response, 400, "invalid_request"))).toContain("header.idempotency-key");
  });

  it("accepts an Idempotency-Key of exactly 255 characters", async () => {
    const key = `${crypto.randomUUID()}-`.padEnd(255, "k");
    const response = await postTransaction(freshProductId(), { type: "ADD", quantity: 1 }, { key });
    expect(response.status).toBe(201);
  });

  it("answers 400 idempotency_key_required when a write has no Idempotency-Key", async () => {
    const product = freshProductId();
    const response = await call("POST", transactionsPath(product), {
      role: "writer",
      body: { type: "ADD", quantity: 1, reason: "no-key" },
    });
    await expectProblem(response, 400, "idempotency_key_required");
  });

  it.each([
    ["starts with a dash", "-bad"],
    ["is 129 characters long", "a".repeat(129)],
    ["contains a space", "sku 1"],
    ["contains a # character", "sku#1"],
  ])("answers 400 to a product id in the path that %s", async (_label, product) => {
    const read = await call("GET", `/v1/products/${encodeURIComponent(product)}/stock`, { role: "reader" });
    await expectProblem(read, 400, "invalid_request");
    const write = await postTransaction(product, { type: "ADD", quantity: 1 });
    await expectProblem(write, 400, "invalid_request");
  });

  it("accepts a product id of exactly 128 allowed characters", async () => {
    const product = `A${crypto.randomUUID()}._:@~-`.padEnd(128, "z");
    expect(product.length).toBe(128);
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    expect((await call("GET", `/v1/products/${encodeURIComponent(product)}/stock`, { role: "reader" })).status).toBe(200);
  });

  it.each([
    ["zero", 0],
    ["above one billion", 1_000_000_001],
    ["fractional", 1.5],
    ["negative", -1],
    ["a string", "5"],
  ])("answers 400 invalid_request on body.quantity when the quantity is %s", async (_label, quantity) => {
    const response = await postBody(freshProductId(), { type: "ADD", quantity, reason: "bad-quantity" });
    expect(errorPaths(await expectProblem(response, 400, "invalid_request"))).toContain("body.quantity");
  });

  it("accepts the quantity bounds 1 and 1,000,000,000", async () => {
    const product = freshProductId();
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    expect((await postTransaction(product, { type: "ADD", quantity: 1_000_000_000 })).status).toBe(201);
  });

  it("accepts metadata of exactly 2 KiB as JSON and refuses 2 KiB plus one byte", async () => {
    const product = freshProductId();
    // {"p":"…"} is 8 bytes plus the padding.
    const fits = { p: "x".repeat(2048 - 8) };
    expect(new TextEncoder().encode(JSON.stringify(fits)).length).toBe(2048);
    expect((await postTransaction(product, { type: "ADD", quantity: 1, metadata: fits })).status).toBe(201);
    const tooBig = { p: "x".repeat(2048 - 7) };
    const response = await postTransaction(product, { type: "ADD", quantity: 1, metadata: tooBig });
    expect(errorPaths(await expectProblem(response, 400, "invalid_request"))).toContain("body.metadata");
  });

  it("refuses metadata that is not a JSON object", async () => {
    const response = await postBody(freshProductId(), { type: "ADD", quantity: 1, reason: "x", metadata: ["a"] });
    expect(errorPaths(await expectProblem(response, 400, "invalid_request"))).toContain("body.metadata");
  });

  it('refuses metadata with a "__proto__" key at any depth, rather than storing it without that key', async () => {
    const product = freshProductId();
    // Raw JSON: in a JavaScript object literal, __proto__ would set the prototype instead.
    for (const metadata of ['{"__proto__":{"x":1},"b":2}', '{"__proto__":{}}', '{"a":[{"b":{"__proto__":1}}]}']) {
      const response = await postRaw(product, `{"type":"ADD","quantity":1,"reason":"x","metadata":${metadata}}`, "application/json");
      expect(errorPaths(await expectProblem(response, 400, "invalid_request")), metadata).toContain("body.metadata");
    }
    const stock = await call("GET", `/v1/products/${product}/stock`, { role: "reader" });
    expect(((await stock.json()) as { version: number }).version).toBe(0);
    // Other keys that mean something to JavaScript objects are ordinary keys, kept as sent.
    const kept = '{"constructor":{"prototype":1},"toString":"x","b":2}';
    const response = await postRaw(product, `{"type":"ADD","quantity":1,"reason":"x","metadata":${kept}}`, "application/json");
    expect(response.status).toBe(201);
    expect(JSON.stringify(((await response.json()) as { transaction: { metadata: unknown } }).transaction.metadata)).toBe(kept);
  });

  it("refuses a body with an unknown field", async () => {
    const response = await postBody(freshProductId(), { type: "ADD", quantity: 1, reason: "x", colour: "red" });
    const paths = errorPaths(await expectProblem(response, 400, "invalid_request"));
    expect(paths.every((path) => path === "body" || path.startsWith("body."))).toBe(true);
  });

  it("refuses an ADJUST that sends quantity instead of on_hand", async () => {
    const product = freshProductId();
    const response = await postBody(product, { type: "ADJUST", quantity: 5, reason: "count" });
    await expectProblem(response, 400, "invalid_request");
    const stock = await call("GET", `/v1/products/${product}/stock`, { role: "reader" });
    expect(((await stock.json()) as { version: number }).version).toBe(0);
  });

  it("refuses a movement that sends on_hand instead of quantity", async () => {
    const response = await postBody(freshProductId(), { type: "ADD", on_hand: 5, reason: "x" });
    await expectProblem(response, 400, "invalid_request");
  });

  it("refuses an unknown transaction type", async () => {
    const response = await postBody(freshProductId(), { type: "STEAL", quantity: 5, reason: "x" });
    await expectProblem(response, 400, "invalid_request");
  });

  it("refuses a reason that is empty or over 200 characters, and accepts 200", async () => {
    const product = freshProductId();
    expect(
      errorPaths(await expectProblem(await postBody(product, { type: "ADD", quantity: 1, reason: "" }), 400, "invalid_request")),
    ).toContain("body.reason");
    const long = await postBody(product, { type: "ADD", quantity: 1, reason: "r".repeat(201) });
    expect(errorPaths(await expectProblem(long, 400, "invalid_request"))).toContain("body.reason");
    expect((await postBody(product, { type: "ADD", quantity: 1, reason: "r".repeat(200) })).status).toBe(201);
  });

  it("refuses a reason or actor holding an unpaired surrogate (SQLite would store it altered, breaking the row's hash), and accepts an emoji pair", async () => {
    const product = freshProductId();
    // JSON.stringify writes the lone surrogate as the escape \ud800, as a client's JSON would.
    const badReason = await postBody(product, { type: "ADD", quantity: 1, reason: "lone\ud800x" });
    expect(errorPaths(await expectProblem(badReason, 400, "invalid_request"))).toContain("body.reason");
    const badActor = await postBody(product, { type: "ADD", quantity: 1, reason: "ok", actor: "\udc00" });
    expect(errorPaths(await expectProblem(badActor, 400, "invalid_request"))).toContain("body.actor");
    const badReservation = await call("POST", "/v1/reservations", {
      role: "writer",
      headers: { "idempotency-key": freshKey() },
      body: { reason: "x\ud83d", lines: [{ product_id: product, quantity: 1 }] },
    });
    expect(errorPaths(await expectProblem(badReservation, 400, "invalid_request"))).toContain("body.reason");
    expect((await postBody(product, { type: "ADD", quantity: 1, reason: "restock \ud83d\udce6", actor: "café ☕" })).status).toBe(201);
    const history = await call("GET", `/v1/products/${product}/transactions`, { role: "reader" });
    const rows = ((await history.json()) as { data: { reason: string; actor: string | null }[] }).data;
    expect(rows.map((row) => [row.reason, row.actor])).toEqual([["restock \u{1F4E6}", "café ☕"]]);
  });

  it("refuses a bad location_id with body.location_id", async () => {
    const response = await postTransaction(freshProductId(), { type: "ADD", quantity: 1, location_id: "-nowhere" });
    expect(errorPaths(await expectProblem(response, 400, "invalid_request"))).toContain("body.location_id");
  });

  it.each([
    ["an array", "[]"],
    ["a string", '"ADD"'],
    ["null", "null"],
    ["an empty body", ""],
  ])("answers 400 invalid_request to a JSON body that is %s", async (_label, raw) => {
    await expectProblem(await postRaw(freshProductId(), raw, "application/json"), 400, "invalid_request");
  });

  it("accepts Content-Type application/json with a charset parameter", async () => {
    const body = JSON.stringify({ type: "ADD", quantity: 1, reason: "charset" });
    expect((await postRaw(freshProductId(), body, "application/json; charset=utf-8")).status).toBe(201);
  });

  it("answers 413 payload_too_large for a JSON body over 64 KiB", async () => {
    const body = JSON.stringify({ type: "ADD", quantity: 1, reason: "big", metadata: { pad: "x".repeat(70 * 1024) } });
    expect(body.length).toBeGreaterThan(64 * 1024);
    await expectProblem(await postRaw(freshProductId(), body, "application/json"), 413, "payload_too_large");
  });

  it("answers 413 on the routes that take no body too (by Content-Length, or counted when sent in chunks), and ignores a body within the limit", async () => {
    const product = freshProductId();
    expect((await postTransaction(product, { type: "ADD", quantity: 5 })).status).toBe(201);
    const big = "x".repeat(64 * 1024 + 1);
    const chunked = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("y".repeat(16 * 1024)));
          controller.close();
        },
      });
    const reserve = async () => {
      const response = await call("POST", "/v1/reservations", {
        role: "writer",
        headers: { "idempotency-key": freshKey() },
        body: { reason: "r", lines: [{ product_id: product, quantity: 1 }] },
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    };
    const post = (path: string, body: string | ReadableStream<Uint8Array>, token: string) =>
      exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "idempotency-key": freshKey(), "content-type": "application/json" },
          body,
          ...(typeof body === "string" ? {} : { duplex: "half" }),
        }),
      );
    const held = await reserve();
    for (const path of [`/v1/reservations/${held}/commit`, `/v1/reservations/${held}/release`]) {
      await expectProblem(await post(path, big, TEST_TOKENS.writer.token), 413, "payload_too_large");
      await expectProblem(await post(path, chunked(), TEST_TOKENS.writer.token), 413, "payload_too_large");
    }
    for (const path of ["/v1/admin/exports", "/v1/admin/reconciliations"]) {
      await expectProblem(await post(path, big, TEST_TOKENS.admin.token), 413, "payload_too_large");
    }
    // Refused before anything happened: the reservation is still held. A small body is ignored.
    expect(((await (await call("GET", `/v1/reservations/${held}`, { role: "reader" })).json()) as { status: string }).status).toBe("held");
    const committed = await post(`/v1/reservations/${held}/commit`, '{"note":"ignored"}', TEST_TOKENS.writer.token);
    expect(committed.status).toBe(200);
    expect(((await committed.json()) as { status: string }).status).toBe("committed");
  });

  it("reads an oversized chunked body on to its end before the 413 (so a proxy still sending it keeps its connection), on every route", async () => {
    // How much is read past the limit, and where it stops, is pinned in test/unit/read-body.test.ts.
    const CHUNK = 16 * 1024;
    /** A chunked body of `chunks` × 16 KiB, made as it is pulled; says how far it was read. */
    const counted = (chunks: number) => {
      const seen = { pulled: 0 };
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (seen.pulled === chunks) return controller.close();
          seen.pulled++;
          controller.enqueue(new Uint8Array(CHUNK).fill(0x79));
        },
      });
      return { stream, seen };
    };
    const send = (path: string, stream: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
      exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${TEST_TOKENS.admin.token}`,
            "idempotency-key": freshKey(),
            "content-type": "application/json",
            ...headers,
          },
          body: stream,
          duplex: "half",
        } as RequestInit),
      );
    // The fast path (transactions), the app's JSON guard, a route without a body, and webhooks (256 KiB).
    for (const [path, chunks] of [
      [transactionsPath(freshProductId()), 10],
      ["/v1/reservations", 10],
      ["/v1/admin/exports", 10],
      ["/v1/webhooks/test-oms", 30],
    ] as const) {
      const body = counted(chunks);
      await expectProblem(await send(path, body.stream), 413, "payload_too_large");
      expect(body.seen.pulled, path).toBe(chunks);
    }
  });

  it("takes a chunked body of exactly 64 KiB and refuses one of 64 KiB + 1 byte, through the fast path and through the app", async () => {
    const product = freshProductId();
    /** Valid JSON padded with spaces to exactly `bytes`, sent in 1,000-byte chunks without a length. */
    const paddedChunked = (json: string, bytes: number) => {
      const text = json + " ".repeat(bytes - json.length);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < text.length; at += 1_000) controller.enqueue(new TextEncoder().encode(text.slice(at, at + 1_000)));
          controller.close();
        },
      });
    };
    const send = (path: string, body: ReadableStream<Uint8Array>) =>
      exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${TEST_TOKENS.writer.token}`,
            "idempotency-key": freshKey(),
            "content-type": "application/json",
          },
          body,
          duplex: "half",
        } as RequestInit),
      );
    const write = '{"type":"ADD","quantity":1,"reason":"exact"}';
    expect((await send(transactionsPath(product), paddedChunked(write, 64 * 1024))).status).toBe(201);
    await expectProblem(await send(transactionsPath(product), paddedChunked(write, 64 * 1024 + 1)), 413, "payload_too_large");
    const hold = JSON.stringify({ reason: "exact", lines: [{ product_id: product, quantity: 1 }] });
    const held = await send("/v1/reservations", paddedChunked(hold, 64 * 1024));
    expect(held.status).toBe(201);
    await expectProblem(await send("/v1/reservations", paddedChunked(hold, 64 * 1024 + 1)), 413, "payload_too_large");
    // A small chunked body on a route that takes none is read, then ignored.
    const id = ((await held.json()) as { id: string }).id;
    const committed = await send(`/v1/reservations/${id}/commit`, paddedChunked("{}", 100));
    expect(committed.status).toBe(200);
    expect(((await committed.json()) as { status: string }).status).toBe("committed");
  });

  it("counts a body whose Content-Length is not a plain number, instead of trusting it, through the fast path and the app", async () => {
    for (const [path, declared] of [
      [transactionsPath(freshProductId()), "abc"],
      [transactionsPath(freshProductId()), "65537, 65537"],
      ["/v1/reservations", "abc"],
      ["/v1/reservations", "65537, 65537"],
    ] as const) {
      const response = await exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${TEST_TOKENS.writer.token}`,
            "idempotency-key": freshKey(),
            "content-type": "application/json",
            "content-length": declared,
          },
          body: "x".repeat(70 * 1024),
        }),
      );
      await expectProblem(response, 413, "payload_too_large");
    }
  });

  it("answers 415 unsupported_media_type for a text/plain body", async () => {
    const body = JSON.stringify({ type: "ADD", quantity: 1, reason: "plain" });
    await expectProblem(await postRaw(freshProductId(), body, "text/plain"), 415, "unsupported_media_type");
  });

  it("answers 400 invalid_request for malformed JSON", async () => {
    const product = freshProductId();
    await expectProblem(await postRaw(product, '{"type":"ADD","quantity":1,', "application/json"), 400, "invalid_request");
    const stock = await call("GET", `/v1/products/${product}/stock`, { role: "reader" });
    expect(((await stock.json()) as { version: number }).version).toBe(0);
  });
});

describe("request ids", () => {
  it("puts X-Request-Id on every response, success or error", async () => {
    const product = freshProductId();
    const responses = [
      await call("GET", "/healthz", { role: null }),
      await call("GET", "/openapi.json", { role: null }),
      await postTransaction(product, { type: "ADD", quantity: 1 }),
      await call("GET", `/v1/products/${product}/stock`, { role: "reader" }),
      await call("GET", `/v1/products/${product}/stock`, { role: "reader", headers: { "if-none-match": '"1"' } }),
      await call("GET", `/v1/products/${product}/stock`, { role: null }),
      await postTransaction(product, { type: "ADD", quantity: 1 }, { role: "reader" }),
      await call("GET", "/no-such-route", { role: null }),
      await call("GET", "/v1/no-such-route", { role: "admin" }),
      await postTransaction(product, { type: "ADD", quantity: 0 }),
      await postTransaction(product, { type: "REMOVE", quantity: 5 }),
      await postRaw(product, "x", "text/plain"),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 200, 201, 200, 304, 401, 403, 404, 404, 400, 409, 415]);
    for (const response of responses) {
      const id = response.headers.get("x-request-id");
      expect(id).toBeTruthy();
      expect(id!.length).toBeLessThanOrEqual(128);
    }
    const ids = responses.map((response) => response.headers.get("x-request-id"));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("echoes a valid incoming X-Request-Id on success and on error", async () => {
    const id = `req-${crypto.randomUUID()}.a:b_c`;
    const ok = await call("GET", "/healthz", { role: null, headers: { "x-request-id": id } });
    expect(ok.headers.get("x-request-id")).toBe(id);
    const unauthorized = await call("GET", `/v1/products/${freshProductId()}/stock`, { role: null, headers: { "x-request-id": id } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("x-request-id")).toBe(id);
    const notFound = await call("GET", "/no-such-route", { role: null, headers: { "x-request-id": id } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("x-request-id")).toBe(id);
  });

  it.each([
    ["contains spaces", "my request id"],
    ["is 200 characters long", "r".repeat(200)],
    ["contains angle brackets", "id<script>"],
  ])("replaces an incoming X-Request-Id that %s", async (_label, incoming) => {
    for (const response of [
      await call("GET", "/healthz", { role: null, headers: { "x-request-id": incoming } }),
      await call("GET", "/no-such-route", { role: null, headers: { "x-request-id": incoming } }),
    ]) {
      const id = response.headers.get("x-request-id");
      expect(id).toBeTruthy();
      expect(id).not.toBe(incoming);
      expect(id!.length).toBeLessThanOrEqual(128);
      expect(id).not.toMatch(/\s/);
    }
  });
});

describe("health and OpenAPI", () => {
  it("answers GET /healthz without auth with 200 {ok: true}", async () => {
    const response = await call("GET", "/healthz", { role: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("serves an OpenAPI 3.1.0 document without auth that lists every route and method", async () => {
    const response = await call("GET", "/openapi.json", { role: null });
    expect(response.status).toBe(200);
    type Operation = {
      parameters?: { in: string; name: string; required?: boolean; schema: { type: unknown; default?: unknown } }[];
      requestBody?: unknown;
      responses: Record<string, unknown>;
    };
    const doc = (await response.json()) as { openapi: string; paths: Record<string, Record<string, Operation>> };
    expect(doc.openapi).toBe("3.1.0");
    // Every route of API.md, and nothing else.
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      [
        "GET /healthz",
        "GET /openapi.json",
        "POST /v1/products/{product_id}/transactions",
        "GET /v1/products/{product_id}/transactions",
        "GET /v1/products/{product_id}/stock",
        "GET /v1/stock",
        "GET /v1/products/{product_id}/verify",
        "POST /v1/reservations",
        "GET /v1/reservations/{id}",
        "POST /v1/reservations/{id}/commit",
        "POST /v1/reservations/{id}/release",
        "POST /v1/transactions/batch",
        "GET /v1/audit/transactions",
        "GET /v1/audit/summary",
        "POST /v1/admin/exports",
        "GET /v1/admin/exports",
        "GET /v1/admin/exports/{run_id}",
        "POST /v1/admin/reconciliations",
        "GET /v1/admin/reconciliations",
        "GET /v1/admin/reconciliations/{id}",
        "POST /v1/webhooks/{source_id}",
        "GET /v1/admin/webhooks",
      ].sort(),
    );
    // Any /v1 route may answer 500 internal_error.
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path.startsWith("/v1/"))
        for (const operation of Object.values(methods)) expect(Object.keys(operation.responses), path).toContain("500");
    }
    // Whole-number query parameters are integers, not integer-or-null.
    const query = (path: string) =>
      Object.fromEntries((doc.paths[path]!.get!.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p.schema.type]));
    expect(query("/v1/products/{product_id}/transactions")).toMatchObject({ after: "integer", limit: "integer" });
    expect(query("/v1/products/{product_id}/stock")).toMatchObject({ at_version: "integer" });
    // ...and their defaults are documented.
    const defaults = (path: string) =>
      Object.fromEntries(
        (doc.paths[path]!.get!.parameters ?? [])
          .filter((p) => p.in === "query" && p.schema.default !== undefined)
          .map((p) => [p.name, p.schema.default]),
      );
    expect(defaults("/v1/products/{product_id}/transactions")).toEqual({ after: 0, limit: 100 });
    expect(defaults("/v1/audit/transactions")).toEqual({ limit: 100 });
    expect(defaults("/v1/admin/exports")).toEqual({ limit: 20 });
    expect(defaults("/v1/admin/reconciliations")).toEqual({ limit: 20 });
    expect(defaults("/v1/admin/webhooks")).toEqual({ limit: 50 });
    // A webhook's signature headers and body are documented, though not validated by the framework.
    const webhook = doc.paths["/v1/webhooks/{source_id}"]!.post!;
    expect(
      webhook
        .parameters!.filter((p) => p.in === "header" && p.required)
        .map((p) => p.name)
        .sort(),
    ).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
    expect(webhook.requestBody).toMatchObject({
      required: true,
      content: { "application/json": { schema: { required: ["type", "data"] } } },
    });
    expect(webhook.responses["503"]).toMatchObject({ headers: { "Retry-After": { schema: { type: "integer" } } } });
  });
});

describe("whole numbers in query strings", () => {
  // Each route's integer parameters, with values Number() would take but a client did not mean.
  it.each([
    ["/v1/audit/transactions?limit="],
    ["/v1/audit/transactions?limit=1e1"],
    ["/v1/admin/exports?limit=0x5"],
    ["/v1/admin/reconciliations?limit=%2B3"],
    ["/v1/admin/webhooks?limit=1.0"],
    ["/v1/admin/webhooks?after="],
    ["/v1/admin/webhooks?after=0x10"],
    ["/v1/products/sku-1/transactions?limit=9007199254740992"],
  ])("answers 400 invalid_request to %s", async (path) => {
    const problem = await expectProblem(await call("GET", path, { role: "admin" }), 400, "invalid_request");
    // One error for the one bad value.
    expect(errorPaths(problem)).toHaveLength(1);
  });

  it("takes plain digits, leading zeros included", async () => {
    for (const path of ["/v1/audit/transactions?limit=010", "/v1/admin/exports?limit=5", "/v1/admin/webhooks?after=1&limit=2"]) {
      expect((await call("GET", path, { role: "admin" })).status, path).toBe(200);
    }
  });
});

describe("metadata nested too deep to measure", () => {
  it("answers 400 invalid_request, not 500, for metadata nested thousands of levels deep", async () => {
    const deep = `{"m":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const response = await call("POST", `/v1/products/${freshProductId()}/transactions`, {
      role: "writer",
      headers: { "idempotency-key": freshKey(), "content-type": "application/json" },
      rawBody: `{"type":"ADD","quantity":1,"reason":"r","metadata":${deep}}`,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("invalid_request");
  });
});
