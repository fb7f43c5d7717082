import { describe, expect, it } from "vitest";
import { call, freshProductId, getStock, postTransaction } from "../helpers/http";

describe("smoke", () => {
  it("adds stock and reads it back", async () => {
    const product = freshProductId();
    const written = await postTransaction(product, { type: "ADD", quantity: 5 });
    expect(written.status).toBe(201);
    const { body } = await getStock(product);
    expect(body.on_hand).toBe(5);
    expect((await call("GET", "/healthz", { role: null })).status).toBe(200);
  });
});
