// Black-box tests of reservations over HTTP: creation across products, all or nothing under a
// shortage, idempotency of creation, commit, release, expiry, roles, and the rows they leave.
// Storage is shared by the tests of this file, so every test uses its own product and reservation ids.
import { describe, expect, it } from "vitest";
import { call, freshKey, freshProductId, historyRows, postTransaction, stockOf } from "../helpers/http";
import { rawState, sumsFromRows } from "../helpers/ledger-object";
import type { TestRole } from "../helpers/tokens";
import { expectProblem, RFC3339_MS, type Transaction } from "../helpers/wire";

interface ReservationLine {
  product_id: string;
  location_id: string;
  quantity: number;
}

interface Reservation {
  id: string;
  status: "held" | "committed" | "released" | "expired";
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  lines: ReservationLine[];
}

interface ShortLine {
  product_id: string;
  location_id: string;
  requested: number;
  available: number;
}

interface ReservationRequest {
  reservation_id?: string;
  reason?: string;
  ttl_seconds?: number;
  lines?: { product_id: string; quantity: number; location_id?: string }[];
  [field: string]: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freshReservationId(): string {
  return `rsv-test-${crypto.randomUUID()}`;
}

function reserve(body: ReservationRequest, options: { key?: string | null; role?: TestRole } = {}): Promise<Response> {
  const key = options.key === undefined ? freshKey() : options.key;
  return call("POST", "/v1/reservations", {
    role: options.role ?? "writer",
    headers: key === null ? {} : { "idempotency-key": key },
    body: { reason: "checkout-test", ...body },
  });
}

function closeReservation(
  action: "commit" | "release",
  id: string,
  options: { key?: string | null; role?: TestRole } = {},
): Promise<Response> {
  const key = options.key === undefined ? freshKey() : options.key;
  return call("POST", `/v1/reservations/${encodeURIComponent(id)}/${action}`, {
    role: options.role ?? "writer",
    headers: key === null ? {} : { "idempotency-key": key },
  });
}

function getReservation(id: string, role: TestRole = "reader"): Promise<Response> {
  return call("GET", `/v1/reservations/${encodeURIComponent(id)}`, { role });
}

/** Creates a reservation and expects 201; returns the parsed body. */
async function created(body: ReservationRequest, options: { key?: string; role?: TestRole } = {}): Promise<Reservation> {
  const response = await reserve(body, options);
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return JSON.parse(text) as Reservation;
}

async function expectStatus<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Puts stock on a product with an ADD and expects 201. */
async function stock(product_id: string, quantity: number, location_id = "default"): Promise<void> {
  const response = await postTransaction(product_id, { type: "ADD", quantity, location_id });
  expect(response.status, await response.text()).toBe(201);
}

/** The cache of a product equals the sums of its raw ledger rows, and nothing is reserved. */
async function expectNothingReserved(product_id: string, on_hand: number): Promise<void> {
  const body = await stockOf(product_id);
  expect(body).toMatchObject({ on_hand, reserved: 0, available: on_hand });
  const raw = await rawState(product_id);
  const sums = sumsFromRows(raw.rows);
  for (const level of raw.levels) {
    expect(level.reserved).toBe(0);
    expect(level).toEqual({ location_id: level.location_id, ...sums.get(level.location_id)! });
  }
  for (const sum of sums.values()) expect(sum.reserved).toBe(0);
}

/** Every RESERVE row of this reservation is matched by a RELEASE row of it, per location and quantity. */
function expectReservesGivenBack(rows: Transaction[], reservation_id: string): void {
  const mine = rows.filter((row) => row.reservation_id === reservation_id);
  const reserves = mine
    .filter((row) => row.type === "RESERVE")
    .map((row) => `${row.location_id}:${row.quantity}`)
    .sort();
  const releases = mine
    .filter((row) => row.type === "RELEASE")
    .map((row) => `${row.location_id}:${row.quantity}`)
    .sort();
  expect(releases).toEqual(reserves);
  expect(mine.every((row) => row.type === "RESERVE" || row.type === "RELEASE")).toBe(true);
}

describe("creating a reservation", () => {
  it("answers 201 with the reservation object: id, status held, reason, expires_at = created_at + ttl_seconds, created_by and lines with default locations", async () => {
    const a = freshProductId();
    const b = freshProductId();
    await stock(a, 10);
    await stock(b, 5, "north");
    const reservation_id = freshReservationId();

    const response = await reserve({
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
    const body = await expectStatus<Reservation>(await reserve({ lines: [{ product_id: product, quantity: 1 }] }, { key }), 201);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`test-writer\n${key}`)));
    const hex = [...digest.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    expect(body.id).toBe(`rsv-${hex}`);
  });
});

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
    expect((await closeReservation("release", long.id)).status).toBe(200);
  });

  it("refuses ttl_seconds 0 and 86401 with 400 naming body.ttl_seconds, and holds nothing", async () => {
    const product = freshProductId();
    await stock(product, 5);
    for (const ttl_seconds of [0, 86_401, 1.5]) {
      const problem = await expectProblem(
        await reserve({ ttl_seconds, lines: [{ product_id: product, quantity: 1 }] }),
        400,
        "invalid_request",
      );
      expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.ttl_seconds" })]));
    }
    await expectNothingReserved(product, 5);
  });

  it("refuses 0 lines and 101 lines with 400 naming body.lines", async () => {
    const none = await expectProblem(await reserve({ lines: [] }), 400, "invalid_request");
    expect(none.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.lines" })]));

    const many = Array.from({ length: 101 }, () => ({ product_id: freshProductId(), quantity: 1 }));
    const tooMany = await expectProblem(await reserve({ lines: many }), 400, "invalid_request");
    expect(tooMany.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.lines" })]));
  });

  it("accepts 100 lines past validation (a shortage on every line then answers 409 naming all 100)", async () => {
    const lines = Array.from({ length: 100 }, () => ({ product_id: freshProductId(), quantity: 1 }));
    const problem = await expectProblem(await reserve({ lines }), 409, "insufficient_stock");
    expect(problem.lines).toHaveLength(100);
  });

  it("refuses two lines with the same product and location (location omitted on one, 'default' on the other) with 400", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const problem = await expectProblem(
      await reserve({
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
      await reserve({
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
      const problem = await expectProblem(await reserve(body), 400, "invalid_request");
      expect(problem.errors, path).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
    const noReason = await call("POST", "/v1/reservations", {
      role: "writer",
      headers: { "idempotency-key": freshKey() },
      body: { lines: [{ product_id: product, quantity: 1 }] },
    });
    await expectProblem(noReason, 400, "invalid_request");
    await expectProblem(await reserve({ lines: [{ product_id: product, quantity: 1 }], surprise: true }), 400, "invalid_request");
  });

  it("answers 400 idempotency_key_required for a creation, a commit and a release without Idempotency-Key", async () => {
    const product = freshProductId();
    await stock(product, 2);
    await expectProblem(await reserve({ lines: [{ product_id: product, quantity: 1 }] }, { key: null }), 400, "idempotency_key_required");
    await expectNothingReserved(product, 2);

    const reservation = await created({ lines: [{ product_id: product, quantity: 1 }] });
    await expectProblem(await closeReservation("commit", reservation.id, { key: null }), 400, "idempotency_key_required");
    await expectProblem(await closeReservation("release", reservation.id, { key: null }), 400, "idempotency_key_required");
    expect((await expectStatus<Reservation>(await getReservation(reservation.id), 200)).status).toBe("held");
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

    const response = await reserve({
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
      await reserve({
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

    await expectProblem(await reserve(body, { key }), 409, "insufficient_stock");
    await expectNothingReserved(a, 5);

    await stock(b, 3);
    const retried = await reserve(body, { key });
    const reservation = await expectStatus<Reservation>(retried, 201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect(reservation.status).toBe("held");
    expect(await stockOf(a)).toMatchObject({ on_hand: 5, reserved: 2, available: 3 });
    expect(await stockOf(b)).toMatchObject({ on_hand: 3, reserved: 3, available: 0 });

    // And now it is remembered: the same key replays it.
    const replay = await reserve(body, { key });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as Reservation).id).toBe(reservation.id);
    expect(await stockOf(a)).toMatchObject({ reserved: 2 });
  });

  it("lets another key create a reservation_id whose earlier creation failed", async () => {
    const product = freshProductId();
    const reservation_id = freshReservationId();
    await expectProblem(await reserve({ reservation_id, lines: [{ product_id: product, quantity: 1 }] }), 409, "insufficient_stock");
    await stock(product, 1);
    const reservation = await created({ reservation_id, lines: [{ product_id: product, quantity: 1 }] });
    expect(reservation).toMatchObject({ id: reservation_id, status: "held" });
    expect(await stockOf(product)).toMatchObject({ on_hand: 1, reserved: 1, available: 0 });
  });
});

describe("idempotency of creation", () => {
  it("replays the same key without reservation_id as 200 with Idempotent-Replayed and the same reservation, holding nothing twice", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    const body = { ttl_seconds: 300, lines: [{ product_id: product, quantity: 4 }] };

    const first = await created(body, { key });
    const replay = await reserve(body, { key });
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
    const replay = await reserve(body, { key });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await expectStatus<Reservation>(replay, 200)).toEqual(first);
    expect(await stockOf(product)).toMatchObject({ reserved: 1 });
  });

  it("answers 200 to concurrent identical creations under one key, of which exactly one is 201, holding once", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const key = freshKey();
    const body = { lines: [{ product_id: product, quantity: 3 }] };

    const responses = await Promise.all(Array.from({ length: 8 }, () => reserve(body, { key })));
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
    expect((await closeReservation("commit", committed.id)).status).toBe(200);
    expect((await closeReservation("release", released.id)).status).toBe(200);

    const replayCommitted = await reserve(toCommit, { key: commitKey });
    expect(replayCommitted.headers.get("idempotent-replayed")).toBe("true");
    expect(await expectStatus<Reservation>(replayCommitted, 200)).toEqual({ ...committed, status: "committed" });

    const replayReleased = await reserve(toRelease, { key: releaseKey });
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

    await expectProblem(await reserve({ lines: [{ product_id: product, quantity: 3 }] }, { key }), 422, "idempotency_key_reused");
    await expectProblem(
      await reserve({ reason: "another reason", lines: [{ product_id: product, quantity: 2 }] }, { key }),
      422,
      "idempotency_key_reused",
    );
    await expectProblem(
      await reserve({ ttl_seconds: 60, lines: [{ product_id: product, quantity: 2 }] }, { key }),
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
      await reserve({ reservation_id, lines: [{ product_id: product, quantity: 1 }] }, { key }),
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
    const second = await reserve({ reservation_id: freshReservationId(), lines: [{ product_id: product, quantity: 2 }] }, { key });
    expect(second.status).toBe(201);
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 4, available: 6 });
  });

  it("answers 409 reservation_exists for an existing reservation_id under a different key, and holds nothing more", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation_id = freshReservationId();
    const body = { reservation_id, lines: [{ product_id: product, quantity: 2 }] };
    const first = await created(body);

    await expectProblem(await reserve(body), 409, "reservation_exists");
    await expectProblem(await reserve({ reservation_id, lines: [{ product_id: product, quantity: 5 }] }), 409, "reservation_exists");
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 2, available: 8 });
    expect(await expectStatus<Reservation>(await getReservation(reservation_id), 200)).toEqual(first);
  });

  it("answers 409 reservation_exists for a different key even after the reservation was released", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation_id = freshReservationId();
    await created({ reservation_id, lines: [{ product_id: product, quantity: 2 }] });
    expect((await closeReservation("release", reservation_id)).status).toBe(200);
    await expectProblem(await reserve({ reservation_id, lines: [{ product_id: product, quantity: 2 }] }), 409, "reservation_exists");
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
    expect((await closeReservation("commit", reservation.id)).status).toBe(200);
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

    const body = await expectStatus<Reservation>(await closeReservation("commit", reservation_id), 200);
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

    const first = await expectStatus<Reservation>(await closeReservation("commit", reservation.id), 200);
    const second = await expectStatus<Reservation>(await closeReservation("commit", reservation.id), 200);
    expect(second).toEqual(first);
    expect(second.status).toBe("committed");
    expect(await stockOf(product)).toMatchObject({ on_hand: 6, reserved: 0, available: 6, version: 4 });
    expect((await historyRows(product)).filter((row) => row.type === "REMOVE")).toHaveLength(1);
  });

  it("answers 409 reservation_not_active with status released when committing a released reservation", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation = await created({ lines: [{ product_id: product, quantity: 4 }] });
    expect((await closeReservation("release", reservation.id)).status).toBe(200);

    // RFC 9457: the problem's `status` member is the HTTP status (409); the reservation's own
    // status travels beside it, in `reservation_status`.
    const problem = await expectProblem(await closeReservation("commit", reservation.id), 409, "reservation_not_active");
    expect(problem.reservation_status).toBe("released");
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 0, available: 10 });
    expect((await historyRows(product)).filter((row) => row.type === "REMOVE")).toEqual([]);
  });

  it("answers 404 not_found when committing or releasing an unknown reservation", async () => {
    await expectProblem(await closeReservation("commit", freshReservationId()), 404, "not_found");
    await expectProblem(await closeReservation("release", freshReservationId()), 404, "not_found");
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

    const body = await expectStatus<Reservation>(await closeReservation("release", reservation_id), 200);
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

    const first = await expectStatus<Reservation>(await closeReservation("release", reservation.id), 200);
    const second = await expectStatus<Reservation>(await closeReservation("release", reservation.id), 200);
    expect(first.status).toBe("released");
    expect(second).toEqual(first);
    // The plain RESERVE of 2 is still there: the second release took nothing.
    expect(await stockOf(product)).toMatchObject({ on_hand: 10, reserved: 2, available: 8, version: 4 });
  });

  it("answers 409 reservation_not_active when releasing a committed reservation, and changes nothing", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation = await created({ lines: [{ product_id: product, quantity: 4 }] });
    expect((await closeReservation("commit", reservation.id)).status).toBe(200);
    const before = await rawState(product);

    const problem = await expectProblem(await closeReservation("release", reservation.id), 409, "reservation_not_active");
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

    const body = await expectStatus<Reservation>(await closeReservation("release", reservation.id), 200);
    expect(body).toEqual({ ...reservation, status: "expired" });
    await expectNothingReserved(product, 5);
    expectReservesGivenBack(await historyRows(product), reservation.id);
  });

  it("refuses a commit past expires_at with 409 reservation_not_active and status expired, selling nothing", async () => {
    const product = freshProductId();
    await stock(product, 5);
    const reservation = await created({ ttl_seconds: 1, lines: [{ product_id: product, quantity: 2 }] });
    await sleep(Math.max(0, Date.parse(reservation.expires_at) - Date.now()) + 300);

    const problem = await expectProblem(await closeReservation("commit", reservation.id), 409, "reservation_not_active");
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
    expect((await closeReservation("release", reservation.id)).status).toBe(200);
    await expectNothingReserved(product, 10);
  });

  it("lets a plain RELEASE take units again once the reservation holding them was committed", async () => {
    const product = freshProductId();
    await stock(product, 10);
    const reservation = await created({ lines: [{ product_id: product, quantity: 3 }] });
    expect((await postTransaction(product, { type: "RESERVE", quantity: 1 })).status).toBe(201);
    expect((await closeReservation("commit", reservation.id)).status).toBe(200);
    expect((await postTransaction(product, { type: "RELEASE", quantity: 1 })).status).toBe(201);
    expect(await stockOf(product)).toMatchObject({ on_hand: 7, reserved: 0, available: 7 });
  });
});

describe("roles", () => {
  it("forbids a reader to create, commit or release (403), and lets a reader GET", async () => {
    const product = freshProductId();
    await stock(product, 5);
    await expectProblem(await reserve({ lines: [{ product_id: product, quantity: 1 }] }, { role: "reader" }), 403, "forbidden");
    await expectNothingReserved(product, 5);

    const reservation = await created({ lines: [{ product_id: product, quantity: 1 }] });
    await expectProblem(await closeReservation("commit", reservation.id, { role: "reader" }), 403, "forbidden");
    await expectProblem(await closeReservation("release", reservation.id, { role: "reader" }), 403, "forbidden");
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
    expect((await expectStatus<Reservation>(await closeReservation("commit", reservation.id, { role: "writer" }), 200)).status).toBe(
      "committed",
    );
    expect(await stockOf(product)).toMatchObject({ on_hand: 3, reserved: 0 });
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
