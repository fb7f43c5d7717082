// Webhook signatures (API.md "Webhooks in"): the Standard Webhooks signatures, timestamps and sources a delivery is accepted under.
import { describe, expect, it } from "vitest";
import { freshProductId, getStock, historyRows } from "../helpers/http";
import { rawState } from "../helpers/ledger-object";
import { TEST_WEBHOOK_SECRETS } from "../helpers/tokens";
import {
  answerOf,
  type DeliveryPage,
  deliveryById,
  listDeliveries,
  nowSeconds,
  PRIMARY,
  received,
  send,
  sendRaw,
  sign,
  uid,
} from "../helpers/webhooks";
import { expectProblem as problemOf } from "../helpers/wire";

describe("webhook signatures", () => {
  it("applies an event whose Standard Webhooks signature is valid, without any bearer token", async () => {
    const product = freshProductId("wh-sig");
    const response = await send(received(product, 4, uid("po")));
    const answer = await answerOf(response);
    expect(answer.status).toBe("applied");
    expect(answer.results).toHaveLength(1);
    expect(answer.results[0]).toMatchObject({ product_id: product, status: "applied", seq: 1 });
    expect((await getStock(product)).body).toMatchObject({ on_hand: 4, available: 4, version: 1 });
  });

  it("refuses a body changed after signing with 401 invalid_signature, writes nothing and logs nothing", async () => {
    const product = freshProductId("wh-tamper");
    const id = uid("msg-tampered");
    const response = await send(received(product, 5, uid("po")), { id, tamper: (body) => body.replace('"quantity":5', '"quantity":50') });
    await problemOf(response, 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("refuses a signature made with a secret the source does not have", async () => {
    const product = freshProductId("wh-wrong");
    const id = uid("msg-wrong-secret");
    await problemOf(await send(received(product, 5, uid("po")), { id, secret: TEST_WEBHOOK_SECRETS.other }), 401, "invalid_signature");
    // test-oms has only the primary secret: the previous one is not accepted there.
    await problemOf(await send(received(product, 5, uid("po")), { secret: TEST_WEBHOOK_SECRETS.previous }), 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("refuses a delivery whose timestamp is more than 5 minutes old, but accepts one 4 minutes old", async () => {
    const product = freshProductId("wh-stale");
    const id = uid("msg-stale");
    await problemOf(await send(received(product, 5, uid("po")), { id, timestamp: nowSeconds() - 360 }), 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();

    expect((await answerOf(await send(received(product, 5, uid("po")), { timestamp: nowSeconds() - 240 }))).status).toBe("applied");
    expect((await rawState(product)).rows).toHaveLength(1);
  });

  it("refuses a delivery whose timestamp is more than 5 minutes in the future", async () => {
    const product = freshProductId("wh-future");
    const id = uid("msg-future");
    await problemOf(await send(received(product, 5, uid("po")), { id, timestamp: nowSeconds() + 360 }), 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("refuses missing signature headers and malformed signature values with 401", async () => {
    const product = freshProductId("wh-missing");
    const body = JSON.stringify(received(product, 5, uid("po")));
    const id = uid("msg-missing");
    const timestamp = nowSeconds();
    const good = await sign(PRIMARY, id, timestamp, body);
    const attempts: Record<string, string | undefined>[] = [
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": undefined },
      { "webhook-id": id, "webhook-timestamp": undefined, "webhook-signature": good },
      { "webhook-id": undefined, "webhook-timestamp": String(timestamp), "webhook-signature": good },
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": "" },
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": good.replace(/^v1,/, "v2,") },
      { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": "v1,not-base64!!" },
      { "webhook-id": id, "webhook-timestamp": "soon", "webhook-signature": good },
      // Signed for another webhook-id: the id is part of what is signed.
      { "webhook-id": `${id}-other`, "webhook-timestamp": String(timestamp), "webhook-signature": good },
    ];
    for (const headers of attempts) {
      await problemOf(await sendRaw("test-oms", body, headers), 401, "invalid_signature");
    }
    expect((await rawState(product)).rows).toHaveLength(0);
    expect(await deliveryById("test-oms", id)).toBeUndefined();
  });

  it("accepts a signature header with several v1 entries when only one of them is valid", async () => {
    const product = freshProductId("wh-multi");
    const body = JSON.stringify(received(product, 3, uid("po")));
    const id = uid("msg-multi");
    const timestamp = nowSeconds();
    const good = await sign(PRIMARY, id, timestamp, body);
    const wrong = await sign(TEST_WEBHOOK_SECRETS.other, id, timestamp, body);
    const response = await sendRaw("test-oms", body, {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `${wrong} v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ${good} v2,ignored`,
    });
    expect((await answerOf(response)).status).toBe("applied");
    expect((await getStock(product)).body.on_hand).toBe(3);
  });

  it("refuses a signature header whose several entries are all invalid", async () => {
    const product = freshProductId("wh-multi-bad");
    const body = JSON.stringify(received(product, 3, uid("po")));
    const id = uid("msg-multi-bad");
    const timestamp = nowSeconds();
    const wrong = await sign(TEST_WEBHOOK_SECRETS.other, id, timestamp, body);
    const response = await sendRaw("test-oms", body, {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `${wrong} ${wrong.slice(0, -4)}AAA=`,
    });
    await problemOf(response, 401, "invalid_signature");
    expect((await rawState(product)).rows).toHaveLength(0);
  });

  it("accepts either secret of a source that is rotating its key, and records rows as webhook:<source_id>", async () => {
    const product = freshProductId("wh-rotate");
    const reference1 = uid("po");
    const reference2 = uid("po");
    expect(
      (await answerOf(await send(received(product, 2, reference1), { source: "rotating-oms", secret: TEST_WEBHOOK_SECRETS.primary })))
        .status,
    ).toBe("applied");
    expect(
      (await answerOf(await send(received(product, 3, reference2), { source: "rotating-oms", secret: TEST_WEBHOOK_SECRETS.previous })))
        .status,
    ).toBe("applied");
    await problemOf(
      await send(received(product, 9, uid("po")), { source: "rotating-oms", secret: TEST_WEBHOOK_SECRETS.other }),
      401,
      "invalid_signature",
    );
    const rows = await historyRows(product);
    expect(rows.map((row) => [row.type, row.quantity, row.reason, row.created_by])).toEqual([
      ["ADD", 2, `received:${reference1}`, "webhook:rotating-oms"],
      ["ADD", 3, `received:${reference2}`, "webhook:rotating-oms"],
    ]);
  });

  it("answers 404 not_found for an unknown source even with a well-formed signature, and logs nothing", async () => {
    const product = freshProductId("wh-nosource");
    const id = uid("msg-nosource");
    await problemOf(await send(received(product, 1, uid("po")), { id, source: "no-such-oms" }), 404, "not_found");
    expect((await rawState(product)).rows).toHaveLength(0);
    const log = await listDeliveries("?source_id=no-such-oms");
    expect(((await log.json()) as DeliveryPage).data).toEqual([]);
  });
});
