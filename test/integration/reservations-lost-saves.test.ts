// A reservation's own saves: held saved after the answer, storage errors in them, and a held that a crash never saved.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import type { Reservation } from "../../src/durable/reservation/object";
import { RESERVATION_RETRY_BACKOFF_MS } from "../../src/limits";
import { call, freshKey, getStock, historyOf, stocked } from "../helpers/http";
import { ledgerStub, rawState, reservationRows } from "../helpers/ledger-object";
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
    const created = await createReservation(body, { key });
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
    const retried = await createReservation(body, { key });
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
