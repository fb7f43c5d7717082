// Tokens the tests authenticate with. vitest.config.ts configures API_KEYS with their hashes.
export const TEST_TOKENS = {
  admin: { principal: "test-admin", role: "admin", token: "test-admin-token" },
  writer: { principal: "test-writer", role: "write", token: "test-writer-token" },
  reader: { principal: "test-reader", role: "read", token: "test-reader-token" },
} as const;

export type TestRole = keyof typeof TEST_TOKENS;
