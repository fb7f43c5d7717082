// Worker entry: the HTTP API, and the Durable Object classes wrangler.toml binds.
import { createApp } from "./http/app";

export { ProductLedger } from "./durable/product-ledger";
export { Reservation } from "./durable/reservation";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
