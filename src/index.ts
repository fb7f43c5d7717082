// Worker entry: the HTTP API, the nightly export's cron trigger, the export queue's consumer,
// and the Durable Object classes wrangler.toml binds.
import { drizzle } from "drizzle-orm/d1";
import { auditSchema } from "./export/audit-tables";
import { consumeRunMessages } from "./export/consumer";
import type { RunMessage } from "./export/messages";
import { startRun } from "./export/runs";
import { createApp } from "./http/app";
import { writeFastPath } from "./http/write-fast-path";

export { ProductLedger } from "./durable/product-ledger";
export { Reservation } from "./durable/reservation";

const app = createApp();

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    // The hot write route first; whatever it does not answer goes through the app.
    const handled = await writeFastPath(request, env);
    return handled instanceof Response ? handled : app.fetch(handled, env, ctx);
  },
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(startRun(drizzle(env.AUDIT_DB, { schema: auditSchema }), env.EXPORT_QUEUE, "export", "cron", new Date().toISOString()));
  },
  queue(batch, env) {
    return consumeRunMessages(batch as MessageBatch<RunMessage>, env);
  },
} satisfies ExportedHandler<Env>;
