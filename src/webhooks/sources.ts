// WEBHOOK_SOURCES: who may post events, and the secrets their signatures are made with.
// Format (a JSON array in one secret): [{ "id": "oms", "secrets": ["whsec_<base64>", …] }]
// Several secrets per source allow key rotation: a signature by any of them is accepted.

import { z } from "zod";
import { base64ToBytes } from "../lib/bytes";
import { WEBHOOK_SECRETS_PER_SOURCE_MAX, WEBHOOK_SOURCE_ID_LENGTH_MAX } from "../limits";

/** Source ids, in the secret and in the URL: A-Z a-z 0-9 . _ -, the first alphanumeric. */
export const SOURCE_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${WEBHOOK_SOURCE_ID_LENGTH_MAX - 1}}$`);

const sourcesSchema = z.array(
  z.strictObject({
    id: z.string().regex(SOURCE_ID_PATTERN),
    secrets: z
      .array(z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/))
      .min(1)
      .max(WEBHOOK_SECRETS_PER_SOURCE_MAX),
  }),
);

export interface WebhookSource {
  id: string;
  /** Raw HMAC keys, decoded from the base64 after `whsec_`. */
  keys: Uint8Array[];
}

let cached: { raw: string; sources: Map<string, WebhookSource> } | undefined;

/** The configured sources; none when the secret is missing or malformed (fail closed, logged without content). */
export function webhookSourcesFrom(raw: unknown): Map<string, WebhookSource> {
  if (typeof raw !== "string" || raw.trim() === "") return new Map();
  if (cached?.raw === raw) return cached.sources;
  let sources = new Map<string, WebhookSource>();
  try {
    const parsed = sourcesSchema.safeParse(JSON.parse(raw));
    if (parsed.success) {
      sources = new Map(
        parsed.data.map((source) => [
          source.id,
          { id: source.id, keys: source.secrets.map((secret) => base64ToBytes(secret.slice("whsec_".length))) },
        ]),
      );
    } else {
      console.error(JSON.stringify({ level: "error", message: "WEBHOOK_SOURCES is malformed; every webhook will be refused" }));
    }
  } catch {
    console.error(JSON.stringify({ level: "error", message: "WEBHOOK_SOURCES is not JSON; every webhook will be refused" }));
  }
  cached = { raw, sources };
  return sources;
}
