#!/usr/bin/env node
// Enforces the architecture's import rules (checked in CI):
//   models/ imports no other project folder; viewer/ never imports tiles-server/ or ingest/;
//   ingest/ never imports tiles-server/; simulator/ talks to the server over HTTP and MQTT like a real device,
//   so it imports neither tiles-server/ nor viewer/.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const folders = ["models", "viewer", "ingest", "tiles-server", "shaders", "cli", "simulator"];
const forbidden = {
  models: folders.filter((f) => f !== "models"),
  viewer: ["tiles-server", "ingest", "cli"],
  ingest: ["tiles-server", "viewer", "cli"],
  "tiles-server": ["viewer", "cli"],
  simulator: ["tiles-server", "viewer", "cli", "ingest"],
};

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) yield p;
  }
}

const importRe =
  /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
const violations = [];
for (const [folder, banned] of Object.entries(forbidden)) {
  let files;
  try {
    files = [...sourceFiles(join(root, folder))];
  } catch {
    continue;
  }
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith(".")) continue;
      const target = relative(root, resolve(dirname(file), spec)).split(/[\\/]/)[0];
      if (banned.includes(target)) {
        const line = text.slice(0, m.index).split("\n").length;
        violations.push(`${relative(root, file)}:${line}: ${folder}/ must not import ${target}/ ("${spec}")`);
      }
    }
  }
}
if (violations.length) {
  console.error(`dependency rules: ${violations.length} violation(s)\n${violations.join("\n")}`);
  process.exit(1);
}
console.log("dependency rules: ok");
