// Request validation at the HTTP edge: the problem details of every refusal, and the path, header, query or body field each names.
import { describe, expect, it } from "vitest";
import { call, freshKey, freshProductId, postRaw, postTransaction, transactionsPath } from "../helpers/http";
import { expectProblem, type Problem } from "../helpers/wire";

const PROBLEM_JSON = /^application\/problem\+json\b/;

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

/** POST a JSON body exactly as given (no default reason added). */
function postBody(product_id: string, body: unknown, headers: Record<string, string> = {}) {
  return call("POST", transactionsPath(product_id), { role: "writer", body, headers: { "idempotency-key": freshKey(), ...headers } });
}

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
