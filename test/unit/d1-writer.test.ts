// How the export packs a page into JSON-array statements: every row once, in order, and no
// statement's one bound string past EXPORT_JSON_CHUNK_CHARS_MAX (D1 refuses a bound string over 2 MB).
import { describe, expect, it } from "vitest";
import { jsonChunks } from "../../src/export/d1-writer";
import { EXPORT_JSON_CHUNK_CHARS_MAX } from "../../src/limits";

const MAX = EXPORT_JSON_CHUNK_CHARS_MAX;

/** One encoded row (as writeLedgerRows encodes it: a JSON array) of exactly `length` characters. */
function rowOfLength(seq: number, length: number, fill = "x"): string {
  const base = JSON.stringify(["sku-1", seq, ""]).length;
  const row = JSON.stringify(["sku-1", seq, fill.repeat(Math.max(0, length - base))]);
  if (row.length !== length) throw new Error(`rowOfLength: asked ${length}, built ${row.length}`);
  return row;
}

/** The rows a chunk holds, each re-encoded: what json_each() will see, one element per row. */
function rowsIn(chunk: string): string[] {
  const parsed: unknown = JSON.parse(chunk);
  expect(Array.isArray(parsed)).toBe(true);
  return (parsed as unknown[]).map((row) => JSON.stringify(row));
}

describe("jsonChunks", () => {
  it("gives no chunk for no rows (writeLedgerRows then sends no statement)", () => {
    expect(jsonChunks([])).toEqual([]);
  });

  it("puts a small page in one chunk that parses as the array of its rows, in order", () => {
    const rows = [
      JSON.stringify(["sku-1", 1, "ADD", 3, null, '{"note":"café ☕ 東京 \\"q\\" \\\\ \\n"}']),
      JSON.stringify(["sku-1", 2, "REMOVE", 1, "alice", null]),
      JSON.stringify(["sku-1", 3, "RESERVE", 2, null, '{"a":[1,{"b":null}]}']),
    ];
    const chunks = jsonChunks(rows);
    expect(chunks).toEqual([`[${rows.join(",")}]`]);
    expect(JSON.parse(chunks[0]!)).toEqual(rows.map((row) => JSON.parse(row)));
  });

  it("splits a large page into chunks of at most JSON_CHUNK_CHARS_MAX characters that together hold every row once, in order", () => {
    // 1,500 rows of 1,000 to 2,999 characters: ~3 MB of JSON, several chunks.
    const rows = Array.from({ length: 1_500 }, (_, n) => rowOfLength(n + 1, 1_000 + ((n * 7_919) % 2_000)));
    const chunks = jsonChunks(rows);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(rows.join(",").length / MAX));
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(MAX);
    expect(chunks.flatMap(rowsIn)).toEqual(rows);
    // Packed, not split every few rows: a chunk ends only where the next row would not have fit.
    for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBeGreaterThan(MAX - 3_000 - 2);
  });

  it("splits where joining the next row would pass the limit by one character, and joins rows that leave one to spare", () => {
    // [a,b] is 2 + a + 1 + b characters.
    const over = [rowOfLength(1, 300_000), rowOfLength(2, MAX - 300_000 - 2)];
    expect([...over.map((row) => row.length), `[${over.join(",")}]`.length]).toEqual([300_000, MAX - 300_002, MAX + 1]);
    expect(jsonChunks(over)).toEqual([`[${over[0]}]`, `[${over[1]}]`]);

    const under = [rowOfLength(1, 300_000), rowOfLength(2, MAX - 300_000 - 4)];
    expect(`[${under.join(",")}]`.length).toBe(MAX - 1);
    expect(jsonChunks(under)).toEqual([`[${under.join(",")}]`]);
  });

  it("gives a row longer than the limit a chunk of its own, wherever it comes in the page", () => {
    const huge = rowOfLength(2, MAX + 10);
    const small = [rowOfLength(1, 100), rowOfLength(3, 100), rowOfLength(4, 100)];
    expect(jsonChunks([small[0]!, huge, small[1]!, small[2]!])).toEqual([`[${small[0]}]`, `[${huge}]`, `[${small[1]},${small[2]}]`]);
    expect(jsonChunks([huge])).toEqual([`[${huge}]`]);
    expect(jsonChunks([huge, huge])).toEqual([`[${huge}]`, `[${huge}]`]);
  });

  it("keeps a chunk of text that is 3 bytes per character in UTF-8 under D1's 2 MB per bound string", () => {
    const rows = Array.from({ length: 800 }, (_, n) => rowOfLength(n + 1, 2_000, "東"));
    const chunks = jsonChunks(rows);
    expect(chunks.flatMap(rowsIn)).toEqual(rows);
    for (const chunk of chunks) expect(new TextEncoder().encode(chunk).length).toBeLessThan(2_000_000);
  });
});
