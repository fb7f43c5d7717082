// Reading, committing and releasing a reservation over HTTP, also past its expiry, and its holds beside a plain RELEASE.
import { describe, expect, it } from "vitest";
import { call, freshProductId, historyRows, postTransaction, stock, stockOf } from "../helpers/http";
import { rawState, sumsFromRows } from "../helpers/ledger-object";
import {
  closeReservation,
  created,
  expectNothingReserved,
  expectReservesGivenBack,
  freshReservationId,
  getReservation,
} from "../helpers/reservations";
import { sleep } from "../helpers/wait";
import { expectProblem, expectStatus, type Reservation } from "../helpers/wire";

describe("reading a reservation", () => {
  it("answers 404 not_found for an unknown id", async () => {
    await expectProblem(await getReservation(freshReservationId()), 404, "not_found");
  });

  it("answers 400 for an id that breaks the id rule", async () => {
    await expectProblem(await call("GET", "/v1/reservations/-bad", { role: "reader" }), 400, "invalid_request");
  });

  it("returns the current status after each step", async () => {
    const product = freshProductId();
    await stock(product, 4);
    const reservation = await created({ lines: [{ product_id: product, quantity: 1 }] });
    expect(await expectStatus<Reservation>(await getReservation(reservation.id), 200)).toEqual(reservation);
    expect((await closeReservation(reservation.id, "commit")).status).toBe(200);
    expect(await expectStatus<Reservation>(await getReservation(reservation.id), 200)).toEqual({ ...reservation, status: "committed" });
  });
});

describe("committing a reservation", () => {
  it("answers 200 committed and writes RELEASE + REMOVE per line with the reservation id: reserved and on_hand drop, available stays", async () => {
    const a = freshProductId();
    const b = freshProductId();
    await stock(a, 10);
    await stock(b, 6, "north");
    await stock(b, 2, "south");
    const reservation_id = freshReservationId();
    const reservation = await created({
      reservation_id,
      reason: "order-9",
      lines: [
        { product_id: a, quantity: 3 },
        { product_id: b, quantity: 2, location_id: "north" },
        { product_id: b, quantity: 1, location_id: "south" },
      ],
    });
    const aBefore = await stockOf(a);
    const bBefore = await stockOf(b);

    const body = await expectStatus<Reservation>(await closeReservation(reservation_id, "commit"), 200);
    expect(body).toEqual({ ...reservation, status: "committed" });

    const aAfter = await stockOf(a);
    expect(aAfter).toMatchObject({ on_hand: 7, reserved: 0, available: 7 });
    expect(aAfter.available).toBe(aBefore.available);
    const bAfter = await stockOf(b);
    expect(bAfter).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
    expect(bAfter.available).toBe(bBefore.available);
    expect(bAfter.locations).toEqual([
      { location_id: "north", on_hand: 4, reserved: 0, available: 4 },
      { location_id: "south", on_hand: 1, reserved: 0, available: 1 },
    ]);

    const aRows = (await historyRows(a)).filter((row) => row.reservation_id === reservation_id);
    expect(aRows.map((row) => [row.type, row.quantity, row.delta, row.location_id])).toEqual([
      ["RESERVE", 3, -3, "default"],
      ["RELEASE", 3, 3, "default"],
      ["REMOVE", 3, -3, "default"],
    ]);
    const bRows = (await historyRows(b)).filter((row) => row.reservation_id === reservation_id && row.type !== "RESERVE");
    expect(bRows.map((row) => `${row.type}:${row.location_id}:${row.quantity}`).sort()).toEqual(
      ["RELEASE:north:2", "RELEASE:south:1", "REMOVE:north:2", "REMOVE:south:1"].sort(),
    );
    for (const product of [a, b]) {
      const raw = await rawState(product);
      const sums = sumsFromRows(raw.rows);
      expect(raw.levels).toEqual(raw.levels.map((level) => ({ location_id: level.location_id, ...sums.get(level.location_id)! })));
      expect(raw.totals!.version).toBe(raw.rows.length);
    }
  });

  it("answers 200 with the same result when committing twice, and sells only once", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation = await created({ lines: [{ product_id: product, quantity: 4 }] });

    const first = await expectStatus<Reservation>(await closeReservation(reservation.id, "commit"), 200);
    const second = await expectStatus<Reservation>(await closeReservation(reservation.id, "commit"), 200);
    expect(second).toEqual(first);
    expect(second.status).toBe("committed");
    expect(await stockOf(product)).toMatchObject({ on_hand: 6, reserved: 0, available: 6, version: 4 });
    expect((await historyRows(product)).filter((row) => row.type === "REMOVE")).toHaveLength(1);
  });

  it("answers 409 reservation_not_active with status released when committing a released reservation", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation = await created({ lines: [{ product_id: product, quantity: 4 }] });
    expect((await closeReservation(reservation.id, "release")).status).toBe(200);

    // RFC 9457: the problem's `status` member is the HTTP status (409); the reservation's own
    // status travels beside it, in `reservation_status`.
    const problem = await expectProblem(await closeReservation(reservation.id, "commit"), 409, "reservation_not_active");
    expect(problem.reservation_status).toBe("released");
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 0, available: 10 });
    expect((await historyRows(product)).filter((row) => row.type === "REMOVE")).toEqual([]);
  });

  it("answers 404 not_found when committing or releasing an unknown reservation", async () => {
    await expectProblem(await closeReservation(freshReservationId(), "commit"), 404, "not_found");
    await expectProblem(await closeReservation(freshReservationId(), "release"), 404, "not_found");
  });
});

describe("releasing a reservation", () => {
  it("answers 200 released and writes RELEASE rows with the reservation id: reserved drops, available rises, on_hand stays", async () => {
    const a = freshProductId();
    const b = freshProductId();
    await stock(a, 10);
    await stock(b, 3, "north");
    const reservation_id = freshReservationId();
    const reservation = await created({
      reservation_id,
      lines: [
        { product_id: a, quantity: 3 },
        { product_id: b, quantity: 3, location_id: "north" },
      ],
    });

    const body = await expectStatus<Reservation>(await closeReservation(reservation_id, "release"), 200);
    expect(body).toEqual({ ...reservation, status: "released" });
    await expectNothingReserved(a, 10);
    await expectNothingReserved(b, 3);
    for (const product of [a, b]) {
      const mine = (await historyRows(product)).filter((row) => row.reservation_id === reservation_id);
      expect(mine.map((row) => row.type)).toEqual(["RESERVE", "RELEASE"]);
      expect(mine[1]!.quantity).toBe(3);
    }
  });

  it("answers 200 released when releasing twice, and gives back only once", async () => {
    const product = freshProductId();
    await stock(product, 10);
    await postTransaction(product, { type: "RESERVE", quantity: 2 });
    const reservation = await created({ lines: [{ product_id: product, quantity: 4 }] });

    const first = await expectStatus<Reservation>(await closeReservation(reservation.id, "release"), 200);
    const second = await expectStatus<Reservation>(await closeReservation(reservation.id, "release"), 200);
    expect(first.status).toBe("released");
    expect(second).toEqual(first);
    // The plain RESERVE of 2 is still there: the second release took nothing.
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 2, available: 8, version: 4 });
  });

  it("answers 409 reservation_not_active when releasing a committed reservation, and changes nothing", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation = await created({ lines: [{ product_id: product, quantity: 4 }] });
    expect((await closeReservation(reservation.id, "commit")).status).toBe(200);
    const before = await rawState(product);

    const problem = await expectProblem(await closeReservation(reservation.id, "release"), 409, "reservation_not_active");
    expect(problem.reservation_status).toBe("committed");
    expect(await rawState(product)).toEqual(before);
    expect((await expectStatus<Reservation>(await getReservation(reservation.id), 200)).status).toBe("committed");
  });
});

describe("expiry", () => {
  it("answers 200 with status expired when releasing a reservation past expires_at, and nothing stays held", async () => {
    const product = freshProductId();
    await stock(product, 5);
    const reservation = await created({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 2 }] });
    await sleep(Math.max(0, Date.parse(reservation.expires_at) - Date.now()) + 300);

    const body = await expectStatus<Reservation>(await closeReservation(reservation.id, "release"), 200);
    expect(body).toEqual({ ...reservation, status: "expired" });
    await expectNothingReserved(product, 5);
    expectReservesGivenBack(await historyRows(product), reservation.id);
  });

  it("refuses a commit past expires_at with 409 reservation_not_active and status expired, selling nothing", async () => {
    const product = freshProductId();
    await stock(product, 5);
    const reservation = await created({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 2 }] });
    await sleep(Math.max(0, Date.parse(reservation.expires_at) - Date.now()) + 300);

    const problem = await expectProblem(await closeReservation(reservation.id, "commit"), 409, "reservation_not_active");
    expect(problem.reservation_status).toBe("expired");
    await expectNothingReserved(product, 5);
    expect((await historyRows(product)).filter((row) => row.type === "REMOVE")).toEqual([]);
    expect((await expectStatus<Reservation>(await getReservation(reservation.id), 200)).status).toBe("expired");
  });

  it("expires a held reservation by itself: status expired and RELEASE rows by system:expiry", async () => {
    const product = freshProductId();
    await stock(product, 5);
    const reservation = await created({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 3 }] });

    let status = "held";
    for (let tries = 0; tries < 60 && status !== "expired"; tries += 1) {
      await sleep(200);
      status = (await expectStatus<Reservation>(await getReservation(reservation.id), 200)).status;
    }
    expect(status).toBe("expired");
    await expectNothingReserved(product, 5);
    const release = (await historyRows(product)).filter((row) => row.reservation_id === reservation.id && row.type === "RELEASE");
    expect(release).toHaveLength(1);
    expect(release[0]).toMatchObject({ quantity: 3, created_by: "system:expiry" });
  });
});

describe("reservation holds and plain RELEASE", () => {
  it("refuses a plain RELEASE of units held by a reservation with 409 insufficient_reserved", async () => {
    const product = freshProductId();
    await stock(product, 10);
    await created({ lines: [{ product_id: product, quantity: 3 }] });

    const problem = await expectProblem(await postTransaction(product, { type: "RELEASE", quantity: 1 }), 409, "insufficient_reserved");
    expect(problem.stock).toMatchObject({ on_hand: 10, reserved: 3, available: 7 });
    expect(await stockOf(product)).toMatchObject({ reserved: 3, version: 2 });
  });

  it("lets a plain RELEASE take units reserved by a plain RESERVE, but not the reservation's on top", async () => {
    const product = freshProductId();
    await stock(product, 10);
    expect((await postTransaction(product, { type: "RESERVE", quantity: 2 })).status).toBe(201);
    const reservation = await created({ lines: [{ product_id: product, quantity: 3 }] });

    expect((await postTransaction(product, { type: "RELEASE", quantity: 2 })).status).toBe(201);
    await expectProblem(await postTransaction(product, { type: "RELEASE", quantity: 1 }), 409, "insufficient_reserved");
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 3, available: 7 });

    // The reservation can still give back its own units.
    expect((await closeReservation(reservation.id, "release")).status).toBe(200);
    await expectNothingReserved(product, 10);
  });

  it("lets a plain RELEASE take units again once the reservation holding them was committed", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation = await created({ lines: [{ product_id: product, quantity: 3 }] });
    expect((await postTransaction(product, { type: "RESERVE", quantity: 1 })).status).toBe(201);
    expect((await closeReservation(reservation.id, "commit")).status).toBe(200);
    expect((await postTransaction(product, { type: "RELEASE", quantity: 1 })).status).toBe(201);
    expect(await stockOf(product)).toMatchObject({ on_hand: 7, reserved: 0, available: 7 });
  });
});
