#!/usr/bin/env node
// `npm run hash-token -- <token>`: prints the SHA-256 hex to put in API_KEYS. The token itself
// is never stored anywhere by the service.
import { createHash } from "node:crypto";

const token = process.argv[2];
if (!token) {
  console.error("usage: npm run hash-token -- <token>");
  process.exit(2);
}
console.log(createHash("sha256").update(token).digest("hex"));
