// The one shape of every answer that crosses a Durable Object's RPC boundary: a value, or an
// error with a stable `code` and the data a caller needs to act on it. Thrown errors lose their
// class and fields over RPC (PLATFORM.md), so business outcomes never travel as exceptions;
// a throw is a bug. The HTTP layer maps every code to a problem in one exhaustive switch.

export type Ok<T extends object> = { ok: true } & T;
export type Err<E extends { code: string }> = { ok: false; error: E };
export type Result<T extends object, E extends { code: string }> = Ok<T> | Err<E>;

export function ok<T extends object>(value: T): Ok<T> {
  return { ok: true, ...value };
}

export function err<E extends { code: string }>(error: E): Err<E> {
  return { ok: false, error };
}
