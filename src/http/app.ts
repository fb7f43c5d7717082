// The Hono app: middleware in order, resources mounted under /v1, one error funnel.

import { toErrorResponse } from "./error-response";
import { authenticate, requireConfiguredKeys } from "./middleware/auth";
import { requestId } from "./middleware/request-id";
import { describeApi } from "./openapi";
import { ProblemError } from "./problem";
import { createRouter } from "./router";
import { adminRuns } from "./routes/admin-runs";
import { audit } from "./routes/audit";
import { batch } from "./routes/batch";
import { events } from "./routes/events";
import { healthRoutes } from "./routes/health";
import { productTransactions } from "./routes/product-transactions";
import { products } from "./routes/products";
import { reservations } from "./routes/reservations";
import { stock } from "./routes/stock";
import { subscriptions } from "./routes/subscriptions";
import { verify } from "./routes/verify";
import { webhooks } from "./routes/webhooks";

export function createApp() {
  const app = createRouter();
  app.use("*", requestId);
  // Webhooks authenticate by their signature, not by a bearer token, but they too are refused
  // while no API key is configured. A plain prefix test: hono's except() combinator cost a
  // measurable share of every request (see Performance).
  app.use("/v1/*", (c, next) => (isWebhookPath(c.req.path) ? requireConfiguredKeys(c, next) : authenticate(c, next)));

  app.route("/", healthRoutes);
  app.route("/v1", productTransactions);
  app.route("/v1", stock);
  app.route("/v1", verify);
  app.route("/v1", reservations);
  app.route("/v1", batch);
  app.route("/v1", audit);
  app.route("/v1", adminRuns);
  app.route("/v1", webhooks);
  app.route("/v1", products);
  app.route("/v1", events);
  app.route("/v1", subscriptions);

  describeApi(app);

  app.notFound(() => {
    throw new ProblemError("not_found", "No such route.");
  });
  app.onError((error, c) => toErrorResponse(error, c.get("requestId")));
  return app;
}

function isWebhookPath(path: string): boolean {
  return path === "/v1/webhooks" || path.startsWith("/v1/webhooks/");
}
