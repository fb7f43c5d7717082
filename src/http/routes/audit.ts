// Audit: cross-product questions answered from D1 (what the export copied), admin only.
import { createRoute, z } from "@hono/zod-openapi";
import { decodeCursor, encodeCursor, listAuditTransactions, SUMMARY_GROUPS, summarize } from "../../audit/queries";
import { auditDb } from "../../d1/db";
import { exportedThrough } from "../../export/runs";
import {
  AUDIT_CURSOR_LENGTH_MAX,
  AUDIT_PAGE_LIMIT_DEFAULT,
  AUDIT_PAGE_LIMIT_MAX,
  PRINCIPAL_LENGTH_MAX,
  REASON_LENGTH_MAX,
} from "../../limits";
import { requireRole } from "../middleware/auth";
import { invalidRequest } from "../problem";
import { createRouter } from "../router";
import { LocationId, ProductId, problemResponses, queryIntegerOr, Transaction, TransactionType } from "../schemas";

const Instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString());
const TimeRange = { from: Instant.optional(), to: Instant.optional() };

const listQuery = z.object({
  product_id: ProductId.optional(),
  reason: z.string().min(1).max(REASON_LENGTH_MAX).optional(),
  created_by: z.string().min(1).max(PRINCIPAL_LENGTH_MAX).optional(),
  type: TransactionType.optional(),
  reservation_id: ProductId.optional(),
  location_id: LocationId.optional(),
  ...TimeRange,
  after: z.string().min(1).max(AUDIT_CURSOR_LENGTH_MAX).optional(),
  limit: queryIntegerOr(1, AUDIT_PAGE_LIMIT_MAX, AUDIT_PAGE_LIMIT_DEFAULT),
});

const listAudit = createRoute({
  method: "get",
  path: "/audit/transactions",
  summary: "Ledger rows across products, from the last export, oldest first",
  middleware: requireRole("admin"),
  request: { query: listQuery },
  responses: {
    200: {
      description: "One page",
      content: {
        "application/json": {
          schema: z.object({ data: z.array(Transaction), next_after: z.string().nullable(), exported_through: z.string().nullable() }),
        },
      },
    },
    ...problemResponses(400, 401, 403),
  },
});

const auditSummary = createRoute({
  method: "get",
  path: "/audit/summary",
  summary: "Counts and delta sums grouped by type, created_by, product_id or location_id",
  middleware: requireRole("admin"),
  request: { query: z.object({ ...TimeRange, group_by: z.enum(SUMMARY_GROUPS).default("type") }) },
  responses: {
    200: {
      description: "One entry per key",
      content: {
        "application/json": {
          schema: z.object({
            data: z.array(z.object({ key: z.string(), transactions: z.number().int(), delta_sum: z.number().int() })),
            exported_through: z.string().nullable(),
          }),
        },
      },
    },
    ...problemResponses(400, 401, 403),
  },
});

export const audit = createRouter()
  .openapi(listAudit, async (c) => {
    const { after, limit, ...filter } = c.req.valid("query");
    const cursor = after === undefined ? null : decodeCursor(after);
    if (after !== undefined && cursor === null)
      throw invalidRequest([{ path: "query.after", message: "not a cursor returned by this endpoint" }]);
    const db = auditDb(c.env.AUDIT_DB);
    const [page, through] = await Promise.all([listAuditTransactions(db, filter, cursor, limit), exportedThrough(db)]);
    return c.json({ data: page.data, next_after: page.next === null ? null : encodeCursor(page.next), exported_through: through }, 200);
  })
  .openapi(auditSummary, async (c) => {
    const { group_by, ...range } = c.req.valid("query");
    const db = auditDb(c.env.AUDIT_DB);
    const [data, through] = await Promise.all([summarize(db, range, group_by), exportedThrough(db)]);
    return c.json({ data, exported_through: through }, 200);
  });
