// Messages on the ledger-export queue. A run (export or reconciliation) is planned page by page
// through the product registry, and each page fans out into messages of a few products each.

export type RunKind = "export" | "reconciliation";

export type RunMessage =
  /** Read the next page of the registry after `after` and queue its products. */
  | { kind: "plan"; run_kind: RunKind; run_id: string; after: string | null }
  /** Export or check these products for this run. `attempt` counts retries of a failing product. */
  | { kind: "products"; run_kind: RunKind; run_id: string; product_ids: string[]; attempt: number };
