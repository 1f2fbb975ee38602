import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { buildSync } from "esbuild";

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

/** Bundles already built in this process, by entry. */
const bundles = new Map<string, string | null>();
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The worker's TypeScript sources bundled into one ES module (packages stay external imports). It is written under
 * node_modules/.cache so that those imports resolve from the project, and named by its content hash so concurrent
 * runs and edited sources never share a stale file. Null when it cannot be built or written.
 */
function bundleFor(entry: URL): string | null {
  const cached = bundles.get(entry.href);
  if (cached !== undefined) return cached;
  let file: string | null = null;
  try {
    const result = buildSync({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      packages: "external",
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      logLevel: "silent",
    });
    const code = result.outputFiles[0].contents;
    const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
    const dir = join(projectRoot, "node_modules", ".cache", "cim-twin", "workers");
    file = join(dir, `${basename(fileURLToPath(entry)).replace(/\.ts$/, "")}-${hash}.mjs`);
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, file);
  } catch {
    file = null;
  }
  bundles.set(entry.href, file);
  return file;
}

/**
 * Starts a worker thread running a TypeScript module. A worker does not inherit the tsx loader, and registering
 * tsx in each worker costs it a loader thread and a few hundred milliseconds of start-up, so the module is run as an
 * esbuild bundle; if that cannot be written, a one-line bootstrap registers tsx in the worker first.
 */
export function spawnTsWorker(entry: URL, workerData?: unknown): Worker {
  const bundle = bundleFor(entry);
  if (bundle) return new Worker(pathToFileURL(bundle), { workerData });
  const code = `import(${JSON.stringify(tsxApi())}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}
