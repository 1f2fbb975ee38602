import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateDemoBimIfc } from "../ingest/synthetic/demo-bim.ts";

/**
 * IFC ingest benchmark (issue 3): for each IFC file available, web-ifc's own OpenModel + StreamAllMeshes time divided
 * by our full ingest time (goal >= 0.87: tiling adds at most 15%), and peak RSS against the file size
 * (goal <= 4x the file plus the runtime's fixed cost, measured as the RSS of the web-ifc-only run of the smallest file).
 */
const run = promisify(execFile);
const out = join(import.meta.dirname, ".out", "ifc");
await mkdir(out, { recursive: true });
const shared = join(import.meta.dirname, "..", "..", "shared", "data", "ifc");
const demo = join(out, "demo-bim.ifc");
await writeFile(demo, await generateDemoBimIfc());
// A larger model of the same design: a 120-storey tower (~4.6 MB, ~8,000 products with cut openings).
const tower = join(out, "tower-120.ifc");
if (!existsSync(tower)) await writeFile(tower, await generateDemoBimIfc(120));
const files = [
  ...["AC20-FZK-Haus.ifc", "IfcOpenHouse_IFC4.ifc", "example.ifc"]
    .map((f) => join(shared, f))
    .filter(existsSync),
  demo,
  tower,
];

async function node(script: string, args: string[]) {
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, script), ...args],
    {
      maxBuffer: 1 << 24,
    },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

const rows = [];
for (const file of files) {
  const size = statSync(file).size;
  // Best of three for both, so a busy machine does not decide the ratio.
  let floor = Number.POSITIVE_INFINITY;
  let floorRss = 0;
  let ours = Number.POSITIVE_INFINITY;
  let oursRss = 0;
  for (let i = 0; i < 3; i++) {
    const f = await node("ifc/web-ifc-floor.ts", [file]);
    floor = Math.min(floor, f.seconds);
    floorRss = Math.max(floorRss, f.maxRssBytes);
    const target = join(out, `tiles-${i}`);
    await rm(target, { recursive: true, force: true });
    const r = await node("ifc/run-ingest.ts", [file, target, "118.29,33.96,0"]);
    ours = Math.min(ours, r.seconds);
    oursRss = Math.max(oursRss, r.maxRssBytes);
  }
  rows.push({ file: file.split("/").pop(), size, floor, ours, ratio: floor / ours, oursRss, floorRss });
}
const fixed = Math.min(...rows.map((r) => r.floorRss));
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
process.stdout.write(
  "file                      MB    web-ifc s  ours s   ratio  peak RSS MB  (RSS - fixed)/size\n",
);
for (const r of rows) {
  process.stdout.write(
    `${r.file!.padEnd(24)} ${mb(r.size).padStart(5)} ${r.floor.toFixed(3).padStart(9)} ${r.ours.toFixed(3).padStart(7)} ${r.ratio.toFixed(2).padStart(6)} ${mb(r.oursRss).padStart(11)} ${((r.oursRss - fixed) / r.size).toFixed(1).padStart(8)}\n`,
  );
}
process.stdout.write(
  `runtime fixed cost (web-ifc alone, smallest file): ${mb(fixed)} MB\n` +
    `goal ratio >= 0.87: ${rows.every((r) => r.ratio >= 0.87) ? "PASS" : "FAIL"}; ` +
    `goal RSS <= 4x size + fixed: ${rows.every((r) => r.oursRss <= 4 * r.size + fixed) ? "PASS" : "FAIL"}\n`,
);
