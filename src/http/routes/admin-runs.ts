// Admin: start and inspect export runs and reconciliations (src/export/ does the work).
import { createRoute, z } from "@hono/zod-openapi";
import { auditDb } from "../../d1/db";
import { listRuns, type RunSummary, readFindings, readRun, startRun } from "../../export/runs";
import { RUN_ID_LENGTH_MAX, RUNS_LIST_LIMIT_DEFAULT, RUNS_LIST_LIMIT_MAX } from "../../limits";
import { requireRole } from "../middleware/auth";
import { bodyWithin } from "../middleware/body-within";
import { ProblemError } from "../problem";
import { createRouter } from "../router";
import { problemResponses, queryIntegerOr } from "../schemas";

const RunId = z
  .string()
  .min(1)
  .max(RUN_ID_LENGTH_MAX)
  .regex(/^[a-z]{3}-[0-9a-f-]{36}$/, "a run id as returned when the run started");

const ExportRun = z
  .object({
    run_id: z.string(),
    status: z.enum(["running", "succeeded", "failed"]),
    trigger: z.string(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    products_total: z.number().int(),
    products_done: z.number().int(),
    rows_exported: z.number().int(),
    errors: z.array(z.object({ product_id: z.string(), error: z.string(), attempts: z.number().int() })),
  })
  .openapi("ExportRun");

const Reconciliation = z
  .object({
    id: z.string(),
    status: z.enum(["running", "succeeded", "failed"]),
    trigger: z.string(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    products_checked: z.number().int(),
    caches_repaired: z.array(z.object({ product_id: z.string(), before: z.unknown(), after: z.unknown() })),
    export_divergences: z.array(
      z.object({ product_id: z.string(), from_seq: z.number().int(), to_seq: z.number().int(), detail: z.string() }),
    ),
    errors: z.array(z.object({ product_id: z.string(), error: z.string(), attempts: z.number().int() })),
  })
  .openapi("Reconciliation");

const Started = (id: "run_id" | "id") => z.object({ [id]: z.string(), status: z.literal("running") });
const admin = requireRole("admin");
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

const startExport = createRoute({
  method: "post",
  path: "/admin/exports",
  summary: "Start an export to D1 now",
  middleware: [admin, bodyWithin()] as const,
  responses: { 202: json(Started("run_id"), "Started"), ...problemResponses(401, 403, 413) },
});
const getExport = createRoute({
  method: "get",
  path: "/admin/exports/{run_id}",
  summary: "An export run's progress",
  middleware: admin,
  request: { params: z.object({ run_id: RunId }) },
  responses: { 200: json(ExportRun, "The run"), ...problemResponses(400, 401, 403, 404) },
});
const listExports = createRoute({
  method: "get",
  path: "/admin/exports",
  summary: "Recent export runs, newest first",
  middleware: admin,
  request: { query: z.object({ limit: queryIntegerOr(1, RUNS_LIST_LIMIT_MAX, RUNS_LIST_LIMIT_DEFAULT) }) },
  responses: { 200: json(z.object({ data: z.array(ExportRun) }), "Runs"), ...problemResponses(400, 401, 403) },
});
const startReconciliation = createRoute({
  method: "post",
  path: "/admin/reconciliations",
  summary: "Check every product now",
  middleware: [admin, bodyWithin()] as const,
  responses: { 202: json(Started("id"), "Started"), ...problemResponses(401, 403, 413) },
});
const listReconciliations = createRoute({
  method: "get",
  path: "/admin/reconciliations",
  summary: "Recent reconciliations, newest first (without their findings)",
  middleware: admin,
  request: { query: z.object({ limit: queryIntegerOr(1, RUNS_LIST_LIMIT_MAX, RUNS_LIST_LIMIT_DEFAULT) }) },
  responses: {
    200: json(
      z.object({
        data: z.array(
          Reconciliation.omit({ caches_repaired: true, export_divergences: true }).extend({ products_total: z.number().int() }),
        ),
      }),
      "Reconciliations",
    ),
    ...problemResponses(400, 401, 403),
  },
});
const getReconciliation = createRoute({
  method: "get",
  path: "/admin/reconciliations/{id}",
  summary: "A reconciliation's findings",
  middleware: admin,
  request: { params: z.object({ id: RunId }) },
  responses: { 200: json(Reconciliation, "The reconciliation"), ...problemResponses(400, 401, 403, 404) },
});

export const adminRuns = createRouter()
  .openapi(startExport, async (c) => {
    const run_id = await startRun(auditDb(c.env.AUDIT_DB), c.env.EXPORT_QUEUE, "export", "admin", new Date().toISOString());
    return c.json({ run_id, status: "running" as const }, 202);
  })
  .openapi(getExport, async (c) => {
    const run = await readRun(auditDb(c.env.AUDIT_DB), c.req.valid("param").run_id);
    if (run === null || run.kind !== "export") throw new ProblemError("not_found", "No such export run.");
    return c.json(exportView(run), 200);
  })
  .openapi(listExports, async (c) => {
    const runs = await listRuns(auditDb(c.env.AUDIT_DB), "export", c.req.valid("query").limit);
    return c.json({ data: runs.map(exportView) }, 200);
  })
  .openapi(startReconciliation, async (c) => {
    const id = await startRun(auditDb(c.env.AUDIT_DB), c.env.EXPORT_QUEUE, "reconciliation", "admin", new Date().toISOString());
    return c.json({ id, status: "running" as const }, 202);
  })
  .openapi(listReconciliations, async (c) => {
    const runs = await listRuns(auditDb(c.env.AUDIT_DB), "reconciliation", c.req.valid("query").limit);
    return c.json(
      {
        data: runs.map(({ run_id, kind: _kind, rows_exported: _rows, products_done, ...rest }) => ({
          id: run_id,
          products_checked: products_done,
          ...rest,
        })),
      },
      200,
    );
  })
  .openapi(getReconciliation, async (c) => {
    const db = auditDb(c.env.AUDIT_DB);
    const run = await readRun(db, c.req.valid("param").id);
    if (run === null || run.kind !== "reconciliation") throw new ProblemError("not_found", "No such reconciliation.");
    const findings = await readFindings(db, run.run_id);
    return c.json(
      {
        id: run.run_id,
        status: run.status,
        trigger: run.trigger,
        started_at: run.started_at,
        finished_at: run.finished_at,
        products_checked: run.products_done,
        caches_repaired: findings.caches_repaired,
        export_divergences: findings.export_divergences as { product_id: string; from_seq: number; to_seq: number; detail: string }[],
        errors: run.errors,
      },
      200,
    );
  });

function exportView(run: RunSummary) {
  const { kind: _kind, ...view } = run;
  return view;
}
