// The hash chain against a row the real service wrote (test/scripts/fixtures/sku-fixture.jsonl,
// seq 1): the same vector as the README worked example and the standalone verifier.
import { describe, expect, it } from "vitest";
import { canonicalRowEncoding, chainRows, checkChainPage, GENESIS_HASH, rowHash } from "../../src/ledger/hash-chain";
import type { LedgerEntry } from "../../src/ledger/types";

const ROW_1: LedgerEntry = {
  id: "01a21aae-53af-72fc-b2b9-2689f7afa68d",
  product_id: "sku-fixture",
  seq: 1,
  type: "ADD",
  quantity: 1,
  delta: 1,
  location_id: "default",
  reason: "po-1",
  created_by: "dev-writer",
  actor: null,
  metadata: {
    z: 1,
    a: "é\n",
  },
  reservation_id: null,
  idempotency_key: "fx-1",
  created_at: "2026-11-27T01:46:02.031Z",
};
const ROW_1_ENCODING =
  '["inventory-ledger/row/v1","sku-fixture",1,"01a21aae-53af-72fc-b2b9-2689f7afa68d","ADD",1,1,"default","po-1","dev-writer",null,"{\\"a\\":\\"é\\\\n\\",\\"z\\":1}",null,"fx-1","2026-11-27T01:46:02.031Z"]';
const ROW_1_HASH = "132888bed32995be950182f0d6d5d8301260cb9187d7cd4c86a927990714afd6";

describe("the row encoding and hash", () => {
  it("encodes a row as the README says, byte for byte", () => {
    expect(canonicalRowEncoding(ROW_1)).toBe(ROW_1_ENCODING);
  });

  it("hashes the first row over 64 zeros and its encoding, matching what the service stored", () => {
    expect(rowHash(GENESIS_HASH, ROW_1)).toBe(ROW_1_HASH);
  });

  it("does not depend on the order of metadata keys", () => {
    expect(rowHash(GENESIS_HASH, { ...ROW_1, metadata: { z: 1, a: "é\n" } })).toBe(ROW_1_HASH);
  });
});

describe("checking a chain page", () => {
  const rows = chainRows(GENESIS_HASH, [ROW_1, { ...ROW_1, seq: 2, id: "b" }, { ...ROW_1, seq: 3, id: "c" }]);

  it("accepts a chain that links and continues from where the previous page stopped", () => {
    expect(checkChainPage(0, GENESIS_HASH, rows)).toEqual({ rows_checked: 3, last_seq: 3, last_hash: rows[2]!.hash, first_bad_seq: null });
    expect(checkChainPage(1, rows[0]!.hash, rows.slice(1))).toMatchObject({ rows_checked: 2, first_bad_seq: null });
  });

  it("stops at the first gap, broken link or wrong hash", () => {
    expect(checkChainPage(0, GENESIS_HASH, [rows[0]!, rows[2]!]).first_bad_seq).toBe(2);
    expect(checkChainPage(0, GENESIS_HASH, [rows[0]!, { ...rows[1]!, prev_hash: GENESIS_HASH }]).first_bad_seq).toBe(2);
    expect(checkChainPage(0, GENESIS_HASH, [rows[0]!, { ...rows[1]!, quantity: 9 }, rows[2]!]).first_bad_seq).toBe(2);
    expect(checkChainPage(0, "1".repeat(64), rows).first_bad_seq).toBe(1);
  });
});
