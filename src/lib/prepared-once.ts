// drizzle builds the SQL text of a query on every call, and on the small queries of the write,
// reservation and export paths that building cost more CPU than SQLite took to run them
// (measured with `npm run bench` and a CPU profile). A prepared query is built once: this keeps
// them per database handle, that is per Durable Object instance, each built on its first use
// (not all at once, so an object woken for one query does not build the others).
// Values are bound through sql.placeholder() at execution.

export function preparedOnce<Builders extends Record<string, (db: never) => unknown>>(builders: Builders) {
  type Db = Parameters<Builders[keyof Builders]>[0] & object;
  const byDb = new WeakMap<Db, Map<keyof Builders, unknown>>();
  return <Name extends keyof Builders>(db: Db, name: Name): ReturnType<Builders[Name]> => {
    let built = byDb.get(db);
    if (built === undefined) {
      built = new Map();
      byDb.set(db, built);
    }
    let statement = built.get(name);
    if (statement === undefined) {
      statement = (builders[name] as (db: Db) => unknown)(db);
      built.set(name, statement);
    }
    return statement as ReturnType<Builders[Name]>;
  };
}
