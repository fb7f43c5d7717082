// The subscription endpoints (API.md, "Subscriptions"): create with a secret shown once, list,
// read, delete, rotate; the URL rules and the body's limits; admin only. And the OpenAPI
// document's `webhooks`, one per event type, from the same schemas.
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/ledger/events";
import { call, freshProductId } from "../helpers/http";
import { newReceiver, subscriptionOf } from "../helpers/receiver";
import { expectProblem } from "../helpers/wire";

const create = (body: unknown, role: "admin" | "writer" = "admin") => call("POST", "/v1/subscriptions", { role, body });

describe("POST /v1/subscriptions", () => {
  it("answers 201 with the subscription and its whsec_ secret, which no later answer shows", async () => {
    const { url } = newReceiver();
    const product = freshProductId("api");
    const response = await create({ url, event_types: ["stock.out"], product_ids: [product], description: "back office" });
    expect(response.status).toBe(201);
    const created = (await response.json()) as Record<string, unknown>;
    expect(created).toMatchObject({
      url,
      event_types: ["stock.out"],
      product_ids: [product],
      description: "back office",
      status: "active",
      disabled_reason: null,
    });
    expect(created.id).toMatch(/^sub_[0-9a-f]{32}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const read = await subscriptionOf(String(created.id));
    expect(read.status).toBe(200);
    const { secret: _secret, ...withoutSecret } = created;
    expect(read.body).toEqual(withoutSecret);
    const listed = (await (await call("GET", "/v1/subscriptions?limit=100")).json()) as { data: Record<string, unknown>[] };
    const row = listed.data.find((entry) => entry.id === created.id);
    expect(row).toEqual(withoutSecret);
  });

  it("takes every product when product_ids is null or left out", async () => {
    const { url } = newReceiver();
    const created = (await (await create({ url, event_types: ["stock.low"] })).json()) as { product_ids: unknown; id: string };
    expect(created.product_ids).toBeNull();
    expect((await call("DELETE", `/v1/subscriptions/${created.id}`)).status).toBe(204);
  });

  it("refuses URLs that are not https to a public host with 400 subscription_url_refused at body.url", async () => {
    for (const url of [
      "http://example.com/hook",
      "https://10.0.0.1/",
      "https://[::1]/",
      "https://user:pw@example.com/",
      "https://localhost/",
      "https://2130706433/",
      "http://127.0.0.1/no-port",
    ]) {
      const problem = await expectProblem(await create({ url, event_types: ["stock.out"] }), 400, "subscription_url_refused");
      expect(problem.errors?.[0]?.path, url).toBe("body.url");
    }
  });

  it("refuses an empty or repeated list of types, an unknown type, more than 100 products, and unknown fields", async () => {
    const { url } = newReceiver();
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `p-${i}`);
    for (const body of [
      { url, event_types: [] },
      { url, event_types: ["stock.out", "stock.out"] },
      { url, event_types: ["stock.gone"] },
      { url, event_types: ["stock.out"], product_ids: [] },
      { url, event_types: ["stock.out"], product_ids: ids(101) },
      { url, event_types: ["stock.out"], product_ids: ["a", "a"] },
      { url, event_types: ["stock.out"], secret: "mine" },
      { event_types: ["stock.out"] },
    ]) {
      await expectProblem(await create(body), 400, "invalid_request");
    }
    expect((await create({ url, event_types: ["stock.out"], product_ids: ids(100) })).status).toBe(201);
  });

  it("is admin only", async () => {
    const { url } = newReceiver();
    await expectProblem(await create({ url, event_types: ["stock.out"] }, "writer"), 403, "forbidden");
    await expectProblem(await call("GET", "/v1/subscriptions", { role: "reader" }), 403, "forbidden");
  });
});

describe("the other subscription endpoints", () => {
  it("deletes with 204, after which the subscription is 404 everywhere and gone from the list", async () => {
    const { url } = newReceiver();
    const { id } = (await (await create({ url, event_types: ["stock.out"] })).json()) as { id: string };
    expect((await call("DELETE", `/v1/subscriptions/${id}`)).status).toBe(204);
    for (const [method, path] of [
      ["GET", `/v1/subscriptions/${id}`],
      ["DELETE", `/v1/subscriptions/${id}`],
      ["POST", `/v1/subscriptions/${id}/rotate-secret`],
      ["GET", `/v1/subscriptions/${id}/deliveries`],
    ] as const) {
      await expectProblem(await call(method, path), 404, "not_found");
    }
    const listed = (await (await call("GET", "/v1/subscriptions?limit=100")).json()) as { data: { id: string }[] };
    expect(listed.data.some((row) => row.id === id)).toBe(false);
  });

  it("answers 400 to a malformed subscription id and 404 to an unknown one", async () => {
    await expectProblem(await call("GET", "/v1/subscriptions/nope"), 400, "invalid_request");
    await expectProblem(await call("GET", `/v1/subscriptions/sub_${"0".repeat(32)}`), 404, "not_found");
  });
});

describe("the OpenAPI document", () => {
  it("lists every event type under webhooks, with the event's schema and the signature headers", async () => {
    const document = (await (await call("GET", "/openapi.json", { role: null })).json()) as {
      webhooks: Record<
        string,
        {
          post: {
            requestBody: { content: { "application/json": { schema: { properties: Record<string, unknown> } } } };
            parameters: { name: string }[];
          };
        }
      >;
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) {
      const post = document.webhooks[type]!.post;
      expect(Object.keys(post.requestBody.content["application/json"].schema.properties).sort()).toEqual([
        "data",
        "id",
        "occurred_at",
        "product_id",
        "seq",
        "type",
      ]);
      expect(post.parameters.map((parameter) => parameter.name).sort()).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
    }
    for (const path of [
      "/v1/products",
      "/v1/products/{product_id}/settings",
      "/v1/products/{product_id}/events",
      "/v1/subscriptions",
      "/v1/subscriptions/{id}/deliveries/{event_id}/retry",
    ]) {
      expect(document.paths[path], path).toBeDefined();
    }
  });
});
