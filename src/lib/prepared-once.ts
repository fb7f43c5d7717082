// drizzle builds the SQL text of a query on every call, and on the small queries of the write,
// reservation and export paths that building cost more CPU than SQLite took to run them
// (measured with `npm run bench` and a CPU profile). A prepared query is built once: this keeps
// one set of them per database handle, that is per Durable Object instance, and hands the same
// set back on every later call. Values are bound through sql.placeholder() at execution.

export function preparedOnce<Db extends object, Statements>(build: (db: Db) => Statements): (db: Db) => Statements {
  const byDb = new WeakMap<Db, Statements>();
  return (db) => {
    let statements = byDb.get(db);
    if (statements === undefined) {
      statements = build(db);
      byDb.set(db, statements);
    }
    return statements;
  };
}
