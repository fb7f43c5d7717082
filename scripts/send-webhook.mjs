#!/usr/bin/env node
// Signs one Standard Webhooks event and POSTs it to POST /v1/webhooks/{source_id}, the way a
// provider would. Node >= 20, no dependencies. Prints the HTTP status and the response body.
//
//   node scripts/send-webhook.mjs [--url http://localhost:8787] [--source dev-oms]
//        [--secret whsec_…] [--id msg_…] '<json body>'
//
// A body of "-" is read from standard input (for bodies too long for a command-line argument).
// signature = base64(HMAC-SHA256(base64decode(secret after "whsec_"), `${id}.${timestamp}.${body}`)),
// sent as `webhook-signature: v1,<signature>` with `webhook-id` and `webhook-timestamp` (Unix seconds).
// The defaults are the local development source and secret from .dev.vars.example.
import { createHmac, randomUUID } from "node:crypto";

const DEV_SECRET = "whsec_ZGV2LXdlYmhvb2stc2VjcmV0LWZvci1sb2NhbC11c2U=";
const usage =
  "usage: node scripts/send-webhook.mjs [--url http://localhost:8787] [--source dev-oms] [--secret whsec_…] [--id msg_…] '<json body>' | -";

const options = { url: "http://localhost:8787", source: "dev-oms", secret: DEV_SECRET, id: `msg_${randomUUID().replaceAll("-", "")}` };
const positional = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const match = /^--(url|source|secret|id)(?:=(.*))?$/.exec(arg);
  if (match) {
    const value = match[2] ?? args[++i];
    if (value === undefined) {
      console.error(`${arg} needs a value\n${usage}`);
      process.exit(2);
    }
    options[match[1]] = value;
  } else if (arg === "-h" || arg === "--help") {
    console.log(usage);
    process.exit(0);
  } else {
    positional.push(arg);
  }
}
if (positional.length !== 1) {
  console.error(usage);
  process.exit(2);
}
if (!options.secret.startsWith("whsec_")) {
  console.error('--secret must start with "whsec_"');
  process.exit(2);
}

// The body is sent exactly as given: the signature covers these bytes, not a re-serialization.
const body = positional[0] === "-" ? await readStdin() : positional[0];
const timestamp = String(Math.floor(Date.now() / 1000));
const key = Buffer.from(options.secret.slice("whsec_".length), "base64");
const signature = createHmac("sha256", key).update(`${options.id}.${timestamp}.${body}`, "utf8").digest("base64");

const url = `${options.url.replace(/\/+$/, "")}/v1/webhooks/${encodeURIComponent(options.source)}`;
let response;
try {
  response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": options.id,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${signature}`,
    },
    body,
  });
} catch (error) {
  console.error(`POST ${url} failed: ${error.cause?.message ?? error.message}`);
  process.exit(1);
}
console.log(`${response.status} ${response.statusText} (webhook-id ${options.id})`);
console.log(await response.text());
process.exitCode = response.ok ? 0 : 1;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
