// GET /v1/products/{product_id}/verify: recomputes a product's hash chain from its ledger.
// The worker walks the chain a page at a time, so each call to the object stays short and
// other requests interleave; 5,000 rows a page keeps a million-row ledger at 200 calls.
import { createRoute, z } from "@hono/zod-openapi";
import { GENESIS_HASH } from "../../ledger/hash-chain";
import { VERIFY_PAGE_ROWS } from "../../limits";
import { requireRole } from "../middleware/auth";
import { productLedger } from "../objects";
import { createRouter } from "../router";
import { ProductIdParams, problemResponses } from "../schemas";

const Verification = z
  .object({
    ok: z.boolean(),
    rows_checked: z.number().int(),
    head: z.object({ seq: z.number().int(), hash: z.string() }),
    first_bad_seq: z.number().int().nullable(),
  })
  .openapi("Verification");

const verifyRoute = createRoute({
  method: "get",
  path: "/products/{product_id}/verify",
  summary: "Recompute the product's hash chain and report the first bad seq",
  middleware: requireRole("admin"),
  request: { params: ProductIdParams },
  responses: {
    200: { description: "The result", content: { "application/json": { schema: Verification } } },
    ...problemResponses(400, 401, 403),
  },
});

export const verify = createRouter().openapi(verifyRoute, async (c) => {
  const { product_id } = c.req.valid("param");
  const ledger = productLedger(c.env, product_id);
  let after_seq = 0;
  let after_hash = GENESIS_HASH;
  let rows_checked = 0;
  for (;;) {
    const page = await ledger.verifyPage(after_seq, after_hash, VERIFY_PAGE_ROWS);
    rows_checked += page.rows_checked;
    after_seq = page.last_seq;
    after_hash = page.last_hash;
    if (page.done) {
      return c.json(
        { ok: page.first_bad_seq === null, rows_checked, head: { seq: after_seq, hash: after_hash }, first_bad_seq: page.first_bad_seq },
        200,
      );
    }
  }
});
