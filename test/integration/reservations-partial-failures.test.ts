// Reservations when a product fails halfway through a multi-product step, or is slow while other operations queue behind it.
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getStock, historyOf, stocked } from "../helpers/http";
import { closeProductFor, injectFailureAfterLedgerInsert, rawState, reservationRows } from "../helpers/ledger-object";
import {
  closeReservation,
  crashedCreation,
  createReservation,
  holdOfAttempt,
  reservationPhase,
  reservationStatus,
  reservationStub,
  savesAfterAnswerDone,
} from "../helpers/reservations";
import { waitFor } from "../helpers/wait";

describe("failures halfway through a multi-product step", () => {
  it("strands nothing when one product object fails while the others are being held", async () => {
    const productA = await stocked(5, "half-a");
    const productB = await stocked(5, "half-b");
    await injectFailureAfterLedgerInsert(productB, true);

    const created = await createReservation({
      lines: [
        { product_id: productA, quantity: 2 },
        { product_id: productB, quantity: 2 },
      ],
    });
    expect(created.status).toBe(500);
    expect((await getStock(productA)).body).toMatchObject({ reserved: 0, available: 5 });
    expect((await getStock(productB)).body).toMatchObject({ reserved: 0, available: 5 });
    const rawA = await rawState(productA);
    expect(reservationRows(rawA, "RESERVE").length).toBe(reservationRows(rawA, "RELEASE").length);

    // The failure was not remembered: once B is back, the same request holds both.
    await injectFailureAfterLedgerInsert(productB, false);
    const retried = await createReservation({
      lines: [
        { product_id: productA, quantity: 2 },
        { product_id: productB, quantity: 2 },
      ],
    });
    expect(retried.status).toBe(201);
    expect((await getStock(productB)).body).toMatchObject({ reserved: 2 });
  });

  it("gives back, by its alarm, the stock of a creation that crashed between two products", async () => {
    // What a crash leaves: the record saved as pending, product A held, product B never called.
    const {
      id,
      expires_at,
      products: [productA, productB],
    } = await crashedCreation("crash");
    // The hold the coordinator sent before it crashed, and one the crash left in flight.
    const holdOfAttempt1 = (product_id: string) => holdOfAttempt(product_id, id, 1, expires_at);
    expect((await holdOfAttempt1(productA)).ok).toBe(true);
    expect((await getStock(productA)).body).toMatchObject({ reserved: 3 });

    expect(await runDurableObjectAlarm(reservationStub(id))).toBe(true);
    expect(await reservationPhase(id)).toBe("failed");
    expect(await reservationStatus(id)).toBeNull();
    expect((await getStock(productA)).body).toMatchObject({ reserved: 0, available: 5 });
    expect((await getStock(productB)).body).toMatchObject({ reserved: 0, available: 5 });
    // The give-back is the system's, not the requester's.
    const historyA = await historyOf(productA);
    expect(historyA.data.find((row) => row.type === "RELEASE")).toMatchObject({ created_by: "system:reservation-abort" });

    // A hold of the crashed attempt that arrives late (it was in flight) is refused by the fence.
    expect(await holdOfAttempt1(productB)).toEqual({ ok: false, error: { code: "stale_attempt" } });
    expect((await getStock(productB)).body).toMatchObject({ reserved: 0 });
  });

  it("finishes a commit that reached two of three products, on retry, without removing twice", async () => {
    const products = [await stocked(4, "commit-a"), await stocked(4, "commit-b"), await stocked(4, "commit-c")];
    const created = await createReservation({ lines: products.map((product_id) => ({ product_id, quantity: 1 })) });
    const { id } = (await created.json()) as { id: string };

    await injectFailureAfterLedgerInsert(products[2]!, true);
    const first = await closeReservation(id, "commit");
    expect(first.status).toBe(500);
    expect(await reservationPhase(id)).toBe("committing");
    // The decision is made: a release now is refused, and clients see the outcome.
    expect((await closeReservation(id, "release")).status).toBe(409);
    expect(await reservationStatus(id)).toBe("committed");

    await injectFailureAfterLedgerInsert(products[2]!, false);
    const retried = await closeReservation(id, "commit");
    expect(retried.status).toBe(200);
    expect(await reservationPhase(id)).toBe("committed");
    for (const product of products) {
      expect((await getStock(product)).body).toMatchObject({ on_hand: 3, reserved: 0, available: 3 });
      expect(reservationRows(await rawState(product), "REMOVE")).toHaveLength(1);
    }
  });

  it("finishes an interrupted commit by itself, from the alarm, with no retry from the client", async () => {
    const products = [await stocked(4, "self-a"), await stocked(4, "self-b")];
    const created = await createReservation({ lines: products.map((product_id) => ({ product_id, quantity: 2 })) });
    const { id } = (await created.json()) as { id: string };
    await injectFailureAfterLedgerInsert(products[1]!, true);
    expect((await closeReservation(id, "commit")).status).toBe(500);
    await injectFailureAfterLedgerInsert(products[1]!, false);

    expect(await runDurableObjectAlarm(reservationStub(id))).toBe(true);
    expect(await reservationPhase(id)).toBe("committed");
    for (const product of products) {
      expect((await getStock(product)).body).toMatchObject({ on_hand: 2, reserved: 0 });
      expect(reservationRows(await rawState(product), "REMOVE")).toHaveLength(1);
    }
  });
});

describe("operations queued behind a creation still waiting for its products", () => {
  /** Starts a creation whose product does not answer for a while, and resolves once it is pending. */
  async function creationInFlight(quantity: number) {
    const product = await stocked(5, "queued");
    const id = `queued-${crypto.randomUUID()}`;
    const { reopened: blocked } = await closeProductFor(product, 800);
    const created = createReservation({ reservation_id: id, lines: [{ product_id: product, quantity }] });
    await waitFor(async () => (await reservationPhase(id)) === "pending", 5_000, 20);
    return { product, id, created, blocked };
  }

  it.each([
    ["release", "released", { on_hand: 5, reserved: 0, available: 5 }],
    ["commit", "committed", { on_hand: 3, reserved: 0, available: 3 }],
  ] as const)("ends a %s sent meanwhile as %s: the creation's later save of held does not overwrite it", async (action, status, stock) => {
    const { product, id, created, blocked } = await creationInFlight(2);
    const closed = closeReservation(id, action);
    await blocked;
    expect((await created).status).toBe(201);
    const closing = await closed;
    expect(closing.status).toBe(200);
    expect(await closing.json()).toMatchObject({ id, status });

    await savesAfterAnswerDone([id]);
    expect(await reservationPhase(id)).toBe(status);
    expect(await reservationStatus(id)).toBe(status);
    expect((await getStock(product)).body).toMatchObject(stock);
  });
});
