// The baseline the benchmark compares the write path with: one Durable Object per product that
// does one INSERT and one UPDATE per request, in one transaction. No validation, no idempotency,
// no hash chain, no read model beyond one row: the floor of what a ledger write can cost here.
import { DurableObject } from "cloudflare:workers";

export class BareLedger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, delta INTEGER NOT NULL, created_at TEXT NOT NULL)",
    );
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS stock (id INTEGER PRIMARY KEY, on_hand INTEGER NOT NULL)");
    ctx.storage.sql.exec("INSERT OR IGNORE INTO stock (id, on_hand) VALUES (1, 0)");
  }

  write(id, delta) {
    return this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT INTO ledger (id, delta, created_at) VALUES (?, ?, ?)", id, delta, new Date().toISOString());
      return this.ctx.storage.sql.exec("UPDATE stock SET on_hand = on_hand + ? WHERE id = 1 RETURNING on_hand", delta).one().on_hand;
    });
  }
}

export default {
  async fetch(request, env) {
    const product = new URL(request.url).pathname.split("/").pop();
    const { delta } = await request.json();
    const on_hand = await env.BARE.getByName(product).write(crypto.randomUUID(), delta);
    return Response.json({ on_hand }, { status: 201 });
  },
};
