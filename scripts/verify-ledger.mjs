#!/usr/bin/env node
// Standalone verifier for an exported product ledger: `npm run verify -- <file.jsonl>`.
// Written from the README's "Tamper evidence" section only, so an auditor can check a ledger
// without the service. Each line of the file is one transaction object as the API returns it
// (GET /v1/products/{id}/transactions), in ascending seq.
//
//   encoding = JSON.stringify(["inventory-ledger/row/v1", product_id, seq, id, type, quantity,
//              delta, location_id, reason, created_by, actor, metadata, reservation_id,
//              idempotency_key, created_at]), metadata as canonical JSON text or null
//   hash     = hex(SHA-256(UTF-8(prev_hash + "\n" + encoding)))
//   seq 1 has prev_hash = 64 zeros; each later row's prev_hash is the previous row's hash.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const GENESIS = "0".repeat(64);

/** JSON with object keys sorted (by UTF-16 code units), no whitespace, at every depth. */
function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
}

function encode(row) {
  return JSON.stringify([
    "inventory-ledger/row/v1",
    row.product_id,
    row.seq,
    row.id,
    row.type,
    row.quantity,
    row.delta,
    row.location_id,
    row.reason,
    row.created_by,
    row.actor,
    row.metadata === null ? null : canonical(row.metadata),
    row.reservation_id,
    row.idempotency_key,
    row.created_at,
  ]);
}

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

const file = process.argv[2];
if (!file) {
  console.error("usage: npm run verify -- <file.jsonl>   (one transaction object per line, ascending seq)");
  process.exit(2);
}

let text;
try {
  text = readFileSync(file, "utf8");
} catch (error) {
  console.error(`cannot read ${file}: ${error.code ?? error.message}`);
  process.exit(2);
}
const rows = [];
for (const [index, line] of text
  .split("\n")
  .filter((line) => line.trim() !== "")
  .entries()) {
  try {
    rows.push(JSON.parse(line));
  } catch {
    console.error(`line ${index + 1} is not JSON`);
    process.exit(2);
  }
}
if (rows.length === 0) {
  console.error("the file has no rows");
  process.exit(2);
}

const first = rows[0];
// A file may start mid-ledger: then its first prev_hash is trusted as the anchor, and said so.
let previous = { seq: first.seq - 1, hash: first.seq === 1 ? GENESIS : first.prev_hash };
if (first.seq !== 1) console.log(`note: the file starts at seq ${first.seq}; its prev_hash ${first.prev_hash} is taken as given`);

for (const row of rows) {
  const problems = [];
  if (row.product_id !== first.product_id) problems.push(`product_id ${row.product_id} differs from ${first.product_id}`);
  if (row.seq !== previous.seq + 1) problems.push(`expected seq ${previous.seq + 1}, found ${row.seq}`);
  if (row.prev_hash !== previous.hash) problems.push("prev_hash does not match the previous row's hash");
  const hash = sha256(`${row.prev_hash}\n${encode(row)}`);
  if (hash !== row.hash) problems.push(`hash ${row.hash} does not match the recomputed ${hash}`);
  if (problems.length > 0) {
    console.log(`FAIL at seq ${previous.seq + 1}: ${problems.join("; ")}`);
    process.exit(1);
  }
  previous = { seq: row.seq, hash: row.hash };
}
console.log(`OK: ${rows.length} rows of ${first.product_id} verified, seq ${first.seq}..${previous.seq}, head hash ${previous.hash}`);
