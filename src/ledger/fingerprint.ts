// A write's fingerprint: what "the same request" means for an idempotency key. Two requests
// are the same when their canonical JSON is equal: keys sorted, so field order never matters.

import type { WriteCommand } from "./types";

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
}

/**
 * Everything the client chose, including who it is and the version it expected: the same key
 * sent by another principal, or with another body, is a different request (422), not a replay.
 */
export function fingerprintOf(command: WriteCommand): string {
  return canonicalJson({
    principal: command.principal,
    expected_version: command.expected_version,
    is_fact: command.is_fact,
    requests: command.requests,
  });
}
