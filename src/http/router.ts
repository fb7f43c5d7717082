// Every sub-app is an OpenAPIHono whose validation failures become 400 invalid_request,
// each bad field listed with its path (body.quantity, query.limit, header.idempotency-key).
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env";
import { invalidRequest } from "./problem";

const TARGET_PREFIX: Record<string, string> = { json: "body", query: "query", param: "path", header: "header" };

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const prefix = TARGET_PREFIX[result.target] ?? result.target;
      throw invalidRequest(
        result.error.issues.map((issue) => ({
          path: [prefix, ...issue.path.map(String)].join("."),
          message: issue.message,
        })),
      );
    },
  });
}
