// The one way the Durable Objects write SQL: constant statements with bound parameters, on the
// object's own SQLite (ctx.storage.sql), synchronously, so that a command composes them inside
// one transactionSync with no await in between. Constant text is also the fast way: workerd
// keeps a prepared statement per distinct text, while a query builder made the text anew on
// every call, which cost more CPU than SQLite took to run the small queries of a write.
// drizzle stays for what it does well here: the table definitions and their migrations.

export type Sql = SqlStorage;
type Value = SqlStorageValue;
type Row = Record<string, Value>;

/** Every row of a query, read to the end before anything else runs (cursors must not cross an await). */
export function allRows<T extends Row>(sql: Sql, query: string, ...params: Value[]): T[] {
  return sql.exec<T>(query, ...params).toArray();
}

/** The first row of a query, or undefined. */
export function firstRow<T extends Row>(sql: Sql, query: string, ...params: Value[]): T | undefined {
  return sql.exec<T>(query, ...params).toArray()[0];
}

/** Runs a statement that returns nothing the caller needs. */
export function run(sql: Sql, query: string, ...params: Value[]): void {
  sql.exec(query, ...params);
}
