// API_KEYS: the bearer tokens this deployment accepts, stored only as SHA-256 hashes.
// Format (a JSON array in one secret):
//   [{ "principal": "storefront-eu", "role": "write", "token_sha256": "<64 hex chars>" }]

import { z } from "zod";
import { constantTimeEqual, hexToBytes } from "../lib/bytes";
import { sha256 } from "../lib/sha256";
import { PRINCIPAL_LENGTH_MAX } from "../limits";

export const ROLES = ["read", "write", "admin"] as const;
export type Role = (typeof ROLES)[number];

const ROLE_RANK: Record<Role, number> = { read: 0, write: 1, admin: 2 };

export function roleAllows(granted: Role, required: Role): boolean {
  return ROLE_RANK[granted] >= ROLE_RANK[required];
}

const apiKeysSchema = z.array(
  z.strictObject({
    // Becomes created_by on every row the key writes: valid Unicode, like all stored text.
    principal: z
      .string()
      .min(1)
      .max(PRINCIPAL_LENGTH_MAX)
      .refine((text) => text.isWellFormed(), { message: "must be valid Unicode" }),
    role: z.enum(ROLES),
    token_sha256: z.string().regex(/^[0-9a-f]{64}$/i),
  }),
);

export interface ApiKey {
  principal: string;
  role: Role;
  token_sha256: Uint8Array;
}

// Parsed once per isolate per distinct secret value, not once per request.
let cached: { raw: string; keys: ApiKey[] } | undefined;

/**
 * The configured keys, or [] when none are configured or the secret is malformed: either way
 * no token is accepted (fail closed). A malformed secret is logged without its content.
 */
export function apiKeysFrom(raw: unknown): ApiKey[] {
  if (typeof raw !== "string" || raw.trim() === "") return [];
  if (cached?.raw === raw) return cached.keys;
  let keys: ApiKey[] = [];
  try {
    const parsed = apiKeysSchema.safeParse(JSON.parse(raw));
    if (parsed.success) {
      keys = parsed.data.map((key) => ({
        principal: key.principal,
        role: key.role,
        token_sha256: hexToBytes(key.token_sha256.toLowerCase()),
      }));
    } else {
      console.error(
        JSON.stringify({
          level: "error",
          message: "API_KEYS is malformed; every request will be refused",
          issues: parsed.error.issues.length,
        }),
      );
    }
  } catch {
    console.error(JSON.stringify({ level: "error", message: "API_KEYS is not JSON; every request will be refused" }));
  }
  cached = { raw, keys };
  return keys;
}

/** Finds the key whose hash matches, looking at every key so the time does not reveal which. */
export function findApiKey(keys: readonly ApiKey[], token: string): ApiKey | undefined {
  const digest = sha256(token);
  let match: ApiKey | undefined;
  for (const key of keys) {
    if (constantTimeEqual(digest, key.token_sha256) && match === undefined) match = key;
  }
  return match;
}
