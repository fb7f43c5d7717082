// The standalone verifier (scripts/verify-ledger.mjs) runs in Node, outside the service, so it
// is tested with Node's test runner against a ledger exported from the real service
// (fixtures/sku-fixture.jsonl, fetched with `npm run fetch-ledger` from `npm run dev`).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";

const here = path.dirname(new URL(import.meta.url).pathname);
const script = path.join(here, "../../scripts/verify-ledger.mjs");
const fixture = readFileSync(path.join(here, "fixtures/sku-fixture.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line));

function verify(rows) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "verify-")), "ledger.jsonl");
  writeFileSync(file, `${rows.map((row) => JSON.stringify(row)).join("\n")}\n`);
  const run = spawnSync(process.execPath, [script, file], { encoding: "utf8" });
  return { status: run.status, out: run.stdout + run.stderr };
}

test("an untouched export verifies", () => {
  const { status, out } = verify(fixture);
  assert.equal(status, 0, out);
  assert.match(out, /^OK: 5 rows of sku-fixture verified, seq 1\.\.5/m);
});

test("a file it cannot read exits 2, without a stack trace", () => {
  for (const file of [path.join(tmpdir(), `no-such-ledger-${process.pid}.jsonl`), tmpdir()]) {
    const run = spawnSync(process.execPath, [script, file], { encoding: "utf8" });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^cannot read /);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  }
});

test("an altered row fails at its seq", () => {
  const rows = fixture.map((row) => (row.seq === 3 ? { ...row, quantity: 30, delta: 30 } : row));
  assert.match(verify(rows).out, /FAIL at seq 3:/);
});

test("altered metadata fails at its seq, whatever the key order", () => {
  const rows = fixture.map((row) => (row.seq === 2 ? { ...row, metadata: { a: "é\n", z: 2 } } : row));
  assert.match(verify(rows).out, /FAIL at seq 2:/);
  const reordered = fixture.map((row) => (row.seq === 2 ? { ...row, metadata: { a: row.metadata.a, z: row.metadata.z } } : row));
  assert.equal(verify(reordered).status, 0);
});

test("a deleted row fails at the missing seq", () => {
  const { status, out } = verify(fixture.filter((row) => row.seq !== 4));
  assert.equal(status, 1);
  assert.match(out, /FAIL at seq 4:/);
});

test("an inserted row fails where it was inserted", () => {
  const forged = { ...fixture[1], id: "01a21aae-0000-7000-8000-000000000000", seq: 3, reason: "forged" };
  const rows = [...fixture.slice(0, 2), forged, ...fixture.slice(2).map((row) => ({ ...row, seq: row.seq + 1 }))];
  assert.match(verify(rows).out, /FAIL at seq 3:/);
});

test("reordered rows fail at the first one out of place", () => {
  const rows = [fixture[0], fixture[2], fixture[1], fixture[3], fixture[4]];
  assert.match(verify(rows).out, /FAIL at seq 2:/);
});

test("a row re-hashed by a forger still breaks the link to the next row", () => {
  const rows = fixture.map((row) => ({ ...row }));
  rows[2].reason = "forged";
  // The forger recomputes row 3's hash correctly (its metadata is null-free here but encoded anyway)...
  const canonical = (v) =>
    v === null || typeof v !== "object"
      ? JSON.stringify(v)
      : `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
          .join(",")}}`;
  const r = rows[2];
  const encoding = JSON.stringify([
    "inventory-ledger/row/v1",
    r.product_id,
    r.seq,
    r.id,
    r.type,
    r.quantity,
    r.delta,
    r.location_id,
    r.reason,
    r.created_by,
    r.actor,
    r.metadata === null ? null : canonical(r.metadata),
    r.reservation_id,
    r.idempotency_key,
    r.created_at,
  ]);
  rows[2].hash = createHash("sha256").update(`${r.prev_hash}\n${encoding}`).digest("hex");
  // ...so row 3 checks out, and row 4, which still points at the old hash, does not.
  assert.match(verify(rows).out, /FAIL at seq 4:/);
});
