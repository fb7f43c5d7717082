import { describe, expect, it } from "vitest";
import { freshProductId, getStock } from "../helpers/http";
import { TEST_WEBHOOK_SECRETS } from "../helpers/tokens";
import { sendWebhook } from "../helpers/webhooks";

describe("webhooks smoke", () => {
  it("applies a signed stock.received and an order.placed", async () => {
    const product = freshProductId("wh");
    const received = await sendWebhook(
      { type: "stock.received", data: { product_id: product, quantity: 5, reference: "po-1" } },
      { secret: TEST_WEBHOOK_SECRETS.primary },
    );
    expect(received.status).toBe(200);
    expect(await received.json()).toMatchObject({ status: "applied" });
    const placed = await sendWebhook(
      { type: "order.placed", data: { order_id: "o1", lines: [{ line_id: "l1", product_id: product, quantity: 7 }] } },
      { secret: TEST_WEBHOOK_SECRETS.primary },
    );
    expect(await placed.json()).toMatchObject({ status: "applied" });
    expect((await getStock(product)).body).toMatchObject({ on_hand: -2, available: -2, oversold: true });
  });
});
