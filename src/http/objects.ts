// How the worker reaches its Durable Objects: a product's own object by its id, and the
// Reservation object that holds a reservation's share (named by a hash of the id:
// reservationShard in src/ledger/reservations.ts).
import { reservationShard } from "../ledger/reservations";

export function productLedger(env: Env, product_id: string) {
  return env.PRODUCT_LEDGER.getByName(product_id);
}

export function reservationObject(env: Env, id: string) {
  return env.RESERVATION.getByName(reservationShard(id));
}
