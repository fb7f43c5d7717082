// The dependency rules of src/ and their checker, which reads the import statements of each
// file: http → (durable, webhooks, export, audit) → ledger → lib, every D1 table in d1/,
// limits.ts a leaf that every layer may read, and nothing but the worker entry importing http.
// test/unit/architecture.test.ts applies it to the tree, and to made-up trees that must fail.

type Room = "index" | "limits" | "lib" | "ledger" | "d1" | "durable" | "export" | "audit" | "webhooks" | "http";

/** Which rooms each room may import from (besides itself). Packages are checked separately. */
const ALLOWED: Record<Room, readonly Room[]> = {
  index: ["limits", "lib", "ledger", "d1", "durable", "export", "audit", "webhooks", "http"],
  limits: [],
  lib: ["limits"],
  ledger: ["lib", "limits"],
  d1: ["ledger", "lib", "limits"],
  durable: ["ledger", "lib", "limits", "d1"],
  export: ["durable", "ledger", "lib", "limits", "d1"],
  audit: ["ledger", "lib", "limits", "d1"],
  webhooks: ["durable", "ledger", "lib", "limits", "d1"],
  http: ["durable", "export", "audit", "webhooks", "ledger", "lib", "limits", "d1"],
};

/** Packages a room may import; every other room may import any package it depends on. */
const PACKAGES_ALLOWED: Partial<Record<Room, readonly string[]>> = {
  // The pure core: no runtime, no framework, no database.
  ledger: [],
  limits: [],
  lib: ["@noble/hashes"],
};

export interface Violation {
  file: string;
  imports: string;
  rule: string;
}

function roomOf(path: string): Room {
  const [first] = path.split("/");
  if (path === "index.ts") return "index";
  if (path === "limits.ts") return "limits";
  if (first !== undefined && first in ALLOWED) return first as Room;
  throw new Error(`${path} is in no room: add its folder to the architecture rules`);
}

/** Module specifiers of every static or dynamic import and re-export in a file. */
function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/^\s*import\s+"([^"]+)"/gm)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

/** Resolves a relative specifier against the importing file (paths relative to src/). */
function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    // Above src/ itself, the path keeps its leading ".." (so it is seen to leave src/).
    if (part === "..") parts.length > 0 && parts[parts.length - 1] !== ".." ? parts.pop() : parts.push("..");
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** The rule violations in a tree of { path under src/: text }. */
export function violations(tree: Record<string, string>): Violation[] {
  const found: Violation[] = [];
  for (const [file, text] of Object.entries(tree)) {
    const room = roomOf(file);
    for (const specifier of importsOf(text)) {
      if (specifier.startsWith(".")) {
        const target = resolve(file, specifier);
        // Outside src/ (migrations): only the objects load their migrations.
        if (target.startsWith("..")) {
          if (room !== "durable") found.push({ file, imports: specifier, rule: `${room} may not import outside src/` });
          continue;
        }
        const targetRoom = roomOf(target.endsWith(".ts") ? target : `${target}.ts`);
        if (targetRoom !== room && !ALLOWED[room].includes(targetRoom))
          found.push({ file, imports: specifier, rule: `${room} may not import ${targetRoom}` });
        continue;
      }
      const allowedPackages = PACKAGES_ALLOWED[room];
      const isAllowed =
        allowedPackages === undefined || allowedPackages.some((name) => specifier === name || specifier.startsWith(`${name}/`));
      if (!isAllowed) found.push({ file, imports: specifier, rule: `${room} may not import the package ${specifier}` });
    }
  }
  return found;
}
