import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

let tsxApiUrl: string | undefined;

/** The ESM entry of tsx's register API (its CommonJS entry cannot register the ESM loader in a worker). */
function tsxApi(): string {
  if (!tsxApiUrl) {
    const pkgPath = createRequire(import.meta.url).resolve("tsx/package.json");
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
    tsxApiUrl = pathToFileURL(join(dirname(pkgPath), pkg.exports["./esm/api"].import.default)).href;
  }
  return tsxApiUrl;
}

/**
 * Starts a worker thread running a TypeScript module. Workers do not inherit the tsx loader the CLI registers,
 * and `--import tsx` in execArgv is not honoured for them, so a one-line bootstrap registers it first.
 */
export function spawnTsWorker(entry: URL, workerData?: unknown): Worker {
  const code = `import(${JSON.stringify(tsxApi())}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}
