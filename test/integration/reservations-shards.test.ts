// Reservations share RESERVATION_SHARDS objects. These tests put several reservations in one
// object on purpose and check that each keeps its own lifecycle and its own alarm time.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import initMigration from "../../migrations/reservation/0000_init.sql";
import shardMigration from "../../migrations/reservation/0002_drop_single_reservation.sql";
import type { Reservation } from "../../src/durable/reservation/object";
import { dueReservationIds } from "../../src/durable/reservation/store";
import { reservationShard } from "../../src/ledger/reservations";
import { RESERVATION_ALARM_BATCH_MAX, RESERVATION_ALARM_PRODUCT_CALLS_MAX } from "../../src/limits";
import { call, freshProductId, getStock, stocked } from "../helpers/http";
import { closeProductFor } from "../helpers/ledger-object";
import {
  closeReservation,
  createReservation,
  reservationPhase,
  reservationStatus,
  reservationStub,
  savesAfterAnswerDone,
  waitFor,
} from "../helpers/reservations";

/** `count` fresh reservation ids that all land in the same Reservation object. */
function idsInOneShard(count: number): string[] {
  const first = `shared-${crypto.randomUUID()}`;
  const shard = reservationShard(first);
  const ids = [first];
  while (ids.length < count) {
    const candidate = `shared-${crypto.randomUUID()}`;
    if (reservationShard(candidate) === shard) ids.push(candidate);
  }
  return ids;
}

/**
 * Makes held reservations of one shard expire all at once, a second ago, and fires the shard's
 * alarm: more are then due together than one alarm run may take, so only further runs, each
 * set by the one before, can expire the rest.
 */
async function makeDueAtOnce(ids: string[]): Promise<string[]> {
  await savesAfterAnswerDone(ids);
  const past_ms = Date.now() - 1_000;
  return runInDurableObject<Reservation, string[]>(reservationStub(ids[0]!), async (_instance, state) => {
    const placeholders = ids.map(() => "?").join(", ");
    state.storage.sql.exec(
      `UPDATE reservations SET expires_at = ?, alarm_at = ? WHERE id IN (${placeholders})`,
      new Date(past_ms).toISOString(),
      past_ms,
      ...ids,
    );
    // What one alarm run takes of them, read before the alarm is set (the run reads the same).
    const firstRun = dueReservationIds(state.storage.sql, Date.now(), RESERVATION_ALARM_BATCH_MAX);
    await state.storage.setAlarm(Date.now());
    return firstRun;
  });
}

async function alarmOf(id: string): Promise<number | null> {
  return runInDurableObject<Reservation, number | null>(reservationStub(id), (_instance, state) => state.storage.getAlarm());
}

describe("reservations sharing one object", () => {
  it("expires the earlier one by the alarm, then aims the alarm at the later one, which stays held and can be sold", async () => {
    const product = await stocked(10);
    const [early, late] = idsInOneShard(2) as [string, string];
    expect((await createReservation({ reservation_id: early, ttl_seconds: 1, lines: [{ product_id: product, quantity: 3 }] })).status).toBe(
      201,
    );
    const lateCreated = await createReservation({ reservation_id: late, ttl_seconds: 600, lines: [{ product_id: product, quantity: 4 }] });
    expect(lateCreated.status).toBe(201);
    const { expires_at } = (await lateCreated.json()) as { expires_at: string };

    await waitFor(async () => (await reservationStatus(early)) === "expired", 10_000, 100);
    expect(await reservationStatus(late)).toBe("held");
    expect((await getStock(product)).body).toMatchObject({ on_hand: 10, reserved: 4, available: 6 });
    // The one alarm now waits for the remaining reservation's expiry.
    expect(await alarmOf(late)).toBe(Date.parse(expires_at));

    expect((await closeReservation(late, "commit")).status).toBe(200);
    expect((await getStock(product)).body).toMatchObject({ on_hand: 6, reserved: 0, available: 6 });
    // A save never reads the other rows to move the alarm later, so the alarm may wake once
    // more than needed; that run finds nothing left to do and clears it.
    await runDurableObjectAlarm(reservationStub(late));
    expect(await alarmOf(late)).toBeNull();
    expect(await reservationStatus(late)).toBe("committed");
  });

  it("sets the alarm again when it finds it overdue, so a reservation is still expired after its alarm was removed", async () => {
    const product = await stocked(10);
    const [first, second] = idsInOneShard(2) as [string, string];
    expect((await createReservation({ reservation_id: first, ttl_seconds: 1, lines: [{ product_id: product, quantity: 2 }] })).status).toBe(
      201,
    );
    // Something other than the object removes its alarm, and the expiry time passes.
    await runInDurableObject<Reservation, void>(reservationStub(first), (_instance, state) => state.storage.deleteAlarm());
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // The next save in that object sees the alarm it knows of is overdue, and sets it again.
    expect(
      (await createReservation({ reservation_id: second, ttl_seconds: 600, lines: [{ product_id: product, quantity: 1 }] })).status,
    ).toBe(201);
    await waitFor(async () => (await reservationPhase(first)) === "expired", 10_000, 100);
    expect(await reservationStatus(second)).toBe("held");
    expect((await getStock(product)).body).toMatchObject({ reserved: 1 });
  });

  it("does not make a reservation wait for another one of the same object whose product is slow, and runs each id's operations in order", async () => {
    const slow = await stocked(10);
    const fast = await stocked(10);
    const [waiting, other] = idsInOneShard(2) as [string, string];
    const { reopened } = await closeProductFor(slow, 1_500);
    let slowIsOpen = false;
    void reopened.then(() => {
      slowIsOpen = true;
    });
    const order: string[] = [];
    const first = createReservation({ reservation_id: waiting, lines: [{ product_id: slow, quantity: 1 }] }).then((response) => {
      order.push("create");
      return response.status;
    });
    await waitFor(async () => (await reservationPhase(waiting)) === "pending", 1_000, 10);
    // Queued behind the creation of the same id: it must run after it and see its outcome.
    const read = reservationStatus(waiting).then((status) => {
      order.push("read");
      return status;
    });

    // Another reservation of the same object is created and read while the slow product is still closed.
    expect((await createReservation({ reservation_id: other, lines: [{ product_id: fast, quantity: 1 }] })).status).toBe(201);
    expect(await reservationStatus(other)).toBe("held");
    expect(slowIsOpen).toBe(false);

    await reopened;
    expect(await first).toBe(201);
    expect(await read).toBe("held");
    expect(order).toEqual(["create", "read"]);
  });

  it("keeps each reservation's outcome its own: committing one does not touch another in the same object", async () => {
    const product = await stocked(10);
    const [a, b] = idsInOneShard(2) as [string, string];
    for (const id of [a, b])
      expect((await createReservation({ reservation_id: id, lines: [{ product_id: product, quantity: 2 }] })).status).toBe(201);
    expect((await closeReservation(a, "commit")).status).toBe(200);
    expect(await reservationStatus(a)).toBe("committed");
    expect(await reservationStatus(b)).toBe("held");
    expect((await closeReservation(b, "release")).status).toBe(200);
    expect(await reservationPhase(a)).toBe("committed");
    expect(await reservationPhase(b)).toBe("released");
    expect((await getStock(product)).body).toMatchObject({ on_hand: 8, reserved: 0, available: 8 });
  });

  it(`expires more reservations than one alarm run takes (${RESERVATION_ALARM_BATCH_MAX}), over several runs`, async () => {
    const product = await stocked(1_000);
    const ids = idsInOneShard(RESERVATION_ALARM_BATCH_MAX + 5);
    for (let start = 0; start < ids.length; start += 10) {
      const statuses = await Promise.all(
        ids
          .slice(start, start + 10)
          .map(
            async (id) =>
              (await createReservation({ reservation_id: id, ttl_seconds: 600, lines: [{ product_id: product, quantity: 1 }] })).status,
          ),
      );
      expect(statuses).toEqual(statuses.map(() => 201));
    }
    const firstRun = await makeDueAtOnce(ids);
    expect(firstRun).toHaveLength(RESERVATION_ALARM_BATCH_MAX);
    await waitFor(async () => ((await getStock(product)).body as { reserved: number }).reserved === 0, 20_000, 200);
    const phases = await Promise.all(ids.map((id) => reservationPhase(id)));
    expect(new Set(phases)).toEqual(new Set(["expired"]));
    // Every unit came back exactly once.
    expect((await getStock(product)).body).toMatchObject({ on_hand: 1_000, reserved: 0, available: 1_000 });
  });

  it("expires reservations whose product calls pass one alarm run's budget, over several runs", async () => {
    // Reservations of 100 products each: 5 of them use a run's 500 product calls.
    const products = Array.from({ length: 100 }, () => freshProductId("wide"));
    const stockUp = await call("POST", "/v1/transactions/batch", {
      role: "writer",
      headers: { "idempotency-key": crypto.randomUUID() },
      body: { transactions: products.map((product_id) => ({ product_id, type: "ADD", quantity: 10, reason: "stock" })) },
    });
    expect(stockUp.status).toBe(200);
    const ids = idsInOneShard(Math.floor(RESERVATION_ALARM_PRODUCT_CALLS_MAX / products.length) + 2);
    for (const id of ids)
      expect(
        (
          await createReservation({
            reservation_id: id,
            ttl_seconds: 600,
            lines: products.map((product_id) => ({ product_id, quantity: 1 })),
          })
        ).status,
      ).toBe(201);
    await makeDueAtOnce(ids);
    await waitFor(
      async () => (await Promise.all(ids.map((id) => reservationPhase(id)))).every((phase) => phase === "expired"),
      30_000,
      200,
    );
    for (const product of products.slice(0, 3)) expect((await getStock(product)).body).toMatchObject({ on_hand: 10, reserved: 0 });
  });
});

describe("moving reservations stored one per object into the shared table (migration 0002)", () => {
  it("copies the old row with the time it next needs work, and drops the old table", async () => {
    // A fresh object stands in for one created before sharding: give it back the old table and
    // rows, then run the migration's statements against it.
    const legacy = env.RESERVATION.getByName(`legacy-${crypto.randomUUID()}`);
    const moved = await runInDurableObject<Reservation, { id: string; phase: string; alarm_at: number | null }[]>(
      legacy,
      (_instance, state) => {
        const sql = state.storage.sql;
        sql.exec(String(initMigration).split("--> statement-breakpoint")[0]!);
        const insert = (id: string, phase: string, expires_at: string) =>
          sql.exec(
            "INSERT INTO reservation (singleton, id, phase, reason, ttl_seconds, expires_at, created_by, created_at, lines, idempotency_key, fingerprint, attempt, retries, closed_by, closed_key, updated_at) VALUES (1, ?, ?, 'checkout', 900, ?, 'p', '2026-11-27T00:00:00.000Z', '[]', 'k', 'f', 1, 0, NULL, NULL, '2026-11-27T00:00:00.000Z')",
            id,
            phase,
            expires_at,
          );
        insert("old-held", "held", "2026-11-27T00:15:00.250Z");
        for (const statement of String(shardMigration).split("--> statement-breakpoint")) sql.exec(statement);
        const tables = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'reservation'").toArray();
        expect(tables).toEqual([]);
        return sql.exec("SELECT id, phase, alarm_at FROM reservations WHERE id LIKE 'old-%'").toArray() as {
          id: string;
          phase: string;
          alarm_at: number | null;
        }[];
      },
    );
    // A held one wakes at its expiry, to the millisecond.
    expect(moved).toEqual([{ id: "old-held", phase: "held", alarm_at: Date.parse("2026-11-27T00:15:00.250Z") }]);
  });

  it.each([
    ["pending", 0],
    ["committing", 0],
    ["committed", null],
    ["failed", null],
  ])("gives a %s row the alarm time %s (due now while unfinished, none once final)", async (phase, alarm_at) => {
    const legacy = env.RESERVATION.getByName(`legacy-${crypto.randomUUID()}`);
    const moved = await runInDurableObject<Reservation, unknown>(legacy, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(String(initMigration).split("--> statement-breakpoint")[0]!);
      sql.exec(
        "INSERT INTO reservation (singleton, id, phase, reason, ttl_seconds, expires_at, created_by, created_at, lines, idempotency_key, fingerprint, attempt, retries, closed_by, closed_key, updated_at) VALUES (1, 'old', ?, 'checkout', 900, '2026-11-27T00:15:00.000Z', 'p', '2026-11-27T00:00:00.000Z', '[]', 'k', 'f', 1, 0, NULL, NULL, '2026-11-27T00:00:00.000Z')",
        phase,
      );
      for (const statement of String(shardMigration).split("--> statement-breakpoint")) sql.exec(statement);
      return sql.exec("SELECT alarm_at FROM reservations WHERE id = 'old'").one().alarm_at;
    });
    expect(moved).toBe(alarm_at);
  });
});

describe("a reservation whose step fails unexpectedly", () => {
  it("is retried later with backoff, while the other reservations of its object still expire, and the alarm does not spin", async () => {
    const product = await stocked(10);
    const [broken, fine] = idsInOneShard(2) as [string, string];
    for (const id of [broken, fine])
      expect((await createReservation({ reservation_id: id, ttl_seconds: 1, lines: [{ product_id: product, quantity: 1 }] })).status).toBe(
        201,
      );
    await savesAfterAnswerDone([broken, fine]);
    // A row that cannot be read (a stand-in for a bug or a storage error in one reservation).
    await runInDurableObject<Reservation, void>(reservationStub(broken), (_instance, state) => {
      state.storage.sql.exec("UPDATE reservations SET lines = 'not json' WHERE id = ?", broken);
    });
    await waitFor(async () => (await reservationPhase(fine)) === "expired", 10_000, 100);
    const after = await runInDurableObject<Reservation, { retries: number; alarm_at: number; alarm: number | null; now: number }>(
      reservationStub(broken),
      async (_instance, state) => {
        const row = state.storage.sql.exec("SELECT retries, alarm_at FROM reservations WHERE id = ?", broken).one() as {
          retries: number;
          alarm_at: number;
        };
        return { ...row, alarm: await state.storage.getAlarm(), now: Date.now() };
      },
    );
    expect(after.retries).toBeGreaterThanOrEqual(1);
    // Backed off into the future, and the object's alarm waits for it rather than firing again at once.
    expect(after.alarm_at).toBeGreaterThan(after.now);
    expect(after.alarm).toBe(after.alarm_at);
    expect((await getStock(product)).body).toMatchObject({ reserved: 1 });
  });
});
