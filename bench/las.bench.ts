import { execFile } from "node:child_process";
import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { openLas } from "../ingest/pointcloud/las-reader.ts";
import { seededRandom } from "../ingest/synthetic/random.ts";

/**
 * LAS benchmark (issue 6): a synthetic LAS 1.2 point format 2 file (terrain with buildings and trees in UTM 50N,
 * RGB and intensity), cached under bench/.out.
 *   1. read floor, in this process: read + decode every point record with the ingest's reader, no tiling;
 *   2. our full ingest through the real CLI in a child process: wall seconds, CPU seconds, points/s, points/s per
 *      core (points per CPU second: the ingest runs on one thread), peak RSS;
 *   3. the same on a 4x smaller file: peak RSS must stay flat as the input grows (external-memory octree).
 * Goals: >= 1.4 M points/s per core; peak RSS of the large run <= 1.25x that of the small run.
 * Env: BENCH_LAS_POINTS (default 20000000), BENCH_LAS_SMALL_POINTS (default 5000000).
 */
const run = promisify(execFile);
const LARGE = Number(process.env.BENCH_LAS_POINTS ?? 20_000_000);
const SMALL = Number(process.env.BENCH_LAS_SMALL_POINTS ?? 5_000_000);
const GOAL_PER_CORE = 1.4e6;
const root = resolve(import.meta.dirname, "..");
const outDir = join(import.meta.dirname, ".out");
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const RECORD = 26;

function writeSynthetic(file: string, count: number): void {
  const random = seededRandom(20_000_000 + count);
  const side = Math.sqrt(count / 5); // ~5 points per square metre
  const header = Buffer.alloc(227);
  header.write("LASF", 0, "latin1");
  header[24] = 1;
  header[25] = 2;
  header.writeUInt16LE(227, 94);
  header.writeUInt32LE(227, 96);
  header[104] = 2;
  header.writeUInt16LE(RECORD, 105);
  header.writeUInt32LE(count, 107);
  const origin = [500000, 3760000, 0];
  for (let c = 0; c < 3; c++) {
    header.writeDoubleLE(0.001, 131 + 8 * c);
    header.writeDoubleLE(origin[c], 155 + 8 * c);
  }
  header.writeDoubleLE(origin[0] + side, 179);
  header.writeDoubleLE(origin[0], 187);
  header.writeDoubleLE(origin[1] + side, 195);
  header.writeDoubleLE(origin[1], 203);
  header.writeDoubleLE(80, 211);
  header.writeDoubleLE(0, 219);
  const tmp = `${file}.partial`;
  const fd = openSync(tmp, "w");
  writeSync(fd, header);
  const batch = 1 << 20;
  const buf = Buffer.alloc(batch * RECORD);
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    for (let i = 0; i < n; i++) {
      const x = random() * side;
      const y = random() * side;
      const ground = 10 + 5 * Math.sin(x / 200) * Math.cos(y / 300);
      // Blocks of buildings on a 60 m grid, trees scattered elsewhere.
      const inBuilding = x % 60 < 30 && y % 60 < 30;
      const tree = !inBuilding && random() < 0.15;
      const z = inBuilding
        ? ground + 12 + ((Math.floor(x / 60) * 7 + Math.floor(y / 60) * 3) % 40)
        : tree
          ? ground + random() * 15
          : ground;
      const cls = inBuilding ? 6 : tree ? 5 : 2;
      const at = i * RECORD;
      buf.writeInt32LE(Math.round(x / 0.001), at);
      buf.writeInt32LE(Math.round(y / 0.001), at + 4);
      buf.writeInt32LE(Math.round(z / 0.001), at + 8);
      buf.writeUInt16LE(Math.floor(random() * 4096), at + 12);
      buf[at + 14] = 1 | (1 << 3);
      buf[at + 15] = cls;
      buf[at + 16] = 0;
      buf[at + 17] = 0;
      buf.writeUInt16LE(0, at + 18);
      buf.writeUInt16LE(cls === 6 ? 50000 : cls === 5 ? 8000 : 30000, at + 20);
      buf.writeUInt16LE(cls === 6 ? 50000 : cls === 5 ? 40000 : 25000, at + 22);
      buf.writeUInt16LE(cls === 6 ? 52000 : cls === 5 ? 9000 : 15000, at + 24);
    }
    writeSync(fd, buf, 0, n * RECORD);
  }
  closeSync(fd);
  renameSync(tmp, file);
}

async function readFloor(file: string): Promise<{ seconds: number; points: number }> {
  const started = performance.now();
  const reader = await openLas(file);
  let points = 0;
  let checksum = 0;
  for await (const b of reader.batches()) {
    points += b.count;
    checksum += b.x[0] + b.intensity[b.count - 1];
  }
  await reader.close();
  if (!Number.isFinite(checksum)) throw new Error("unreachable");
  return { seconds: (performance.now() - started) / 1000, points };
}

// The child reports its own peak RSS and CPU time as it exits.
const REPORT =
  'data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nBENCH_USAGE "+JSON.stringify({maxRss:u.maxRSS*1024,cpu:(u.userCPUTime+u.systemCPUTime)/1e6})+"\\n")})';

async function ingest(file: string, out: string) {
  await rm(out, { recursive: true, force: true });
  const started = performance.now();
  const r = await run(
    process.execPath,
    ["--import", REPORT, "bin/cim.js", "ingest", "las", file, "--out", out, "--crs", "EPSG:32650"],
    { cwd: root, maxBuffer: 1 << 26 },
  );
  const seconds = (performance.now() - started) / 1000;
  const usage = JSON.parse(/BENCH_USAGE (.*)/.exec(r.stderr)?.[1] ?? "{}") as { maxRss: number; cpu: number };
  return { seconds, ...usage, stdout: r.stdout };
}

await mkdir(outDir, { recursive: true });
const rows: Array<Record<string, number>> = [];
for (const count of [SMALL, LARGE]) {
  const file = join(outDir, `synthetic-${count}.las`);
  if (!existsSync(file)) {
    const t = performance.now();
    writeSynthetic(file, count);
    process.stdout.write(
      `generated ${file} (${mb(statSync(file).size)}) in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
    );
  }
  const floor = await readFloor(file);
  const out = join(outDir, `synthetic-${count}-tiles`);
  const ours = await ingest(file, out);
  process.stdout.write(ours.stdout);
  await rm(out, { recursive: true, force: true });
  rows.push({
    count,
    floorSeconds: floor.seconds,
    floorRate: count / floor.seconds,
    seconds: ours.seconds,
    cpu: ours.cpu,
    rate: count / ours.seconds,
    perCore: count / ours.cpu,
    maxRss: ours.maxRss,
  });
}
const [small, large] = rows;
const lines = [
  `LAS benchmark (load average ${loadavg()[0].toFixed(1)} on ${(await import("node:os")).availableParallelism()} cores: a shared, loaded machine; wall times are pessimistic)`,
  "points      read floor s  floor M pts/s  ingest s  CPU s  M pts/s  M pts/s/core  floor/ingest  peak RSS",
  ...rows.map(
    (r) =>
      `${String(r.count).padEnd(11)} ${r.floorSeconds.toFixed(1).padStart(12)} ${(r.floorRate / 1e6).toFixed(2).padStart(14)} ${r.seconds.toFixed(1).padStart(9)} ${r.cpu.toFixed(1).padStart(6)} ${(r.rate / 1e6).toFixed(2).padStart(8)} ${(r.perCore / 1e6).toFixed(2).padStart(13)} ${(r.seconds / r.floorSeconds).toFixed(1).padStart(12)}x ${mb(r.maxRss).padStart(9)}`,
  ),
  `goal >= ${GOAL_PER_CORE / 1e6} M points/s per core (${LARGE} points): ${large.perCore >= GOAL_PER_CORE ? "PASS" : "FAIL"} (${(large.perCore / 1e6).toFixed(2)})`,
  `goal peak RSS flat (${LARGE} vs ${SMALL} points, <= 1.25x): ${large.maxRss <= 1.25 * small.maxRss ? "PASS" : "FAIL"} (${(large.maxRss / small.maxRss).toFixed(2)}x)`,
];
process.stdout.write(`${lines.join("\n")}\n`);
