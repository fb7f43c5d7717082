// Standard Webhooks verification (src/webhooks/signature.ts), checked against signatures made by
// the official `standardwebhooks` package, not by the code under test.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { base64ToBytes } from "../../src/lib/bytes";
import { WEBHOOK_SIGNATURES_CHECKED_MAX, WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS } from "../../src/limits";
import { type SignedHeaders, verifySignature } from "../../src/webhooks/signature";

const SECRET = `whsec_${btoa("unit-test-webhook-secret-000001")}`;
const OTHER_SECRET = `whsec_${btoa("unit-test-webhook-secret-000002")}`;
const keyOf = (secret: string) => base64ToBytes(secret.slice("whsec_".length));
const NOW = 1_780_000_000;
const body = '{"type":"stock.received","data":{"product_id":"sku-1","quantity":1,"reference":"po-1"}}';
const bytes = new TextEncoder().encode(body);

function signed(secret = SECRET, id = "msg_1", timestamp = NOW, payload = body): SignedHeaders {
  return { id, timestamp: String(timestamp), signature: new Webhook(secret).sign(id, new Date(timestamp * 1000), payload) };
}

describe("verifySignature", () => {
  it("accepts a signature made by the standardwebhooks package with the source's key", async () => {
    expect(await verifySignature([keyOf(SECRET)], signed(), bytes, NOW)).toBe(true);
  });

  it("accepts a signature by any of the source's keys (rotation)", async () => {
    expect(await verifySignature([keyOf(OTHER_SECRET), keyOf(SECRET)], signed(), bytes, NOW)).toBe(true);
  });

  it("refuses a signature by a key the source does not have", async () => {
    expect(await verifySignature([keyOf(SECRET)], signed(OTHER_SECRET), bytes, NOW)).toBe(false);
  });

  it("refuses a body changed after signing, and a signature of another id or timestamp", async () => {
    expect(await verifySignature([keyOf(SECRET)], signed(), new TextEncoder().encode(`${body} `), NOW)).toBe(false);
    expect(await verifySignature([keyOf(SECRET)], { ...signed(), id: "msg_2" }, bytes, NOW)).toBe(false);
    expect(await verifySignature([keyOf(SECRET)], { ...signed(), timestamp: String(NOW + 1) }, bytes, NOW)).toBe(false);
  });

  it("accepts a timestamp up to the tolerance away from now, on either side, and refuses one beyond it", async () => {
    const tolerance = WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS;
    expect(await verifySignature([keyOf(SECRET)], signed(SECRET, "msg_1", NOW - tolerance), bytes, NOW)).toBe(true);
    expect(await verifySignature([keyOf(SECRET)], signed(SECRET, "msg_1", NOW + tolerance), bytes, NOW)).toBe(true);
    expect(await verifySignature([keyOf(SECRET)], signed(SECRET, "msg_1", NOW - tolerance - 1), bytes, NOW)).toBe(false);
    expect(await verifySignature([keyOf(SECRET)], signed(SECRET, "msg_1", NOW + tolerance + 1), bytes, NOW)).toBe(false);
  });

  it("finds the valid entry among several space-separated ones, ignoring other versions and garbage", async () => {
    const good = signed();
    const noise = `v1a,${good.signature!.slice(3)} v2,abc v1,!!notbase64!! ${signed(OTHER_SECRET).signature}`;
    expect(await verifySignature([keyOf(SECRET)], { ...good, signature: `${noise} ${good.signature}` }, bytes, NOW)).toBe(true);
    expect(await verifySignature([keyOf(SECRET)], { ...good, signature: noise }, bytes, NOW)).toBe(false);
  });

  it(`checks at most ${WEBHOOK_SIGNATURES_CHECKED_MAX} v1 entries: a valid one after them is not looked at`, async () => {
    const good = signed();
    const wrong = signed(OTHER_SECRET).signature!;
    const within = [...Array(WEBHOOK_SIGNATURES_CHECKED_MAX - 1).fill(wrong), good.signature].join(" ");
    const beyond = [...Array(WEBHOOK_SIGNATURES_CHECKED_MAX).fill(wrong), good.signature].join(" ");
    expect(await verifySignature([keyOf(SECRET)], { ...good, signature: within }, bytes, NOW)).toBe(true);
    expect(await verifySignature([keyOf(SECRET)], { ...good, signature: beyond }, bytes, NOW)).toBe(false);
  });

  it("refuses missing or malformed headers before computing anything", async () => {
    const good = signed();
    for (const headers of [
      { ...good, id: undefined },
      { ...good, id: "" },
      { ...good, id: "x".repeat(256) },
      { ...good, timestamp: undefined },
      { ...good, timestamp: "1e9" },
      { ...good, timestamp: "-5" },
      { ...good, signature: undefined },
      { ...good, signature: "" },
    ]) {
      expect(await verifySignature([keyOf(SECRET)], headers, bytes, NOW)).toBe(false);
    }
  });

  it("refuses everything when the source has no keys", async () => {
    expect(await verifySignature([], signed(), bytes, NOW)).toBe(false);
  });
});
