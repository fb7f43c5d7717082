// Exactly-once writes over HTTP: Idempotency-Key replays and conflicts, and optimistic concurrency (If-Match, expected_version).
import { describe, expect, it } from "vitest";
import {
  call,
  freshKey,
  freshProductId,
  historyOf,
  postTransaction,
  stockOf,
  type TransactionInput,
  type WriteBody,
  write,
} from "../helpers/http";
import { expectProblem } from "../helpers/wire";

describe("idempotency", () => {
  it("replays the same key and body with 200, the first body, Idempotent-Replayed: true, and writes nothing new", async () => {
    const product = freshProductId();
    const key = freshKey();
    const input: TransactionInput = { type: "ADD", quantity: 4, actor: "user-7", metadata: { po: "PO-1" } };
    const first = await postTransaction(product, input, { key });
    expect(first.status).toBe(201);
    const firstBody = (await first.json()) as WriteBody;

    const again = await postTransaction(product, input, { key });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);

    const read = await stockOf(product);
    expect(read.version).toBe(1);
    expect(read.on_hand).toBe(4);
    const page = await historyOf(product);
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toEqual(firstBody.transaction);
  });

  it("replays the first answer even after later writes changed the stock", async () => {
    const product = freshProductId();
    const key = freshKey();
    const first = await write(product, { type: "ADD", quantity: 4 }, key);
    await write(product, { type: "REMOVE", quantity: 1 });
    const again = await postTransaction(product, { type: "ADD", quantity: 4 }, { key });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    expect((await stockOf(product)).version).toBe(2);
  });

  it("treats the same body with its fields in another order as the same request", async () => {
    const product = freshProductId();
    const key = freshKey();
    const headers = { "idempotency-key": key };
    const first = await call("POST", `/v1/products/${product}/transactions`, {
      role: "writer",
      headers,
      body: { type: "ADD", quantity: 2, reason: "r", metadata: { a: 1, b: 2 } },
    });
    expect(first.status).toBe(201);
    const again = await call("POST", `/v1/products/${product}/transactions`, {
      role: "writer",
      headers,
      body: { metadata: { b: 2, a: 1 }, reason: "r", quantity: 2, type: "ADD" },
    });
    expect(again.status).toBe(200);
    expect((await stockOf(product)).version).toBe(1);
  });

  it("writes once when two requests with the same key and body race: one 201, one 200 replay", async () => {
    const product = freshProductId();
    const key = freshKey();
    const responses = await Promise.all([
      postTransaction(product, { type: "ADD", quantity: 3 }, { key }),
      postTransaction(product, { type: "ADD", quantity: 3 }, { key }),
    ]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 201]);
    const [a, b] = await Promise.all(responses.map((response) => response.json()));
    expect(a).toEqual(b);
    expect(await stockOf(product)).toMatchObject({ version: 1, on_hand: 3 });
  });

  it("replays a write that named a version even after the product moved past it", async () => {
    const product = freshProductId();
    const key = freshKey();
    const first = await postTransaction(product, { type: "ADD", quantity: 1 }, { key, headers: { "if-match": '"0"' } });
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    await write(product, { type: "ADD", quantity: 1 });
    const again = await postTransaction(product, { type: "ADD", quantity: 1 }, { key, headers: { "if-match": '"0"' } });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
  });

  it("answers 422 idempotency_key_reused to the same key with a different body, and writes nothing", async () => {
    const product = freshProductId();
    const key = freshKey();
    await write(product, { type: "ADD", quantity: 4 }, key);
    await expectProblem(await postTransaction(product, { type: "ADD", quantity: 5 }, { key }), 422, "idempotency_key_reused");
    await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 4, reason: "other" }, { key }),
      422,
      "idempotency_key_reused",
    );
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 4 }, { key }), 422, "idempotency_key_reused");
    const read = await stockOf(product);
    expect(read).toMatchObject({ version: 1, on_hand: 4 });
  });

  it("does not remember a refused write: the same key succeeds with 201 once stock has been added", async () => {
    const product = freshProductId();
    const key = freshKey();
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 3 }, { key }), 409, "insufficient_stock");
    await expectProblem(await postTransaction(product, { type: "REMOVE", quantity: 3 }, { key }), 409, "insufficient_stock");
    await write(product, { type: "ADD", quantity: 5 });
    const retried = await postTransaction(product, { type: "REMOVE", quantity: 3 }, { key });
    expect(retried.status).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    const body = (await retried.json()) as WriteBody;
    expect(body.transaction).toMatchObject({ seq: 2, idempotency_key: key, delta: -3 });
    expect(body.stock).toMatchObject({ on_hand: 2, version: 2 });
  });

  it("does not remember a write refused with 412: the same key is evaluated afresh", async () => {
    const product = freshProductId();
    const key = freshKey();
    await write(product, { type: "ADD", quantity: 1 });
    await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }, { key }),
      412,
      "version_conflict",
    );
    const retried = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 1 }, { key });
    expect(retried.status).toBe(201);
  });

  it("keeps keys per product: the same key on two products writes to both", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const key = freshKey();
    const onA = await write(a, { type: "ADD", quantity: 2 }, key);
    const onB = await postTransaction(b, { type: "ADD", quantity: 9 }, { key });
    expect(onB.status).toBe(201);
    expect(onB.headers.get("idempotent-replayed")).toBeNull();
    const bodyB = (await onB.json()) as WriteBody;
    expect(bodyB.transaction).toMatchObject({ product_id: b, quantity: 9, idempotency_key: key });
    expect(bodyB.transaction.id).not.toBe(onA.transaction.id);
    expect((await stockOf(a)).on_hand).toBe(2);
    expect((await stockOf(b)).on_hand).toBe(9);
  });
});

describe("optimistic concurrency", () => {
  it("answers 412 version_conflict with current_version when If-Match does not match, and writes nothing", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    await write(product, { type: "ADD", quantity: 1 });
    const problem = await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": '"1"' } }),
      412,
      "version_conflict",
    );
    expect(problem.current_version).toBe(2);
    expect((await stockOf(product)).version).toBe(2);
  });

  it("writes with 201 when If-Match names the current version", async () => {
    const product = freshProductId();
    const first = await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": '"0"' } });
    expect(first.status).toBe(201);
    const second = await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": '"1"' } });
    expect(second.status).toBe(201);
    expect(((await second.json()) as WriteBody).stock.version).toBe(2);
  });

  it("answers 412 version_conflict with current_version when expected_version does not match, and 201 when it does", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    const problem = await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }),
      412,
      "version_conflict",
    );
    expect(problem.current_version).toBe(1);
    const ok = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 1 });
    expect(ok.status).toBe(201);
  });

  it("accepts If-Match and expected_version together when they agree", async () => {
    const product = freshProductId();
    const ok = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }, { headers: { "if-match": '"0"' } });
    expect(ok.status).toBe(201);
  });

  it.each([["1"], ['W/"1"'], ['"one"'], ['"1'], ['"-1"']])("answers 400 invalid_request to the malformed If-Match %s", async (ifMatch) => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    await expectProblem(
      await postTransaction(product, { type: "ADD", quantity: 1 }, { headers: { "if-match": ifMatch } }),
      400,
      "invalid_request",
    );
    expect((await stockOf(product)).version).toBe(1);
  });

  it("answers 400 when If-Match and expected_version disagree", async () => {
    const product = freshProductId();
    await write(product, { type: "ADD", quantity: 1 });
    const response = await postTransaction(product, { type: "ADD", quantity: 1, expected_version: 0 }, { headers: { "if-match": '"1"' } });
    await expectProblem(response, 400, "invalid_request");
    expect((await stockOf(product)).version).toBe(1);
  });
});
