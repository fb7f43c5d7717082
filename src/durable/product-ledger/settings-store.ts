// The product's settings, as constant SQL (src/durable/sql.ts): one row once a PUT changed them.

import { defaultSettings, type ProductSettings } from "../../ledger/settings";
import { firstRow, run, type Sql } from "../sql";

const READ = "SELECT low_stock_threshold, shards, updated_by, updated_at FROM product_settings WHERE singleton = 1";
const SAVE = `INSERT INTO product_settings (singleton, low_stock_threshold, shards, updated_by, updated_at) VALUES (1, ?, ?, ?, ?)
  ON CONFLICT (singleton) DO UPDATE SET low_stock_threshold = excluded.low_stock_threshold, shards = excluded.shards,
    updated_by = excluded.updated_by, updated_at = excluded.updated_at`;

export function readSettings(sql: Sql, product_id: string): ProductSettings {
  const row = firstRow<{ low_stock_threshold: number | null; shards: number; updated_by: string; updated_at: string }>(sql, READ);
  return row === undefined ? defaultSettings(product_id) : { product_id, ...row };
}

export function saveSettings(sql: Sql, settings: ProductSettings): void {
  run(sql, SAVE, settings.low_stock_threshold, settings.shards, settings.updated_by, settings.updated_at);
}
