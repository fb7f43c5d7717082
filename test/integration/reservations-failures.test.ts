// Reservations under failure: expiry by a real alarm, commit racing expiry, many checkouts
// competing for the last units, and crashes or outages halfway through a multi-product step.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import type { Reservation } from "../../src/durable/reservation/object";
import { saveReservation } from "../../src/durable/reservation/store";
import { RESERVATION_PENDING_TIMEOUT_MS, RESERVATION_RETRY_BACKOFF_MS } from "../../src/limits";
import { call, freshKey, freshProductId, getStock, historyOf, postTransaction } from "../helpers/http";
import { closeProductFor, injectFailureAfterLedgerInsert, ledgerStub, rawState, sumsFromRows } from "../helpers/ledger-object";
import {
  closeReservation,
  createReservation,
  reservationPhase,
  reservationStatus,
  reservationStub,
  savesAfterAnswerDone,
  waitFor,
} from "../helpers/reservations";

async function stocked(quantity: number, prefix = "sku"): Promise<string> {
  const product = freshProductId(prefix);
  expect((await postTransaction(product, { type: "ADD", quantity })).status).toBe(201);
  return product;
}

/** Makes a product's object fail when asked whether it holds an attempt (as if unreachable), or answer again. */
function injectFailureOnHoldsAttempt(product_id: string, enabled: boolean): Promise<void> {
  return runInDurableObject<ProductLedger, void>(ledgerStub(product_id), (instance) => {
    instance.deps.faults.beforeHoldsAttempt = enabled
      ? () => {
          throw new Error("injected failure: the product cannot answer");
        }
      : undefined;
  });
}

function reservationRows(raw: Awaited<ReturnType<typeof rawState>>, type: string) {
  return raw.rows.filter((row) => row.type === type);
}

describe("expiry", () => {
  it("releases a held reservation at expires_at through a real alarm, as system:expiry, with no request", async () => {
    const product = await stocked(10);
    const created = await createReservation({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 4 }] });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await getStock(product)).body).toMatchObject({ reserved: 4, available: 6 });

    await waitFor(async () => (await reservationStatus(id)) === "expired", 10_000, 100);
    expect((await getStock(product)).body).toMatchObject({ on_hand: 10, reserved: 0, available: 10 });
    const history = await historyOf(product);
    const release = history.data.find((row) => row.type === "RELEASE");
    expect(release).toMatchObject({ created_by: "system:expiry", reservation_id: id });
    expect(await reservationPhase(id)).toBe("expired");
  });

  it("refuses a commit after expires_at even when the alarm has not run, and gives the stock back", async () => {
    const product = await stocked(5);
    const created = await createReservation({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 5 }] });
    const { id } = (await created.json()) as { id: string };
    await runInDurableObject<Reservation, void>(reservationStub(id), async (_instance, state) => {
      await state.storage.deleteAlarm();
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const commit = await closeReservation(id, "commit");
    expect(commit.status).toBe(409);
    expect(await commit.json()).toMatchObject({ code: "reservation_not_active", status: 409, reservation_status: "expired" });
    expect((await getStock(product)).body).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
    expect(await reservationStatus(id)).toBe("expired");
  });

  it("ends a commit racing expiry in exactly one outcome: sold once, or back in stock, never both", async () => {
    for (let round = 0; round < 6; round++) {
      const product = await stocked(3);
      const created = await createReservation({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 2 }] });
      const { id } = (await created.json()) as { id: string };
      // Aim the commit at the moment the alarm fires, a little earlier or later each round.
      await new Promise((resolve) => setTimeout(resolve, 900 + round * 40));
      const commit = await closeReservation(id, "commit");
      expect([200, 409]).toContain(commit.status);
      await waitFor(async () => ["committed", "expired"].includes((await reservationPhase(id)) ?? ""), 10_000);

      const status = await reservationStatus(id);
      const { body } = await getStock(product);
      const raw = await rawState(product);
      expect(body.reserved).toBe(0);
      if (status === "committed") {
        expect(commit.status).toBe(200);
        expect(body.on_hand).toBe(1);
        expect(reservationRows(raw, "REMOVE")).toHaveLength(1);
      } else {
        expect(status).toBe("expired");
        expect(commit.status).toBe(409);
        expect(body.on_hand).toBe(3);
        expect(reservationRows(raw, "REMOVE")).toHaveLength(0);
      }
      expect(reservationRows(raw, "RELEASE")).toHaveLength(1);
    }
  });
});

describe("many checkouts for the last units", () => {
  it("lets 30 concurrent checkouts compete for the last 10 units of two products with no oversell and no unit lost", async () => {
    const productA = await stocked(10, "last-a");
    const productB = await stocked(10, "last-b");

    const checkouts = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const created = await createReservation({
          lines: [
            { product_id: productA, quantity: 1 },
            { product_id: productB, quantity: 1 },
          ],
        });
        if (created.status !== 201) {
          expect(created.status).toBe(409);
          return "refused";
        }
        const { id } = (await created.json()) as { id: string };
        const action = i % 3 === 0 ? "release" : "commit";
        const closed = await closeReservation(id, action);
        expect(closed.status).toBe(200);
        return action;
      }),
    );

    const sold = checkouts.filter((outcome) => outcome === "commit").length;
    const held = checkouts.filter((outcome) => outcome !== "refused").length;
    // How many win depends on the interleaving (partial holds can block each other and abort),
    // so the test asserts conservation, not a count of winners.
    expect(held).toBeGreaterThan(0);
    for (const product of [productA, productB]) {
      const { body } = await getStock(product);
      expect(body.reserved).toBe(0);
      expect(body.available).toBeGreaterThanOrEqual(0);
      expect(body.oversold).toBe(false);
      // Every unit is either sold or back on hand.
      expect(body.on_hand + sold).toBe(10);
      const raw = await rawState(product);
      expect(reservationRows(raw, "REMOVE")).toHaveLength(sold);
      expect(reservationRows(raw, "RESERVE").length).toBeGreaterThanOrEqual(held);
      expect(sumsFromRows(raw.rows).get("default")).toEqual({ on_hand: body.on_hand, reserved: 0 });
    }
    // Nothing is stranded: whatever was not sold can be held again, all of it, right away.
    const remaining = 10 - sold;
    if (remaining > 0) {
      const last = await createReservation({
        lines: [
          { product_id: productA, quantity: remaining },
          { product_id: productB, quantity: remaining },
        ],
      });
      expect(last.status).toBe(201);
    }
  });
});

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

describe("a creation's held, saved after its answer", () => {
  it("is saved by the object itself right after the answer, with no other request and without asking the products", async () => {
    const product = await stocked(5, "self-save");
    const id = `self-${crypto.randomUUID()}`;
    // Were the products asked (settlePending), the reservation would stay pending.
    await injectFailureOnHoldsAttempt(product, true);
    expect((await createReservation({ reservation_id: id, lines: [{ product_id: product, quantity: 1 }] })).status).toBe(201);
    // Read from storage, not through the object: a read would decide a pending record itself.
    await waitFor(async () => (await reservationPhase(id)) === "held", 2_000, 10);
    await injectFailureOnHoldsAttempt(product, false);
  });
});

/** Makes the reservation's object fail to save `id` in `phase` (a storage error) `times` times; says how often and when it last did. */
function injectSaveFailure(id: string, phase: string, times = Number.POSITIVE_INFINITY): Promise<{ failed: number; last_at: number }> {
  const seen = { failed: 0, last_at: 0 };
  return runInDurableObject<Reservation, { failed: number; last_at: number }>(reservationStub(id), (instance) => {
    instance.deps.faults.beforeSave = (record) => {
      if (record.id !== id || record.phase !== phase || seen.failed >= times) return;
      seen.failed++;
      seen.last_at = Date.now();
      throw new Error(`injected failure: saving ${phase}`);
    };
    return seen;
  });
}

function clearSaveFailure(id: string): Promise<void> {
  return runInDurableObject<Reservation, void>(reservationStub(id), (instance) => {
    instance.deps.faults.beforeSave = undefined;
  });
}

describe("storage errors in a reservation's own saves", () => {
  it("leaves pending when held cannot be saved after the answer, and the next read decides it held", async () => {
    const product = await stocked(5, "held-save");
    const id = `held-save-${crypto.randomUUID()}`;
    const seen = await injectSaveFailure(id, "held", 1);
    expect((await createReservation({ reservation_id: id, lines: [{ product_id: product, quantity: 2 }] })).status).toBe(201);
    await waitFor(async () => seen.failed === 1, 2_000, 10);
    expect(await reservationPhase(id)).toBe("pending");
    // A read asks the products, which all hold the attempt: held, as the 201 said, and saved.
    expect(await reservationStatus(id)).toBe("held");
    expect(await reservationPhase(id)).toBe("held");
    expect((await getStock(product)).body).toMatchObject({ reserved: 2, available: 3 });
    await clearSaveFailure(id);
  });

  it("defers one reservation whose step hits a storage error in the alarm, with backoff, and finishes it later", async () => {
    const product = await stocked(5, "alarm-save");
    const id = `alarm-save-${crypto.randomUUID()}`;
    expect((await createReservation({ reservation_id: id, ttl_seconds: 1, lines: [{ product_id: product, quantity: 2 }] })).status).toBe(
      201,
    );
    await savesAfterAnswerDone([id]);
    const seen = await injectSaveFailure(id, "expiring");
    // The real alarm at expires_at fails to save expiring. Its catch logs it and defers this
    // reservation alone with the backoff, instead of throwing (which would retry the whole run at once).
    await waitFor(async () => seen.failed >= 1, 5_000, 20);
    const deferred = await reservationRow(id);
    expect(deferred).toMatchObject({ phase: "held", retries: seen.failed });
    expect(deferred.alarm_at).toBeGreaterThanOrEqual(seen.last_at + RESERVATION_RETRY_BACKOFF_MS.base);
    expect((await getStock(product)).body).toMatchObject({ reserved: 2 });

    await clearSaveFailure(id);
    await waitFor(async () => (await reservationStatus(id)) === "expired", 10_000, 100);
    expect((await getStock(product)).body).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
  });
});

describe("a creation whose held was never saved (a crash right after the answer)", () => {
  /**
   * A reservation created over HTTP, then put back in the state a crash between its answer and
   * its `held` save leaves: the record `pending` and due (as 30 s later), every product holding.
   */
  async function answeredThenCrashed() {
    const products = [await stocked(5, "lost-a"), await stocked(5, "lost-b")];
    const key = freshKey();
    const body = { lines: products.map((product_id) => ({ product_id, quantity: 2 })) };
    const created = await createReservation(body, key);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await savesAfterAnswerDone([id]);
    expect(await reservationPhase(id)).toBe("held");
    await runInDurableObject<Reservation, void>(reservationStub(id), (_instance, state) => {
      state.storage.sql.exec("UPDATE reservations SET phase = 'pending', alarm_at = ? WHERE id = ?", Date.now() - 1, id);
    });
    expect(await reservationPhase(id)).toBe("pending");
    return { products, key, body, id };
  }

  async function expectHeldOnEveryProduct(products: string[]) {
    for (const product of products) {
      expect((await getStock(product)).body).toMatchObject({ on_hand: 5, reserved: 2, available: 3 });
      expect(reservationRows(await rawState(product), "RESERVE")).toHaveLength(1);
      expect(reservationRows(await rawState(product), "RELEASE")).toHaveLength(0);
    }
  }

  it("is held for a reader, at once: every product holds its attempt, and asking took no stock", async () => {
    const { products, id } = await answeredThenCrashed();
    expect(await reservationStatus(id)).toBe("held");
    expect(await reservationPhase(id)).toBe("held");
    await expectHeldOnEveryProduct(products);
  });

  it("is replayed as held to a retry of the same request, which holds nothing twice", async () => {
    const { products, key, body, id } = await answeredThenCrashed();
    const retried = await createReservation(body, key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    expect(await retried.json()).toMatchObject({ id, status: "held" });
    await expectHeldOnEveryProduct(products);
  });

  it("can be committed", async () => {
    const { products, id } = await answeredThenCrashed();
    expect((await closeReservation(id, "commit")).status).toBe(200);
    for (const product of products) expect((await getStock(product)).body).toMatchObject({ on_hand: 3, reserved: 0, available: 3 });
  });

  it("is held after its alarm, with no request, and then expires at expires_at as usual", async () => {
    const { products, id } = await answeredThenCrashed();
    // The alarm the pending save set (created_at + 30 s), run now.
    expect(await runDurableObjectAlarm(reservationStub(id))).toBe(true);
    expect(await reservationPhase(id)).toBe("held");
    await expectHeldOnEveryProduct(products);

    // Past expires_at, the next run expires it like any held reservation.
    await runInDurableObject<Reservation, void>(reservationStub(id), (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE reservations SET expires_at = ?, alarm_at = ? WHERE id = ?",
        new Date(Date.now() - 1_000).toISOString(),
        Date.now() - 1_000,
        id,
      );
    });
    // The alarm the first run set, at the original expires_at, run now.
    expect(await runDurableObjectAlarm(reservationStub(id))).toBe(true);
    expect(await reservationPhase(id)).toBe("expired");
    for (const product of products) expect((await getStock(product)).body).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
  });

  it("stays pending when a product cannot be asked and none said no: a reader gets 500, not a 404 that may be false, and only the alarm counts the failure", async () => {
    const { products, id } = await answeredThenCrashed();
    await injectFailureOnHoldsAttempt(products[1]!, true);
    expect((await call("GET", `/v1/reservations/${id}`, { role: "reader" })).status).toBe(500);
    expect((await closeReservation(id, "commit")).status).toBe(500);
    expect(await reservationRow(id)).toMatchObject({ phase: "pending", retries: 0 });

    const before = Date.now();
    expect(await runDurableObjectAlarm(reservationStub(id))).toBe(true);
    const row = await reservationRow(id);
    expect(row).toMatchObject({ phase: "pending", retries: 1 });
    // Backed off, not due again at once.
    expect(row.alarm_at).toBeGreaterThanOrEqual(before + RESERVATION_RETRY_BACKOFF_MS.base);

    await injectFailureOnHoldsAttempt(products[1]!, false);
    expect(await reservationStatus(id)).toBe("held");
    await expectHeldOnEveryProduct(products);
  });

  it("is undone at once when a product does not hold the attempt, even while another cannot be asked", async () => {
    const {
      id,
      expires_at,
      products: [notHeld, unreachable],
    } = await crashedCreation("undo");
    expect((await holdOfAttempt(unreachable, id, 1, expires_at)).ok).toBe(true);
    await injectFailureOnHoldsAttempt(unreachable, true);

    expect(await reservationStatus(id)).toBeNull();
    expect(await reservationPhase(id)).toBe("aborting");
    // The alarm gives back what was held (releasing needs no answer to the question).
    expect(await runDurableObjectAlarm(reservationStub(id))).toBe(true);
    expect(await reservationPhase(id)).toBe("failed");
    for (const product of [notHeld, unreachable]) expect((await getStock(product)).body).toMatchObject({ on_hand: 5, reserved: 0 });
    await injectFailureOnHoldsAttempt(unreachable, false);
  });

  it("ends as an expiry once expires_at has passed while a product still cannot be asked, giving back what is held", async () => {
    const { products, id } = await answeredThenCrashed();
    await injectFailureOnHoldsAttempt(products[1]!, true);
    await runInDurableObject<Reservation, void>(reservationStub(id), (_instance, state) => {
      state.storage.sql.exec("UPDATE reservations SET expires_at = ? WHERE id = ?", new Date(Date.now() - 1_000).toISOString(), id);
    });
    expect(await runDurableObjectAlarm(reservationStub(id))).toBe(true);
    expect(await reservationPhase(id)).toBe("expired");
    expect(await reservationStatus(id)).toBe("expired");
    for (const product of products) expect((await getStock(product)).body).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
    const history = await historyOf(products[0]!);
    expect(history.data.find((row) => row.type === "RELEASE")).toMatchObject({ created_by: "system:expiry" });
    await injectFailureOnHoldsAttempt(products[1]!, false);
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

/** The stored row of a reservation: its phase, retry count and next alarm time. */
function reservationRow(id: string): Promise<{ phase: string; retries: number; alarm_at: number | null }> {
  return runInDurableObject<Reservation, { phase: string; retries: number; alarm_at: number | null }>(
    reservationStub(id),
    (_instance, state) => {
      const row = state.storage.sql.exec("SELECT phase, retries, alarm_at FROM reservations WHERE id = ?", id).one();
      return { phase: String(row.phase), retries: Number(row.retries), alarm_at: row.alarm_at === null ? null : Number(row.alarm_at) };
    },
  );
}

/** Two products with 5 units each, and a creation over both that crashed before any hold. */
async function crashedCreation(prefix: string): Promise<{ id: string; expires_at: string; products: [string, string] }> {
  const products: [string, string] = [await stocked(5, `${prefix}-a`), await stocked(5, `${prefix}-b`)];
  const id = `${prefix}-${crypto.randomUUID()}`;
  const expires_at = new Date(Date.now() + 900_000).toISOString();
  await savePendingAsACrashLeavesIt(id, products, expires_at);
  return { id, expires_at, products };
}

/**
 * What a creation that crashed before answering leaves: its record pending (attempt 1, 3 units
 * per product), and the alarm at the pending timeout (runDurableObjectAlarm runs it early).
 */
function savePendingAsACrashLeavesIt(id: string, products: string[], expires_at: string): Promise<void> {
  const now = new Date();
  const pendingDue = now.getTime() + RESERVATION_PENDING_TIMEOUT_MS;
  return runInDurableObject<Reservation, void>(reservationStub(id), async (_instance, state) => {
    saveReservation(
      state.storage.sql,
      {
        id,
        phase: "pending",
        reason: "checkout",
        ttl_seconds: 900,
        expires_at,
        created_by: "test-writer",
        created_at: now.toISOString(),
        lines: products.map((product_id) => ({ product_id, location_id: "default", quantity: 3 })),
        idempotency_key: "k",
        fingerprint: "f",
        attempt: 1,
        retries: 0,
        closed_by: null,
        closed_key: null,
      },
      now.toISOString(),
      pendingDue,
    );
    await state.storage.setAlarm(pendingDue);
  });
}

/** The hold a crashed creation's coordinator sent to one product (3 units). */
function holdOfAttempt(product_id: string, reservation_id: string, attempt: number, expires_at: string) {
  return ledgerStub(product_id).hold({
    reservation_id,
    created_by: "test-writer",
    reason: "checkout",
    idempotency_key: "k",
    attempt,
    expires_at,
    lines: [{ location_id: "default", quantity: 3 }],
  });
}

/** A product's history, ascending, as a reader sees it. */
