/// <reference types="vite/client" />
// The dependency rules of src/ (test/helpers/import-rules.ts), applied to the import statements
// of every source file, and to made-up trees, so that a forbidden import is shown to fail.
import { describe, expect, it } from "vitest";
import { violations } from "../helpers/import-rules";

/** Every source file's text, keyed by its path under src/ (bundled by Vite at build time). */
const SOURCES = import.meta.glob("../../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

const tree = Object.fromEntries(Object.entries(SOURCES).map(([path, text]) => [path.replace(/^\.\.\/\.\.\/src\//, ""), text]));

describe("the dependency rules of src/", () => {
  it("reads every source file (the glob is not empty)", () => {
    expect(Object.keys(tree).length).toBeGreaterThan(50);
    expect(tree["ledger/decide.ts"]).toContain("export function decide");
  });

  it("holds in the tree: no file imports against the direction of the layers", () => {
    expect(violations(tree)).toEqual([]);
  });

  it("catches durable importing export, or anything importing http (shown on made-up files)", () => {
    const bad = {
      "durable/product-ledger/object.ts":
        'import { startRun } from "../../export/runs";\nimport type { AppEnv } from "../../http/app-env";',
      "export/runs.ts": "",
      "http/app-env.ts": "",
    };
    expect(violations(bad)).toEqual([
      { file: "durable/product-ledger/object.ts", imports: "../../export/runs", rule: "durable may not import export" },
      { file: "durable/product-ledger/object.ts", imports: "../../http/app-env", rule: "durable may not import http" },
    ]);
  });

  it("catches a package in the pure core, and webhooks importing export or http", () => {
    const bad = {
      "ledger/decide.ts": 'import { sql } from "drizzle-orm";\nimport { DurableObject } from "cloudflare:workers";',
      "webhooks/apply.ts": 'import { startRun } from "../export/runs";\nexport { problemOf } from "../http/problems";',
      "export/runs.ts": "",
      "http/problems.ts": "",
    };
    expect(violations(bad).map((violation) => violation.rule)).toEqual([
      "ledger may not import the package drizzle-orm",
      "ledger may not import the package cloudflare:workers",
      "webhooks may not import export",
      "webhooks may not import http",
    ]);
  });

  it("catches an import from outside src/ by anything but the objects (their migrations)", () => {
    const bad = { "http/app.ts": 'import migrations from "../../migrations/product-ledger/migrations.js";' };
    expect(violations(bad)).toEqual([
      { file: "http/app.ts", imports: "../../migrations/product-ledger/migrations.js", rule: "http may not import outside src/" },
    ]);
  });

  it("catches a multi-line import and a dynamic import", () => {
    const bad = {
      "lib/retry.ts": 'import {\n  decide,\n  type Decision,\n} from "../ledger/decide";\nconst later = await import("../d1/db");',
      "ledger/decide.ts": "",
      "d1/db.ts": "",
    };
    expect(violations(bad).map((violation) => violation.rule)).toEqual(["lib may not import ledger", "lib may not import d1"]);
  });
});

describe("the worker entry", () => {
  it("exports only the default handlers and Durable Object classes (workerd refuses to start on any other export)", async () => {
    const { DurableObject } = await import("cloudflare:workers");
    const entry = (await import("../../src/index")) as Record<string, unknown>;
    for (const [name, value] of Object.entries(entry)) {
      if (name === "default") continue;
      expect(
        typeof value === "function" && (value as { prototype: unknown }).prototype instanceof DurableObject,
        `${name} is not a Durable Object class`,
      ).toBe(true);
    }
    expect(Object.keys(entry).sort()).toEqual(["ProductLedger", "Reservation", "Subscription", "default"]);
  });
});
