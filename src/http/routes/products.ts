// Products: the ones that have a ledger (from D1's registry), and each product's settings.
import { createRoute } from "@hono/zod-openapi";
import { auditDb } from "../../d1/db";
import { listProducts } from "../../d1/registry";
import { ProductsPage, ProductsQuery, Settings, SettingsBody } from "../feed-schemas";
import { requireRole } from "../middleware/auth";
import { jsonBody } from "../middleware/json-body";
import { refuseIfMatch } from "../middleware/no-if-match";
import { productLedger } from "../objects";
import { invalidRequest } from "../problem";
import { createRouter } from "../router";
import { ProductIdParams, problemResponses } from "../schemas";

const json = <T>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

const listRoute = createRoute({
  method: "get",
  path: "/products",
  summary: "Products that have a ledger, in ascending product_id",
  description: "From D1's product registry: a product appears shortly after its first row (its object registers itself).",
  middleware: [requireRole("read")] as const,
  request: { query: ProductsQuery },
  responses: { 200: json(ProductsPage, "One page"), ...problemResponses(400, 401, 403) },
});

const getSettings = createRoute({
  method: "get",
  path: "/products/{product_id}/settings",
  summary: "A product's settings",
  middleware: [requireRole("read")] as const,
  request: { params: ProductIdParams },
  responses: { 200: json(Settings, "The settings (defaults until changed)"), ...problemResponses(400, 401, 403) },
});

const putSettings = createRoute({
  method: "put",
  path: "/products/{product_id}/settings",
  summary: "Change a product's settings; fields left out keep their value",
  description: "A change of any value emits product.settings_changed. Sharding (shards above 1) is not built yet: such a PUT is 400.",
  middleware: [requireRole("write"), refuseIfMatch("settings have no version to check"), ...jsonBody()] as const,
  request: { params: ProductIdParams, body: { required: true, content: { "application/json": { schema: SettingsBody } } } },
  responses: { 200: json(Settings, "The settings after the change"), ...problemResponses(400, 401, 403, 413, 415) },
});

export const products = createRouter()
  .openapi(listRoute, async (c) => {
    const page = await listProducts(auditDb(c.env.AUDIT_DB), c.req.valid("query"));
    return c.json(page, 200);
  })
  .openapi(getSettings, async (c) => {
    const { product_id } = c.req.valid("param");
    return c.json((await productLedger(c.env, product_id).settings()).settings, 200);
  })
  .openapi(putSettings, async (c) => {
    const { product_id } = c.req.valid("param");
    const change = c.req.valid("json");
    if (change.shards !== undefined && change.shards !== 1) {
      throw invalidRequest([{ path: "body.shards", message: "sharding a product is not supported yet; only 1 is accepted" }]);
    }
    const { settings } = await productLedger(c.env, product_id).updateSettings(change, c.get("principal").id);
    return c.json(settings, 200);
  });
