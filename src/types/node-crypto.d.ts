// The one piece of node:crypto the service uses (available under the nodejs_compat flag): a
// synchronous SHA-256, so a row's hash is computed inside the same transactionSync as its insert,
// and a bearer token is hashed without a round trip through crypto.subtle's promise.
// Declared here rather than pulling in @types/node, whose globals clash with the Workers runtime's.
declare module "node:crypto" {
  interface Hash {
    update(data: string | Uint8Array): Hash;
    digest(encoding: "hex"): string;
    digest(): Uint8Array;
  }
  export function createHash(algorithm: "sha256"): Hash;
}
