// Webhooks out (API.md, "Subscriptions"): a real receiver (test/helpers/receiver-server.mjs)
// verifies every delivery's signature with the official standardwebhooks package. Events of
// every path arrive, signed, in order per product, at least once, and nothing is lost.
import { describe, expect, it } from "vitest";
import { feedOf } from "../helpers/feed";
import { freshProductId, postTransaction } from "../helpers/http";
import { acceptedOnce, received, seqsOf, subscribe, waitForAccepted } from "../helpers/receiver";
import { closeReservation, createReservation } from "../helpers/reservations";
import { TEST_WEBHOOK_SECRETS } from "../helpers/tokens";
import { sendWebhook } from "../helpers/webhooks";

describe("delivery", () => {
  it("delivers each event of a write, signed by the subscription's secret, with the feed's id and body", async () => {
    const product = freshProductId("out");
    const { receiver } = await subscribe([product]);
    expect((await postTransaction(product, { type: "ADD", quantity: 3 })).status).toBe(201);
    const deliveries = await waitForAccepted(receiver, 2);
    expect(deliveries.every((delivery) => delivery.verified_with.includes(0))).toBe(true);
    const feed = await feedOf(product);
    expect(deliveries.map((delivery) => delivery.webhook_id)).toEqual(feed.map((event) => event.id));
    expect(deliveries.map((delivery) => delivery.body)).toEqual(feed);
  });

  it("delivers 30 concurrent writes on one product in seq order, none missing", async () => {
    const product = freshProductId("out");
    expect((await postTransaction(product, { type: "ADD", quantity: 1_000 })).status).toBe(201);
    const { receiver } = await subscribe([product], { event_types: ["stock.changed"] });
    const answers = await Promise.all(Array.from({ length: 30 }, () => postTransaction(product, { type: "REMOVE", quantity: 1 })));
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    const deliveries = await waitForAccepted(receiver, 30);
    expect(seqsOf(deliveries).map((event) => event.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    expect(deliveries.every((delivery) => delivery.verified_with.length === 1)).toBe(true);
  });

  it("delivers events from reservations, commits, releases and webhooks in, to a subscription of the types it names", async () => {
    const product = freshProductId("out");
    const { receiver } = await subscribe([product], { event_types: ["stock.out", "stock.back_in"] });
    const orderId = crypto.randomUUID().slice(0, 8);
    const placed = await sendWebhook(
      { type: "stock.received", data: { product_id: product, quantity: 2, reference: `po-${orderId}` } },
      { secret: TEST_WEBHOOK_SECRETS.primary },
    );
    expect(placed.status).toBe(200);
    const reservation = `r-${crypto.randomUUID()}`;
    expect((await createReservation({ reservation_id: reservation, lines: [{ product_id: product, quantity: 2 }] })).status).toBe(201);
    expect((await closeReservation(reservation, "release")).status).toBe(200);
    const deliveries = await waitForAccepted(receiver, 3);
    expect(seqsOf(deliveries)).toEqual([
      { seq: 1, type: "stock.back_in" },
      { seq: 2, type: "stock.out" },
      { seq: 3, type: "stock.back_in" },
    ]);
  });

  it("sends nothing of other products to a subscription with a product filter", async () => {
    const mine = freshProductId("out");
    const other = freshProductId("out");
    const { receiver } = await subscribe([mine]);
    expect((await postTransaction(other, { type: "ADD", quantity: 1 })).status).toBe(201);
    expect((await postTransaction(mine, { type: "ADD", quantity: 1 })).status).toBe(201);
    await waitForAccepted(receiver, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await received(receiver)).every((delivery) => (delivery.body as { product_id: string }).product_id === mine)).toBe(true);
  });

  it("starts a new subscription at the events after its creation, not before", async () => {
    const product = freshProductId("out");
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { receiver } = await subscribe([product], { event_types: ["stock.changed"] });
    expect((await postTransaction(product, { type: "ADD", quantity: 1 })).status).toBe(201);
    const deliveries = await waitForAccepted(receiver, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seqsOf(await acceptedOnce(receiver))).toEqual([{ seq: 2, type: "stock.changed" }]);
    expect(deliveries).toHaveLength(1);
  });
});
