import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import vm from "node:vm";
import type * as WebIfcModule from "web-ifc";

export type WebIfc = typeof WebIfcModule;

/**
 * web-ifc's Node entry is a 6 MB CommonJS bundle (mostly the IFC schema). Every ingest worker is a fresh V8
 * isolate that would parse it again: 0.4-0.8 s per worker, more than opening and meshing a small model takes.
 * Node 20 has no module compile cache (module.enableCompileCache came in Node 22), so the bundle is compiled here
 * through vm.Script with a V8 code cache kept in the temp folder. V8 checks the cache against the source and its
 * own version and flags and rejects a stale one, which is then rebuilt.
 */
let loaded: { module: WebIfc; script: vm.Script; cacheFile: string; fromCache: boolean } | undefined;

export function loadWebIfc(): WebIfc {
  if (loaded) return loaded.module;
  const require = createRequire(import.meta.url);
  const file = require.resolve("web-ifc");
  const version = JSON.parse(readFileSync(join(dirname(file), "package.json"), "utf8")).version as string;
  const cacheFile = join(
    tmpdir(),
    "cim-twin-code-cache",
    // "full": saved after a whole model was read, so that the lazily compiled schema classes and geometry calls are
    // in it (a cache saved after OpenModel alone left them to be compiled again by every run).
    `web-ifc-${version}-node${process.versions.v8}-${arch()}-full.bin`,
  );
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`;
  const script = new vm.Script(source, { filename: file, cachedData });
  const mod = { exports: {} as WebIfc };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  loaded = {
    module: mod.exports,
    script,
    cacheFile,
    fromCache: cachedData !== undefined && !script.cachedDataRejected,
  };
  return mod.exports;
}

/**
 * Stores the code cache once the bundle has run real work (so the functions compiled lazily by then are in it).
 * Best effort: a read-only temp folder only costs the next run its parse time.
 */
export function saveWebIfcCodeCache(): void {
  if (!loaded || loaded.fromCache) return;
  try {
    mkdirSync(dirname(loaded.cacheFile), { recursive: true });
    const partial = `${loaded.cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(partial, loaded.script.createCachedData());
    renameSync(partial, loaded.cacheFile);
    loaded.fromCache = true;
  } catch {
    // Not fatal: see above.
  }
}
