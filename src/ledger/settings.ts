// A product's settings: the low-stock threshold the change feed's stock.low uses, and how many
// objects its stock is spread over (shards; one until sharding exists). Pure.

export interface ProductSettings {
  product_id: string;
  /** stock.low fires when available falls to or below this; null: never. */
  low_stock_threshold: number | null;
  shards: number;
  /** Who last changed them, and when; null while they are the defaults. */
  updated_by: string | null;
  updated_at: string | null;
}

/** What a PUT may change; a field left out keeps its value. */
export interface SettingsChange {
  low_stock_threshold?: number | null;
  shards?: number;
}

export function defaultSettings(product_id: string): ProductSettings {
  return { product_id, low_stock_threshold: null, shards: 1, updated_by: null, updated_at: null };
}

/** The settings after a change, or null when the change leaves every value as it was. */
export function changedSettings(
  current: ProductSettings,
  change: SettingsChange,
  updated_by: string,
  updated_at: string,
): ProductSettings | null {
  const next = {
    ...current,
    low_stock_threshold: change.low_stock_threshold === undefined ? current.low_stock_threshold : change.low_stock_threshold,
    shards: change.shards ?? current.shards,
  };
  if (next.low_stock_threshold === current.low_stock_threshold && next.shards === current.shards) return null;
  return { ...next, updated_by, updated_at };
}
