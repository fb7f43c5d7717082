// What a reservation request must be: valid fields, an Idempotency-Key and no If-Match, from a role that may write.
import { describe, expect, it } from "vitest";
import { call, freshKey, freshProductId, stock, stockOf } from "../helpers/http";
import {
  closeReservation,
  created,
  createReservation,
  expectNothingReserved,
  freshReservationId,
  getReservation,
  type ReservationRequest,
} from "../helpers/reservations";
import { expectProblem, expectStatus, type Reservation } from "../helpers/wire";

describe("validation of a reservation request", () => {
  it("defaults ttl_seconds to 900", async () => {
    const product = freshProductId();
    await stock(product, 1);
    const body = await created({ lines: [{ product_id: product, quantity: 1 }] });
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(900_000);
  });

  it("accepts ttl_seconds 1 and 86400", async () => {
    const product = freshProductId();
    await stock(product, 2);
    const short = await created({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 1 }] });
    expect(Date.parse(short.expires_at) - Date.parse(short.created_at)).toBe(1_000);
    const long = await created({ ttl_seconds: 86_400, lines: [{ product_id: product, quantity: 1 }] });
    expect(Date.parse(long.expires_at) - Date.parse(long.created_at)).toBe(86_400_000);
    // Give back the long hold so nothing lingers in this file's storage.
    expect((await closeReservation(long.id, "release")).status).toBe(200);
  });

  it("refuses ttl_seconds 0 and 86401 with 400 naming body.ttl_seconds, and holds nothing", async () => {
    const product = freshProductId();
    await stock(product, 5);
    for (const ttl_seconds of [0, 86_401, 1.5]) {
      const problem = await expectProblem(
        await createReservation({ ttl_seconds, lines: [{ product_id: product, quantity: 1 }] }),
        400,
        "invalid_request",
      );
      expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.ttl_seconds" })]));
    }
    await expectNothingReserved(product, 5);
  });

  it("refuses 0 lines and 101 lines with 400 naming body.lines", async () => {
    const none = await expectProblem(await createReservation({ lines: [] }), 400, "invalid_request");
    expect(none.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.lines" })]));

    const many = Array.from({ length: 101 }, () => ({ product_id: freshProductId(), quantity: 1 }));
    const tooMany = await expectProblem(await createReservation({ lines: many }), 400, "invalid_request");
    expect(tooMany.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.lines" })]));
  });

  it("accepts 100 lines past validation (a shortage on every line then answers 409 naming all 100)", async () => {
    const lines = Array.from({ length: 100 }, () => ({ product_id: freshProductId(), quantity: 1 }));
    const problem = await expectProblem(await createReservation({ lines }), 409, "insufficient_stock");
    expect(problem.lines).toHaveLength(100);
  });

  it("refuses two lines with the same product and location (location omitted on one, 'default' on the other) with 400", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const problem = await expectProblem(
      await createReservation({
        lines: [
          { product_id: product, quantity: 1 },
          { product_id: product, quantity: 2, location_id: "default" },
        ],
      }),
      400,
      "invalid_request",
    );
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(/^body\.lines\.1/) })]));
    await expectNothingReserved(product, 10);
  });

  it("refuses two identical lines at a named location with 400", async () => {
    const product = freshProductId();
    await stock(product, 10, "north");
    await expectProblem(
      await createReservation({
        lines: [
          { product_id: product, quantity: 1, location_id: "north" },
          { product_id: product, quantity: 1, location_id: "north" },
        ],
      }),
      400,
      "invalid_request",
    );
    await expectNothingReserved(product, 10);
  });

  it("refuses a bad reservation_id, a bad product id, a quantity of 0, a missing reason and an unknown field with 400", async () => {
    const product = freshProductId();
    const cases: [ReservationRequest, string][] = [
      [{ reservation_id: "-starts-with-dash", lines: [{ product_id: product, quantity: 1 }] }, "body.reservation_id"],
      [{ reservation_id: "a".repeat(129), lines: [{ product_id: product, quantity: 1 }] }, "body.reservation_id"],
      [{ lines: [{ product_id: "bad id", quantity: 1 }] }, "body.lines.0.product_id"],
      [{ lines: [{ product_id: product, quantity: 0 }] }, "body.lines.0.quantity"],
      [{ lines: [{ product_id: product, quantity: 1, location_id: "" }] }, "body.lines.0.location_id"],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await createReservation(body), 400, "invalid_request");
      expect(problem.errors, path).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
    const noReason = await call("POST", "/v1/reservations", {
      role: "writer",
      headers: { "idempotency-key": freshKey() },
      body: { lines: [{ product_id: product, quantity: 1 }] },
    });
    await expectProblem(noReason, 400, "invalid_request");
    await expectProblem(await createReservation({ lines: [{ product_id: product, quantity: 1 }], surprise: true }), 400, "invalid_request");
  });

  it("answers 400 idempotency_key_required for a creation, a commit and a release without Idempotency-Key", async () => {
    const product = freshProductId();
    await stock(product, 2);
    await expectProblem(
      await createReservation({ lines: [{ product_id: product, quantity: 1 }] }, { key: null }),
      400,
      "idempotency_key_required",
    );
    await expectNothingReserved(product, 2);

    const reservation = await created({ lines: [{ product_id: product, quantity: 1 }] });
    await expectProblem(await closeReservation(reservation.id, "commit", { key: null }), 400, "idempotency_key_required");
    await expectProblem(await closeReservation(reservation.id, "release", { key: null }), 400, "idempotency_key_required");
    expect((await expectStatus<Reservation>(await getReservation(reservation.id), 200)).status).toBe("held");
  });
});

describe("If-Match on reservations", () => {
  it("answers 400 (header.if-match) to a create, commit or release sent with If-Match, and does nothing", async () => {
    const product = freshProductId();
    await stock(product, 5);
    const withIfMatch = (path: string, body?: unknown) =>
      call("POST", path, {
        role: "writer",
        headers: { "idempotency-key": freshKey(), "if-match": '"1"' },
        ...(body === undefined ? {} : { body }),
      });
    const refused = await expectProblem(
      await withIfMatch("/v1/reservations", { reason: "r", lines: [{ product_id: product, quantity: 1 }] }),
      400,
      "invalid_request",
    );
    expect((refused.errors as { path: string }[]).map((error) => error.path)).toEqual(["header.if-match"]);
    await expectNothingReserved(product, 5);
    const reservation = await created({ lines: [{ product_id: product, quantity: 2 }] });
    for (const action of ["commit", "release"]) {
      await expectProblem(await withIfMatch(`/v1/reservations/${reservation.id}/${action}`), 400, "invalid_request");
    }
    expect((await expectStatus<Reservation>(await getReservation(reservation.id), 200)).status).toBe("held");
  });
});

describe("roles", () => {
  it("forbids a reader to create, commit or release (403), and lets a reader GET", async () => {
    const product = freshProductId();
    await stock(product, 5);
    await expectProblem(await createReservation({ lines: [{ product_id: product, quantity: 1 }] }, { role: "reader" }), 403, "forbidden");
    await expectNothingReserved(product, 5);

    const reservation = await created({ lines: [{ product_id: product, quantity: 1 }] });
    await expectProblem(await closeReservation(reservation.id, "commit", { role: "reader" }), 403, "forbidden");
    await expectProblem(await closeReservation(reservation.id, "release", { role: "reader" }), 403, "forbidden");
    expect(await expectStatus<Reservation>(await getReservation(reservation.id, "reader"), 200)).toEqual(reservation);
    expect(await stockOf(product)).toMatchObject({ on_hand: 5, reserved: 1 });
  });

  it("answers 401 without a token on every reservation route", async () => {
    const id = freshReservationId();
    const responses = [
      await call("POST", "/v1/reservations", {
        role: null,
        headers: { "idempotency-key": freshKey() },
        body: { reason: "r", lines: [{ product_id: "sku-1", quantity: 1 }] },
      }),
      await call("GET", `/v1/reservations/${id}`, { role: null }),
      await call("POST", `/v1/reservations/${id}/commit`, { role: null, headers: { "idempotency-key": freshKey() } }),
      await call("POST", `/v1/reservations/${id}/release`, { role: null, headers: { "idempotency-key": freshKey() } }),
    ];
    for (const response of responses) await expectProblem(response, 401, "unauthorized");
  });

  it("lets a writer commit a reservation that an admin created", async () => {
    const product = freshProductId();
    await stock(product, 5);
    const reservation = await created({ lines: [{ product_id: product, quantity: 2 }] }, { role: "admin" });
    expect((await expectStatus<Reservation>(await closeReservation(reservation.id, "commit", { role: "writer" }), 200)).status).toBe(
      "committed",
    );
    expect(await stockOf(product)).toMatchObject({ on_hand: 3, reserved: 0 });
  });
});
