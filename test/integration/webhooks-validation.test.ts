// Webhook request validation and limits: invalid fields, ids with ':', line counts, bodies that are not JSON or over 256 KiB.
import { describe, expect, it } from "vitest";
import { freshProductId, getStock } from "../helpers/http";
import { rawState } from "../helpers/ledger-object";
import { answerOf, cancelled, nowSeconds, PRIMARY, placed, received, send, sendRaw, sign, uid } from "../helpers/webhooks";
import { expectProblem as problemOf } from "../helpers/wire";

describe("webhook request limits and validation", () => {
  it("answers 400 invalid_request with the path of an invalid field of a known type, writing nothing", async () => {
    const product = freshProductId("wh-invalid");
    const order = uid("ord");
    const problem = await problemOf(
      await send(
        placed(order, [
          { line_id: "l1", product_id: product, quantity: 1 },
          { line_id: "l2", product_id: product, quantity: 0 },
        ]),
      ),
      400,
      "invalid_request",
    );
    expect(problem.errors?.map((error) => error.path)).toContain("body.data.lines.1.quantity");
    expect((await rawState(product)).rows).toHaveLength(0);

    const negative = await problemOf(
      await send({ type: "stock.received", data: { product_id: product, quantity: -1, reference: uid("po") } }),
      400,
      "invalid_request",
    );
    expect(negative.errors?.map((error) => error.path)).toContain("body.data.quantity");
    const missing = await problemOf(
      await send({ type: "stock.counted", data: { product_id: product, reference: uid("c") } }),
      400,
      "invalid_request",
    );
    expect(missing.errors?.map((error) => error.path)).toContain("body.data.on_hand");
    expect((await rawState(product)).rows).toHaveLength(0);
  });

  it("refuses order, line, return and reference ids containing ':' while product ids may contain it", async () => {
    const product = freshProductId("wh:colon");
    const bad = [
      placed("ord:1", [{ line_id: "l1", product_id: product, quantity: 1 }]),
      placed(uid("ord"), [{ line_id: "l:1", product_id: product, quantity: 1 }]),
      cancelled("ord:1", [{ line_id: "l1", product_id: product, quantity: 1 }]),
      { type: "return.received", data: { return_id: "ret:1", lines: [{ line_id: "l1", product_id: product, quantity: 1 }] } },
      received(product, 1, "po:1"),
      { type: "stock.counted", data: { product_id: product, on_hand: 1, reference: "count:1" } },
      placed("-starts-with-dash", [{ line_id: "l1", product_id: product, quantity: 1 }]),
    ];
    for (const event of bad) await problemOf(await send(event), 400, "invalid_request");
    expect((await rawState(product)).rows).toHaveLength(0);

    expect((await answerOf(await send(received(product, 1, uid("po"))))).status).toBe("applied");
    expect((await rawState(product)).rows).toHaveLength(1);
  });

  it("accepts 1 to 500 lines with unique line ids and refuses none, 501, or a repeated line_id", async () => {
    const product = freshProductId("wh-lines");
    const lineList = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ line_id: `l${index}`, product_id: product, quantity: 1 }));

    await problemOf(await send(placed(uid("ord"), [])), 400, "invalid_request");
    await problemOf(await send(placed(uid("ord"), lineList(501))), 400, "invalid_request");
    await problemOf(
      await send(
        placed(uid("ord"), [
          { line_id: "same", product_id: product, quantity: 1 },
          { line_id: "same", product_id: product, quantity: 2 },
        ]),
      ),
      400,
      "invalid_request",
    );
    expect((await rawState(product)).rows).toHaveLength(0);

    const answer = await answerOf(await send(placed(uid("ord"), lineList(500))));
    expect(answer.results).toHaveLength(500);
    expect(answer.results.every((result) => result.status === "applied")).toBe(true);
    expect((await getStock(product)).body).toMatchObject({ on_hand: -500, version: 500, oversold: true });
  });

  it("answers 400 to a body that is not JSON even when its signature is valid, writing nothing", async () => {
    const id = uid("msg-notjson");
    const timestamp = nowSeconds();
    const body = '{"type":"stock.received","data":';
    const response = await sendRaw("test-oms", body, {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await sign(PRIMARY, id, timestamp, body),
    });
    await problemOf(response, 400, "invalid_request");
  });

  it("answers 413 payload_too_large to a signed body over 256 KiB, and accepts one of exactly 256 KiB", async () => {
    const product = freshProductId("wh-big");
    const reference = uid("po");
    const base = JSON.stringify({ type: "stock.received", data: { product_id: product, quantity: 1, reference }, pad: "" });
    const exact = {
      type: "stock.received",
      data: { product_id: product, quantity: 1, reference },
      pad: "x".repeat(256 * 1024 - base.length),
    };
    expect(JSON.stringify(exact).length).toBe(256 * 1024);
    const over = { ...exact, pad: `${exact.pad}x` };

    await problemOf(await send(over), 413, "payload_too_large");
    expect((await rawState(product)).rows).toHaveLength(0);

    expect((await answerOf(await send(exact))).status).toBe("applied");
    expect((await rawState(product)).rows).toHaveLength(1);
  });
});
