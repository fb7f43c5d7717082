// The body a request may carry: JSON of the right kind and media type, at most 64 KiB however it is sent, on every route.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, freshKey, freshProductId, postRaw, postTransaction, transactionsPath } from "../helpers/http";
import { TEST_TOKENS } from "../helpers/tokens";
import { expectProblem } from "../helpers/wire";

describe("request validation", () => {
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
