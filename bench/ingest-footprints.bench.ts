import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeSyntheticBuildings } from "../ingest/synthetic/many-buildings.ts";

/**
 * Footprint ingest benchmark: 1,000,000 synthetic buildings (GeoJSON text sequence) through the full
 * `cim ingest buildings` pipeline, against a reference run in the same script that only reads and parses the
 * input. Goals (issue 2): under 120 s and under 4 GB peak RSS.
 */
const run = promisify(execFile);
const COUNT = Number(process.env.BENCH_BUILDINGS ?? 1_000_000);
const outDir = join(import.meta.dirname, ".out");
const input = join(outDir, `buildings-${COUNT}.geojsonl`);

async function node(script: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, script), ...args],
    {
      maxBuffer: 1 << 24,
    },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

await mkdir(outDir, { recursive: true });
if (!existsSync(input)) {
  process.stdout.write(`generating ${COUNT} synthetic footprints -> ${input}\n`);
  await writeSyntheticBuildings(input, COUNT);
}
const floor = (await node("ingest/read-floor.ts", [input])) as { seconds: number; maxRssBytes: number };
const tiles = join(outDir, "tiles-1m");
await rm(tiles, { recursive: true, force: true });
const started = performance.now();
const result = (await node("ingest/run-ingest.ts", [input, tiles])) as {
  summary: { featuresWritten: number; tiles: number; bytes: number; seconds: number; readSeconds: number };
  maxRssBytes: number;
};
const wall = (performance.now() - started) / 1000;
const s = result.summary;
const gb = (b: number) => (b / 2 ** 30).toFixed(2);
process.stdout.write(
  [
    `footprint ingest, ${COUNT} buildings`,
    `  read floor (parse only)  ${floor.seconds.toFixed(1)} s, peak RSS ${gb(floor.maxRssBytes)} GiB`,
    `  full ingest              ${s.seconds.toFixed(1)} s (reading ${s.readSeconds.toFixed(1)} s), ${wall.toFixed(1)} s wall incl. start`,
    `  buildings/s              ${Math.round(s.featuresWritten / s.seconds)}`,
    `  tiles, bytes             ${s.tiles}, ${(s.bytes / 1e6).toFixed(0)} MB`,
    `  peak RSS                 ${gb(result.maxRssBytes)} GiB`,
    `  ratio ingest / read floor ${(s.seconds / floor.seconds).toFixed(2)}`,
    `  goal < 120 s: ${wall < 120 ? "PASS" : "FAIL"}; goal < 4 GiB: ${result.maxRssBytes < 4 * 2 ** 30 ? "PASS" : "FAIL"}`,
  ].join("\n") + "\n",
);
