// Authentication and roles at the HTTP edge, and failing closed while API_KEYS is missing or malformed.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { BASE, call, freshKey, freshProductId, postTransaction, transactionsPath } from "../helpers/http";
import { TEST_TOKENS, TEST_WEBHOOK_SECRETS } from "../helpers/tokens";
import { sign } from "../helpers/webhooks";
import { expectProblem } from "../helpers/wire";

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
