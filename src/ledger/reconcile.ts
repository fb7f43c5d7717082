// Pure comparisons behind reconciliation: does the cache equal the ledger, and where does a
// copy (D1) first disagree with the ledger, chunk by chunk.

import type { LocationLevel } from "./types";

/** Equal as sets of (location, on_hand, reserved); order does not matter. */
export function sameLevels(a: readonly LocationLevel[], b: readonly LocationLevel[]): boolean {
  if (a.length !== b.length) return false;
  const byLocation = new Map(b.map((level) => [level.location_id, level]));
  return a.every((level) => {
    const other = byLocation.get(level.location_id);
    return other !== undefined && other.on_hand === level.on_hand && other.reserved === level.reserved;
  });
}

export interface ChunkSummary {
  chunk: number;
  rows: number;
  delta_sum: number;
  on_hand_delta_sum: number;
  quantity_sum: number;
  seq_sum: number;
}

export interface Divergence {
  from_seq: number;
  to_seq: number;
  detail: string;
}

/**
 * The first chunk of seqs (up to the watermark) where the copy's sums differ from the ledger's:
 * a missing, extra, altered or moved row changes at least one of them.
 */
export function firstDivergence(
  ledger: readonly ChunkSummary[],
  copy: readonly ChunkSummary[],
  chunk_rows: number,
  watermark_seq: number,
): Divergence | null {
  const copyByChunk = new Map(copy.map((summary) => [summary.chunk, summary]));
  const chunks = [...new Set([...ledger.map((s) => s.chunk), ...copy.map((s) => s.chunk)])].sort((a, b) => a - b);
  const ledgerByChunk = new Map(ledger.map((summary) => [summary.chunk, summary]));
  for (const chunk of chunks) {
    const expected = ledgerByChunk.get(chunk);
    const actual = copyByChunk.get(chunk);
    const fields = ["rows", "delta_sum", "on_hand_delta_sum", "quantity_sum", "seq_sum"] as const;
    const differing = fields.filter((field) => (expected?.[field] ?? 0) !== (actual?.[field] ?? 0));
    if (differing.length > 0) {
      return {
        from_seq: chunk * chunk_rows + 1,
        to_seq: Math.min((chunk + 1) * chunk_rows, watermark_seq),
        detail: `D1 differs from the ledger in ${differing.join(", ")} (ledger ${expected?.rows ?? 0} rows, D1 ${actual?.rows ?? 0} rows)`,
      };
    }
  }
  return null;
}
