// A run message that failed every delivery lands on the dead-letter queue (wrangler.toml), and
// its consumer (src/export/dead-letters.ts) must not leave the run "running" for ever: the
// products it carried that no delivery finished are failed, done ones stay done, and the run
// ends. Driven through the worker's own queue handler, against the real D1.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EXPORT_DEAD_LETTER_QUEUE } from "../../src/export/dead-letters";
import type { RunMessage } from "../../src/export/messages";
import worker from "../../src/index";
import { call } from "../helpers/http";

interface RunView {
  status: string;
  finished_at: string | null;
  products_total: number;
  products_done: number;
  errors: { product_id: string; error: string; attempts: number }[];
}

/** A running export in D1 whose products are in the given states (planning finished unless said otherwise). */
async function runningExport(products: Record<string, "queued" | "done">, planning_done = 1): Promise<string> {
  const run_id = `exp-${crypto.randomUUID()}`;
  await env.AUDIT_DB.prepare(
    "INSERT INTO runs (run_id, kind, trigger, status, planning_done, started_at) VALUES (?, 'export', 'admin', 'running', ?, ?)",
  )
    .bind(run_id, planning_done, new Date().toISOString())
    .run();
  for (const [product_id, status] of Object.entries(products)) {
    await env.AUDIT_DB.prepare("INSERT INTO run_products (run_id, product_id, status, attempts, rows_exported) VALUES (?, ?, ?, 0, 0)")
      .bind(run_id, product_id, status)
      .run();
  }
  return run_id;
}

/** Hands one dead-lettered message to the worker's queue handler, as the platform would. */
async function deadLetter(body: RunMessage) {
  const batch = createMessageBatch<RunMessage>(EXPORT_DEAD_LETTER_QUEUE, [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts: 11, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

async function readRun(run_id: string): Promise<RunView> {
  const response = await call("GET", `/v1/admin/exports/${run_id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as RunView;
}

describe("the export's dead letters", () => {
  it("fails the products a dead message carried that were still queued, keeps the done ones, and finishes the run as failed", async () => {
    const run_id = await runningExport({ "dl-a": "done", "dl-b": "queued" });
    const result = await deadLetter({ kind: "products", run_kind: "export", run_id, product_ids: ["dl-a", "dl-b"], attempt: 0 });
    expect(result.explicitAcks).toHaveLength(1);
    const run = await readRun(run_id);
    expect(run).toMatchObject({ status: "failed", products_total: 2, products_done: 2 });
    expect(run.finished_at).not.toBeNull();
    expect(run.errors).toEqual([{ product_id: "dl-b", error: expect.stringContaining("dead-lettered"), attempts: 0 }]);
  });

  it("leaves a run running while another of its messages may still finish it", async () => {
    const run_id = await runningExport({ "dl-c": "queued", "dl-d": "queued" });
    await deadLetter({ kind: "products", run_kind: "export", run_id, product_ids: ["dl-c"], attempt: 0 });
    const run = await readRun(run_id);
    expect(run.status).toBe("running");
    expect(run.errors.map((error) => error.product_id)).toEqual(["dl-c"]);
  });

  it("fails the whole run when a planning step died, since no one will queue the rest of its products", async () => {
    const run_id = await runningExport({}, 0);
    await deadLetter({ kind: "plan", run_kind: "export", run_id, after: null });
    const run = await readRun(run_id);
    expect(run.status).toBe("failed");
    expect(run.finished_at).not.toBeNull();
  });

  it("changes nothing when the same dead letter arrives twice, or after its run already finished", async () => {
    const run_id = await runningExport({ "dl-e": "queued" });
    const message: RunMessage = { kind: "products", run_kind: "export", run_id, product_ids: ["dl-e"], attempt: 0 };
    await deadLetter(message);
    const first = await readRun(run_id);
    await deadLetter(message);
    expect(await readRun(run_id)).toEqual(first);
  });

  it("sends run messages that fail every delivery to the dead-letter queue (wrangler.toml), whose consumer is this one", async () => {
    const toml = (await import("../../wrangler.toml?raw")).default as string;
    expect(toml).toMatch(/queue = "ledger-export"[\s\S]*?dead_letter_queue = "ledger-export-dlq"/);
    expect(toml).toMatch(/\[\[queues\.consumers\]\]\s*\nqueue = "ledger-export-dlq"/);
    expect(EXPORT_DEAD_LETTER_QUEUE).toBe("ledger-export-dlq");
  });
});
