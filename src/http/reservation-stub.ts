// How the worker reaches a reservation: the Reservation object that holds its share of all
// reservations, named by a hash of the id (reservationShard in src/ledger/reservations.ts).
import { reservationShard } from "../ledger/reservations";

export function reservationObject(env: Env, id: string) {
  return env.RESERVATION.getByName(reservationShard(id));
}
