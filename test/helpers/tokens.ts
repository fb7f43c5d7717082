// Tokens the tests authenticate with. vitest.config.ts configures API_KEYS with their hashes.
export const TEST_TOKENS = {
  admin: { principal: "test-admin", role: "admin", token: "test-admin-token" },
  writer: { principal: "test-writer", role: "write", token: "test-writer-token" },
  reader: { principal: "test-reader", role: "read", token: "test-reader-token" },
} as const;

export type TestRole = keyof typeof TEST_TOKENS;

/** Webhook sources configured for the tests (vitest.config.ts). `rotated` has two secrets. */
export const TEST_WEBHOOK_SECRETS = {
  primary: `whsec_${btoa("test-webhook-secret-primary-0001")}`,
  previous: `whsec_${btoa("test-webhook-secret-previous-002")}`,
  other: `whsec_${btoa("test-webhook-secret-of-other-003")}`,
} as const;

export const TEST_WEBHOOK_SOURCES = [
  { id: "test-oms", secrets: [TEST_WEBHOOK_SECRETS.primary] },
  { id: "rotating-oms", secrets: [TEST_WEBHOOK_SECRETS.primary, TEST_WEBHOOK_SECRETS.previous] },
];
