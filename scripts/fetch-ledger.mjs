#!/usr/bin/env node
// `npm run -s fetch-ledger -- <base-url> <product_id> > sku.jsonl`: pages through a product's
// history (GET /v1/products/{id}/transactions) and prints one transaction per line, ready for
// `npm run verify` (-s keeps npm's own banner out of the file). The token comes from LEDGER_TOKEN (a read token), never from the command line.
const [base, product] = process.argv.slice(2);
const token = process.env.LEDGER_TOKEN;
if (!base || !product || !token) {
  console.error("usage: LEDGER_TOKEN=<read token> npm run -s fetch-ledger -- <base-url> <product_id> > file.jsonl");
  process.exit(2);
}
let after = 0;
for (;;) {
  const response = await fetch(`${base}/v1/products/${encodeURIComponent(product)}/transactions?after=${after}&limit=500`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) {
    console.error(`GET failed: ${response.status} ${await response.text()}`);
    process.exit(1);
  }
  const page = await response.json();
  for (const row of page.data) process.stdout.write(`${JSON.stringify(row)}\n`);
  if (page.next_after === null) break;
  after = page.next_after;
}
