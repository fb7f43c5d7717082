// readAtMost and readBody: the bytes of a body within its limit, and what is read of one over it.
import { describe, expect, it } from "vitest";
import { ProblemError } from "../../src/http/problem";
import { declaredLength, readAtMost, readBody } from "../../src/http/read-body";
import { OVERSIZED_BODY_DRAIN_BYTES_MAX } from "../../src/limits";

const CHUNK = 16 * 1024;

/**
 * A stream of `chunks` chunks of CHUNK bytes, made only when read (no read-ahead), that counts
 * what was read and whether it was cancelled; it errors instead of giving chunk `failAt`.
 */
function counted(chunks: number, failAt?: number) {
  const seen = { bytes: 0, cancelled: false };
  let made = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (made === failAt) return controller.error(new Error("the client went away"));
        if (made === chunks) return controller.close();
        made++;
        seen.bytes += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(0x41));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

describe("readAtMost", () => {
  it("returns a body of exactly the limit whole, and refuses one byte more", async () => {
    const exact = await readAtMost(counted(4).stream, 4 * CHUNK);
    expect(exact?.byteLength).toBe(4 * CHUNK);
    expect(exact?.every((byte) => byte === 0x41)).toBe(true);
    expect(await readAtMost(counted(4).stream, 4 * CHUNK - 1)).toBeUndefined();
    expect(await readAtMost(null, 10)).toEqual(new Uint8Array(0));
  });

  it("reads an oversized body on to its end when that is within the drain allowance", async () => {
    const { stream, seen } = counted(40);
    expect(await readAtMost(stream, 4 * CHUNK)).toBeUndefined();
    expect(seen).toEqual({ bytes: 40 * CHUNK, cancelled: false });
  });

  it("reads exactly OVERSIZED_BODY_DRAIN_BYTES_MAX past the chunk that passed the limit, then cancels the rest", async () => {
    const { stream, seen } = counted(1_000);
    expect(await readAtMost(stream, 4 * CHUNK)).toBeUndefined();
    // 5 chunks to pass 4 * CHUNK, then the allowance, counted from there.
    expect(seen).toEqual({ bytes: 5 * CHUNK + OVERSIZED_BODY_DRAIN_BYTES_MAX, cancelled: true });
  });

  it("refuses with 400 invalid_request, not an unexpected error, an upload that breaks off within the limit", async () => {
    const failure = await readAtMost(counted(10, 2).stream, 64 * CHUNK).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProblemError);
    expect((failure as ProblemError).problem).toMatchObject({ status: 400, code: "invalid_request", errors: [{ path: "body" }] });
  });

  it("refuses with 400 a body with a declared length that breaks off (read whole by the runtime)", async () => {
    // In-process requests are cut short rather than failed, so this is only reachable here.
    const breaking = new Request("http://x/", {
      method: "POST",
      body: counted(10, 2).stream,
      headers: { "content-length": String(10 * CHUNK) },
      duplex: "half",
    } as RequestInit);
    const failure = await readBody(breaking, 64 * CHUNK).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProblemError);
    expect((failure as ProblemError).problem).toMatchObject({
      status: 400,
      errors: [{ path: "body", message: "the body could not be read to its end" }],
    });
  });

  it("answers undefined (a 413), not an error, when the upload fails while it is being drained", async () => {
    const { stream } = counted(1_000, 10);
    expect(await readAtMost(stream, 4 * CHUNK)).toBeUndefined();
  });
});

describe("declaredLength and readBody", () => {
  it("trusts a Content-Length only in decimal digits and without Transfer-Encoding", () => {
    const length = (headers: Record<string, string>) => declaredLength(new Headers(headers));
    expect(length({ "content-length": "65536" })).toBe(65_536);
    expect(length({ "content-length": "0" })).toBe(0);
    for (const bad of ["abc", "", "-1", "1e3", "65537, 65537", "1234567890123456"])
      expect(length({ "content-length": bad }), bad).toBeUndefined();
    expect(length({ "content-length": "10", "transfer-encoding": "chunked" })).toBeUndefined();
    expect(length({})).toBeUndefined();
  });

  it("reads a declared body whole, and counts one whose Content-Length cannot be trusted", async () => {
    const body = "x".repeat(100);
    expect((await readBody(new Request("http://x/", { method: "POST", body }), 100))?.byteLength).toBe(100);
    expect(await readBody(new Request("http://x/", { method: "POST", body }), 99)).toBeUndefined();
    const untrusted = new Request("http://x/", {
      method: "POST",
      body: counted(10).stream,
      headers: { "content-length": "abc" },
      duplex: "half",
    } as RequestInit);
    expect(await readBody(untrusted, 4 * CHUNK)).toBeUndefined();
  });
});
