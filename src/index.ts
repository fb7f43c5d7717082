// Worker entry (every named export is a handler or a Durable Object class: workerd refuses any
// other): the HTTP API, the nightly export's cron trigger, the export queue's consumer
// (and its dead letters), and the Durable Object classes wrangler.toml binds.
import { auditDb } from "./d1/db";
import { consumeRunMessages } from "./export/consumer";
import { consumeDeadLetters, EXPORT_DEAD_LETTER_QUEUE } from "./export/dead-letters";
import type { RunMessage } from "./export/messages";
import { startRun } from "./export/runs";
import { createApp } from "./http/app";

export { ProductLedger } from "./durable/product-ledger/object";
export { Reservation } from "./durable/reservation/object";
export { Subscription } from "./durable/subscription/object";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(startRun(auditDb(env.AUDIT_DB), env.EXPORT_QUEUE, "export", "cron", new Date().toISOString()));
  },
  queue(batch, env) {
    const messages = batch as MessageBatch<RunMessage>;
    return batch.queue === EXPORT_DEAD_LETTER_QUEUE ? consumeDeadLetters(messages, env) : consumeRunMessages(messages, env);
  },
} satisfies ExportedHandler<Env>;
