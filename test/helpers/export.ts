// Helpers for export tests: fill a ledger fast, run an export to its end, look into D1.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ProductLedger } from "../../src/durable/product-ledger/object";
import { call, freshProductId } from "./http";
import { directCommand, ledgerStub } from "./ledger-object";
import { waitFor } from "./wait";

/** Appends `count` rows (ADD 1 each, reason r-<n>) straight through the object's RPC. */
export async function fillLedger(product_id: string, count: number, reason = (n: number) => `r-${n}`): Promise<void> {
  const commands = Array.from({ length: count }, (_, n) =>
    directCommand(
      [{ type: "ADD", quantity: 1, location_id: "default", reason: reason(n), actor: null, metadata: null, reservation_id: null }],
      `fill-${n}`,
    ),
  );
  for (let start = 0; start < commands.length; start += 250) {
    const results = await ledgerStub(product_id).writeEach(commands.slice(start, start + 250));
    if (results.some((result) => !result.ok)) throw new Error("fillLedger: a write was refused");
  }
}

/** A fresh product with `count` rows, registered in D1 (so that the next export takes it). */
export async function productWithRows(count: number, prefix = "exp"): Promise<string> {
  const product = freshProductId(prefix);
  await fillLedger(product, count);
  await waitRegistered(product);
  return product;
}

export async function isRegistered(product_id: string): Promise<boolean> {
  return (await env.AUDIT_DB.prepare("SELECT 1 FROM products WHERE product_id = ?").bind(product_id).first()) !== null;
}

export async function waitRegistered(...product_ids: string[]): Promise<void> {
  await waitFor(async () => (await Promise.all(product_ids.map(isRegistered))).every(Boolean), 15_000);
}

export interface RunView {
  run_id: string;
  status: string;
  trigger: string;
  products_total: number;
  products_done: number;
  rows_exported: number;
  errors: { product_id: string; error: string; attempts: number }[];
}

export async function startExport(): Promise<string> {
  const response = await call("POST", "/v1/admin/exports");
  if (response.status !== 202) throw new Error(`export did not start: ${response.status}`);
  return ((await response.json()) as { run_id: string }).run_id;
}

export async function readExport(run_id: string): Promise<RunView> {
  return (await (await call("GET", `/v1/admin/exports/${run_id}`)).json()) as RunView;
}

export async function waitRunFinished(path: string, timeout_ms = 30_000): Promise<Record<string, unknown> & { status: string }> {
  let last: Record<string, unknown> & { status: string } = { status: "unknown" };
  await waitFor(
    async () => {
      last = (await (await call("GET", path)).json()) as typeof last;
      return last.status === "succeeded" || last.status === "failed";
    },
    timeout_ms,
    100,
  );
  return last;
}

export async function exportToEnd(): Promise<RunView> {
  const run_id = await startExport();
  return (await waitRunFinished(`/v1/admin/exports/${run_id}`)) as unknown as RunView;
}

export async function d1Rows(product_id: string): Promise<{ seq: number; type: string; delta: number; reason: string }[]> {
  const result = await env.AUDIT_DB.prepare("SELECT seq, type, delta, reason FROM ledger_transactions WHERE product_id = ? ORDER BY seq")
    .bind(product_id)
    .all();
  return result.results as { seq: number; type: string; delta: number; reason: string }[];
}

export function watermarkOf(product_id: string): Promise<number> {
  return runInDurableObject<ProductLedger, number>(ledgerStub(product_id), (_instance, state) => {
    const row = state.storage.sql.exec("SELECT watermark_seq FROM export_state").toArray()[0];
    return row === undefined ? 0 : Number(row.watermark_seq);
  });
}
