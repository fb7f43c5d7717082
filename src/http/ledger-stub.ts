// How the worker reaches a product's Durable Object: one object per product id, by name.
export function productLedger(env: Env, product_id: string) {
  return env.PRODUCT_LEDGER.getByName(product_id);
}
