// Creating a reservation over HTTP: the object it answers with, the stock and rows it holds, and all or nothing under a shortage.
import { describe, expect, it } from "vitest";
import { freshKey, freshProductId, historyRows, stock, stockOf } from "../helpers/http";
import { rawState } from "../helpers/ledger-object";
import {
  created,
  createReservation,
  expectNothingReserved,
  expectReservesGivenBack,
  freshReservationId,
  getReservation,
} from "../helpers/reservations";
import { expectProblem, expectStatus, type Reservation, RFC3339_MS, type ShortLine } from "../helpers/wire";

describe("creating a reservation", () => {
  it("answers 201 with the reservation object: id, status held, reason, expires_at = created_at + ttl_seconds, created_by and lines with default locations", async () => {
    const a = freshProductId();
    const b = freshProductId();
    await stock(a, 10);
    await stock(b, 5, "north");
    const reservation_id = freshReservationId();

    const response = await createReservation({
      reservation_id,
      reason: "checkout-7f3a",
      ttl_seconds: 120,
      lines: [
        { product_id: a, quantity: 2 },
        { product_id: b, quantity: 1, location_id: "north" },
      ],
    });
    const body = await expectStatus<Reservation>(response, 201);
    expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json\b/);
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    expect(body).toEqual({
      id: reservation_id,
      status: "held",
      reason: "checkout-7f3a",
      expires_at: expect.stringMatching(RFC3339_MS),
      created_by: "test-writer",
      created_at: expect.stringMatching(RFC3339_MS),
      lines: [
        { product_id: a, location_id: "default", quantity: 2 },
        { product_id: b, location_id: "north", quantity: 1 },
      ],
    });
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(120_000);
    expect(Math.abs(Date.parse(body.created_at) - Date.now())).toBeLessThan(60_000);
  });

  it("moves stock on every product: reserved up, available down, on_hand unchanged", async () => {
    const a = freshProductId();
    const b = freshProductId();
    const c = freshProductId();
    await stock(a, 10);
    await stock(b, 4);
    await stock(c, 7, "east");

    await created({
      lines: [
        { product_id: a, quantity: 3 },
        { product_id: b, quantity: 4 },
        { product_id: c, quantity: 1, location_id: "east" },
      ],
    });

    expect(await stockOf(a)).toMatchObject({ on_hand: 10, reserved: 3, available: 7, version: 2 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 4, reserved: 4, available: 0, version: 2 });
    const cStock = await stockOf(c);
    expect(cStock).toMatchObject({ on_hand: 7, reserved: 1, available: 6, version: 2 });
    expect(cStock.locations).toEqual([{ location_id: "east", on_hand: 7, reserved: 1, available: 6 }]);
  });

  it("holds the same product at two different locations in one reservation", async () => {
    const product = freshProductId();
    await stock(product, 5, "north");
    await stock(product, 5, "south");

    const body = await created({
      lines: [
        { product_id: product, quantity: 2, location_id: "north" },
        { product_id: product, quantity: 3, location_id: "south" },
      ],
    });
    expect(body.lines).toEqual([
      { product_id: product, location_id: "north", quantity: 2 },
      { product_id: product, location_id: "south", quantity: 3 },
    ]);
    const after = await stockOf(product);
    expect(after).toMatchObject({ on_hand: 10, reserved: 5, available: 5 });
    expect(after.locations).toEqual([
      { location_id: "north", on_hand: 5, reserved: 2, available: 3 },
      { location_id: "south", on_hand: 5, reserved: 3, available: 2 },
    ]);
  });

  it("writes RESERVE rows that carry the reservation id and created_by = the principal, visible in the product's history", async () => {
    const product = freshProductId();
    await stock(product, 10, "north");
    const reservation_id = freshReservationId();

    await created(
      { reservation_id, reason: "order-77", lines: [{ product_id: product, quantity: 4, location_id: "north" }] },
      { role: "admin" },
    );

    const rows = await historyRows(product);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ seq: 1, type: "ADD", reservation_id: null });
    expect(rows[1]).toMatchObject({
      product_id: product,
      seq: 2,
      type: "RESERVE",
      quantity: 4,
      delta: -4,
      location_id: "north",
      reason: "order-77",
      created_by: "test-admin",
      reservation_id,
    });
    const raw = await rawState(product);
    expect(raw.rows.map((row) => row.type)).toEqual(["ADD", "RESERVE"]);
    expect(raw.totals).toMatchObject({ on_hand: 10, reserved: 4, version: 2 });
  });

  it("generates an id when reservation_id is absent, and GET returns the same object under it", async () => {
    const product = freshProductId();
    await stock(product, 3);

    const body = await created({ lines: [{ product_id: product, quantity: 1 }] });
    expect(body.id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:@~-]{0,127}$/);
    const fetched = await expectStatus<Reservation>(await getReservation(body.id), 200);
    expect(fetched).toEqual(body);
  });

  it("derives the generated id from the principal and the Idempotency-Key, as the README says", async () => {
    const product = freshProductId();
    await stock(product, 3);
    const key = `derived-${crypto.randomUUID()}`;
    const body = await expectStatus<Reservation>(await createReservation({ lines: [{ product_id: product, quantity: 1 }] }, { key }), 201);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`test-writer\n${key}`)));
    const hex = [...digest.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    expect(body.id).toBe(`rsv-${hex}`);
  });
});

describe("all or nothing under a shortage", () => {
  it("answers 409 insufficient_stock naming every short line, and afterwards no product has anything reserved", async () => {
    const enough = freshProductId();
    const oneShort = freshProductId();
    const empty = freshProductId();
    const elsewhere = freshProductId();
    const alsoEnough = freshProductId();
    await stock(enough, 5);
    await stock(oneShort, 1);
    await stock(elsewhere, 10, "north");
    await stock(alsoEnough, 10, "south");
    const reservation_id = freshReservationId();

    const response = await createReservation({
      reservation_id,
      lines: [
        { product_id: enough, quantity: 3 },
        { product_id: oneShort, quantity: 2 },
        { product_id: empty, quantity: 1 },
        { product_id: elsewhere, quantity: 1 },
        { product_id: alsoEnough, quantity: 10, location_id: "south" },
      ],
    });
    const problem = await expectProblem(response, 409, "insufficient_stock");
    const lines = (problem.lines as ShortLine[]).slice().sort((x, y) => x.product_id.localeCompare(y.product_id));
    const expected: ShortLine[] = [
      { product_id: oneShort, location_id: "default", requested: 2, available: 1 },
      { product_id: empty, location_id: "default", requested: 1, available: 0 },
      { product_id: elsewhere, location_id: "default", requested: 1, available: 0 },
    ];
    expect(lines).toEqual(expected.sort((x, y) => x.product_id.localeCompare(y.product_id)));

    await expectNothingReserved(enough, 5);
    await expectNothingReserved(oneShort, 1);
    await expectNothingReserved(empty, 0);
    await expectNothingReserved(elsewhere, 10);
    await expectNothingReserved(alsoEnough, 10);
    for (const product of [enough, oneShort, empty, elsewhere, alsoEnough]) {
      expectReservesGivenBack(await historyRows(product), reservation_id);
    }
    // The short products refused the whole hold: they have no rows of the reservation at all.
    for (const product of [oneShort, empty, elsewhere]) {
      expect((await historyRows(product)).filter((row) => row.reservation_id === reservation_id)).toEqual([]);
    }
    expect((await rawState(empty)).rows).toEqual([]);

    await expectProblem(await getReservation(reservation_id), 404, "not_found");
  });

  it("names both short locations when one product is short at two locations in one reservation", async () => {
    const product = freshProductId();
    await stock(product, 1, "north");
    await stock(product, 1, "south");
    await stock(product, 5, "east");

    const problem = await expectProblem(
      await createReservation({
        lines: [
          { product_id: product, quantity: 2, location_id: "north" },
          { product_id: product, quantity: 1, location_id: "east" },
          { product_id: product, quantity: 3, location_id: "south" },
        ],
      }),
      409,
      "insufficient_stock",
    );
    const lines = (problem.lines as ShortLine[]).slice().sort((x, y) => x.location_id.localeCompare(y.location_id));
    expect(lines).toEqual([
      { product_id: product, location_id: "north", requested: 2, available: 1 },
      { product_id: product, location_id: "south", requested: 3, available: 1 },
    ]);
    await expectNothingReserved(product, 7);
  });

  it("does not remember a failed creation: the same request with the same key succeeds with 201 once stock was added", async () => {
    const a = freshProductId();
    const b = freshProductId();
    await stock(a, 5);
    const key = freshKey();
    const body = {
      lines: [
        { product_id: a, quantity: 2 },
        { product_id: b, quantity: 3 },
      ],
    };

    await expectProblem(await createReservation(body, { key }), 409, "insufficient_stock");
    await expectNothingReserved(a, 5);

    await stock(b, 3);
    const retried = await createReservation(body, { key });
    const reservation = await expectStatus<Reservation>(retried, 201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect(reservation.status).toBe("held");
    expect(await stockOf(a)).toMatchObject({ on_hand: 5, reserved: 2, available: 3 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 3, reserved: 3, available: 0 });

    // And now it is remembered: the same key replays it.
    const replay = await createReservation(body, { key });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as Reservation).id).toBe(reservation.id);
    expect(await stockOf(a)).toMatchObject({ reserved: 2 });
  });

  it("lets another key create a reservation_id whose earlier creation failed", async () => {
    const product = freshProductId();
    const reservation_id = freshReservationId();
    await expectProblem(
      await createReservation({ reservation_id, lines: [{ product_id: product, quantity: 1 }] }),
      409,
      "insufficient_stock",
    );
    await stock(product, 1);
    const reservation = await created({ reservation_id, lines: [{ product_id: product, quantity: 1 }] });
    expect(reservation).toMatchObject({ id: reservation_id, status: "held" });
    expect(await stockOf(product)).toMatchObject({ on_hand: 1, reserved: 1, available: 0 });
  });
});
