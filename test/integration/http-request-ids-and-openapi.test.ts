// X-Request-Id on every response, the health check, and the OpenAPI document that lists every route.
import { describe, expect, it } from "vitest";
import { call, freshProductId, postRaw, postTransaction } from "../helpers/http";

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
        "GET /v1/products",
        "GET /v1/products/{product_id}/settings",
        "PUT /v1/products/{product_id}/settings",
        "GET /v1/products/{product_id}/events",
        "POST /v1/subscriptions",
        "GET /v1/subscriptions",
        "GET /v1/subscriptions/{id}",
        "DELETE /v1/subscriptions/{id}",
        "POST /v1/subscriptions/{id}/rotate-secret",
        "GET /v1/subscriptions/{id}/deliveries",
        "POST /v1/subscriptions/{id}/deliveries/{event_id}/retry",
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
