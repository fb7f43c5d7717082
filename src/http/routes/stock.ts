// Stock reads: one product (cached, with ETag, or derived for a past position) and many at once.
import { createRoute, z } from "@hono/zod-openapi";
import { STOCK_BATCH_PRODUCT_IDS_MAX } from "../../limits";
import { requireRole } from "../middleware/auth";
import { productLedger } from "../objects";
import { invalidRequest } from "../problem";
import { unwrap } from "../problems";
import { createRouter } from "../router";
import { ProductId, ProductIdParams, problemResponses, StockQuery, StockWithLocations } from "../schemas";

const getStock = createRoute({
  method: "get",
  path: "/products/{product_id}/stock",
  summary: "A product's stock, per location; or as of a past version or instant",
  middleware: [requireRole("read")] as const,
  request: {
    params: ProductIdParams,
    query: StockQuery,
    headers: z.object({ "if-none-match": z.string().optional() }),
  },
  responses: {
    200: { description: "The stock", content: { "application/json": { schema: StockWithLocations } } },
    304: { description: "Unchanged since the ETag sent in If-None-Match" },
    ...problemResponses(400, 401, 403),
  },
});

const ProductIdList = z
  .string()
  .transform((value) => value.split(","))
  .pipe(z.array(ProductId).min(1).max(STOCK_BATCH_PRODUCT_IDS_MAX))
  .refine((ids) => new Set(ids).size === ids.length, { message: "product ids must be distinct" })
  .openapi({ type: "string", example: "sku-1,sku-2" });

const getManyStock = createRoute({
  method: "get",
  path: "/stock",
  summary: `Stock of 1 to ${STOCK_BATCH_PRODUCT_IDS_MAX} products, in the order asked`,
  middleware: [requireRole("read")] as const,
  request: { query: z.object({ product_ids: ProductIdList }) },
  responses: {
    200: {
      description: "One stock object per id",
      content: { "application/json": { schema: z.object({ data: z.array(StockWithLocations) }) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export const stock = createRouter()
  .openapi(getStock, async (c) => {
    const { product_id } = c.req.valid("param");
    const { at_version, as_of } = c.req.valid("query");
    const ledger = productLedger(c.env, product_id);
    if (at_version !== undefined && as_of !== undefined) {
      throw invalidRequest([{ path: "query.as_of", message: "give at_version or as_of, not both" }]);
    }
    if (at_version !== undefined || as_of !== undefined) {
      const query = at_version !== undefined ? { at_version } : { as_of: new Date(as_of!).toISOString() };
      return c.json(unwrap(await ledger.stockAt(query)).stock, 200);
    }
    const { stock: current } = await ledger.stock();
    const etag = `"${current.version}"`;
    c.header("ETag", etag);
    if (etagMatches(c.req.valid("header")["if-none-match"], etag)) return c.body(null, 304);
    return c.json(current, 200);
  })
  .openapi(getManyStock, async (c) => {
    const { product_ids } = c.req.valid("query");
    // Each product lives in its own object: read them all at once, answer in the order asked.
    const data = await Promise.all(product_ids.map(async (product_id) => (await productLedger(c.env, product_id).stock()).stock));
    return c.json({ data }, 200);
  });

/** If-None-Match: a list of entity tags or "*"; weak tags compare equal to strong ones. */
function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}
