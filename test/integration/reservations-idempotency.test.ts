// Idempotency of creating a reservation: replays under one key, a key reused with another body, ids taken under another key.
import { describe, expect, it } from "vitest";
import { freshKey, freshProductId, historyRows, stock, stockOf } from "../helpers/http";
import { closeReservation, created, createReservation, freshReservationId, getReservation } from "../helpers/reservations";
import { expectProblem, expectStatus, type Reservation } from "../helpers/wire";

describe("idempotency of creation", () => {
  it("replays the same key without reservation_id as 200 with Idempotent-Replayed and the same reservation, holding nothing twice", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    const body = { ttl_seconds: 300, lines: [{ product_id: product, quantity: 4 }] };

    const first = await created(body, { key });
    const replay = await createReservation(body, { key });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await expectStatus<Reservation>(replay, 200)).toEqual(first);

    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 4, available: 6, version: 2 });
    expect((await historyRows(product)).filter((row) => row.type === "RESERVE")).toHaveLength(1);
  });

  it("replays the same key with an explicit reservation_id as 200 with the same reservation", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    const body = { reservation_id: freshReservationId(), lines: [{ product_id: product, quantity: 1 }] };
    const first = await created(body, { key });
    const replay = await createReservation(body, { key });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await expectStatus<Reservation>(replay, 200)).toEqual(first);
    expect(await stockOf(product)).toMatchObject({ reserved: 1 });
  });

  it("answers 200 to concurrent identical creations under one key, of which exactly one is 201, holding once", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    const body = { lines: [{ product_id: product, quantity: 3 }] };

    const responses = await Promise.all(Array.from({ length: 8 }, () => createReservation(body, { key })));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(await Promise.all(responses.map(async (response) => ((await response.json()) as Reservation).id)));
    expect(ids.size).toBe(1);
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 3, available: 7 });
  });

  it("replays the reservation as it is now: committed after a commit, released after a release", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const commitKey = freshKey();
    const releaseKey = freshKey();
    const toCommit = { lines: [{ product_id: product, quantity: 2 }] };
    const toRelease = { lines: [{ product_id: product, quantity: 1 }] };

    const committed = await created(toCommit, { key: commitKey });
    const released = await created(toRelease, { key: releaseKey });
    expect((await closeReservation(committed.id, "commit")).status).toBe(200);
    expect((await closeReservation(released.id, "release")).status).toBe(200);

    const replayCommitted = await createReservation(toCommit, { key: commitKey });
    expect(replayCommitted.headers.get("idempotent-replayed")).toBe("true");
    expect(await expectStatus<Reservation>(replayCommitted, 200)).toEqual({ ...committed, status: "committed" });

    const replayReleased = await createReservation(toRelease, { key: releaseKey });
    expect(replayReleased.headers.get("idempotent-replayed")).toBe("true");
    expect(await expectStatus<Reservation>(replayReleased, 200)).toEqual({ ...released, status: "released" });

    // The replays held nothing again.
    expect(await stockOf(product)).toMatchObject({ on_hand: 8, reserved: 0, available: 8 });
  });

  it("answers 422 idempotency_key_reused for the same key with a different body, and holds nothing more", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    await created({ lines: [{ product_id: product, quantity: 2 }] }, { key });

    await expectProblem(await createReservation({ lines: [{ product_id: product, quantity: 3 }] }, { key }), 422, "idempotency_key_reused");
    await expectProblem(
      await createReservation({ reason: "another reason", lines: [{ product_id: product, quantity: 2 }] }, { key }),
      422,
      "idempotency_key_reused",
    );
    await expectProblem(
      await createReservation({ ttl_seconds: 60, lines: [{ product_id: product, quantity: 2 }] }, { key }),
      422,
      "idempotency_key_reused",
    );
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 2, available: 8 });
  });

  it("answers 422 idempotency_key_reused for the same key and reservation_id with different lines", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    const reservation_id = freshReservationId();
    await created({ reservation_id, lines: [{ product_id: product, quantity: 2 }] }, { key });
    await expectProblem(
      await createReservation({ reservation_id, lines: [{ product_id: product, quantity: 1 }] }, { key }),
      422,
      "idempotency_key_reused",
    );
    expect(await stockOf(product)).toMatchObject({ reserved: 2 });
  });

  // Idempotency-Key scope on POST /v1/reservations (README): the reservation. With a
  // reservation_id the key is checked against that reservation only; without one, the key
  // (per principal) chooses the id. A key sent with another reservation_id names another one.
  it("treats one key sent with two different reservation_ids as two reservations, since keys are scoped to the reservation", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    await created({ reservation_id: freshReservationId(), lines: [{ product_id: product, quantity: 2 }] }, { key });
    const second = await createReservation(
      { reservation_id: freshReservationId(), lines: [{ product_id: product, quantity: 2 }] },
      { key },
    );
    expect(second.status).toBe(201);
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 4, available: 6 });
  });

  it("answers 409 reservation_exists for an existing reservation_id under a different key, and holds nothing more", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation_id = freshReservationId();
    const body = { reservation_id, lines: [{ product_id: product, quantity: 2 }] };
    const first = await created(body);

    await expectProblem(await createReservation(body), 409, "reservation_exists");
    await expectProblem(
      await createReservation({ reservation_id, lines: [{ product_id: product, quantity: 5 }] }),
      409,
      "reservation_exists",
    );
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 2, available: 8 });
    expect(await expectStatus<Reservation>(await getReservation(reservation_id), 200)).toEqual(first);
  });

  it("answers 409 reservation_exists for a different key even after the reservation was released", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation_id = freshReservationId();
    await created({ reservation_id, lines: [{ product_id: product, quantity: 2 }] });
    expect((await closeReservation(reservation_id, "release")).status).toBe(200);
    await expectProblem(
      await createReservation({ reservation_id, lines: [{ product_id: product, quantity: 2 }] }),
      409,
      "reservation_exists",
    );
    expect(await stockOf(product)).toMatchObject({ reserved: 0 });
  });

  it("derives different reservations for the same key sent by different principals", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    const body = { lines: [{ product_id: product, quantity: 1 }] };
    const byWriter = await created(body, { key, role: "writer" });
    const byAdmin = await created(body, { key, role: "admin" });
    expect(byAdmin.id).not.toBe(byWriter.id);
    expect(byWriter.created_by).toBe("test-writer");
    expect(byAdmin.created_by).toBe("test-admin");
    expect(await stockOf(product)).toMatchObject({ reserved: 2 });
  });
});
