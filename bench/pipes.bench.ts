import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { CITY_PIPES_CRS, writeCityPipes } from "../ingest/synthetic/city-pipes.ts";
import { seededRandom } from "../ingest/synthetic/random.ts";
import type { NetworkIndex } from "../models/pipes.ts";
import { startServer } from "../tiles-server/server.ts";

/**
 * Pipes benchmark (issue 4): a generated city network of about 200,000 segments / 10,000 km.
 *   1. ingest through the real CLI (`cim ingest pipes --format cjj`) in a child process: seconds and peak RSS,
 *      against a reference run that only reads and parses the two CSV tables;
 *   2. the real server (startServer, embedded PGlite, port 0) with the layer registered over HTTP: latency of
 *      trace up, trace down and burst isolation over HTTP (full JSON body received, gzip accepted like a browser)
 *      for a few hundred random segments. Goal: p95 < 100 ms.
 * Env: BENCH_PIPES_SEGMENTS (default 200000), BENCH_PIPES_SAMPLES (default 300), BENCH_PIPES_MESHOPT=1,
 * BENCH_PIPES_SKIP_INGEST=1.
 */
const run = promisify(execFile);
const SEGMENTS = Number(process.env.BENCH_PIPES_SEGMENTS ?? 200_000);
const SAMPLES = Number(process.env.BENCH_PIPES_SAMPLES ?? 300);
const GOAL_MS = 100;
const root = resolve(import.meta.dirname, "..");
const outDir = join(import.meta.dirname, ".out");
const inputDir = join(outDir, `city-pipes-${SEGMENTS}`);
const points = join(inputDir, "city-pipes-points.csv");
const lines = join(inputDir, "city-pipes-lines.csv");
const tiles = join(outDir, `city-pipes-${SEGMENTS}-tiles`);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

await mkdir(inputDir, { recursive: true });
if (!existsSync(lines)) {
  const t = performance.now();
  const g = await writeCityPipes(inputDir, { segments: SEGMENTS });
  process.stdout.write(
    `generated ${g.links} segments, ${g.nodes} points, ${g.lengthKm.toFixed(0)} km in ${((performance.now() - t) / 1000).toFixed(1)} s -> ${inputDir}\n`,
  );
}

// --- 1. ingest (BENCH_PIPES_SKIP_INGEST=1 reuses the tiles of the last run) ----------------------------------------
if (!process.env.BENCH_PIPES_SKIP_INGEST || !existsSync(join(tiles, "network.json"))) await benchIngest();

async function benchIngest(): Promise<void> {
  const floorRun = await run(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "pipes/read-floor.ts"), points, lines],
    {
      cwd: root,
      maxBuffer: 1 << 24,
    },
  );
  const floor = JSON.parse(floorRun.stdout.trim().split("\n").pop()!) as {
    rows: number;
    seconds: number;
    maxRssBytes: number;
    cpuSeconds: number;
  };

  await rm(tiles, { recursive: true, force: true });
  const args = [
    "--import",
    join(import.meta.dirname, "pipes/report-rss.mjs"),
    "bin/cim.js",
    "ingest",
    "pipes",
    points,
    lines,
    "--format",
    "cjj",
    "--crs",
    CITY_PIPES_CRS,
    "--out",
    tiles,
    ...(process.env.BENCH_PIPES_MESHOPT ? ["--meshopt"] : []),
  ];
  const started = performance.now();
  const ingest = await run(process.execPath, args, { cwd: root, maxBuffer: 1 << 26 });
  const wall = (performance.now() - started) / 1000;
  const usage = JSON.parse(/CIM_BENCH_USAGE (.*)/.exec(ingest.stderr)![1]) as {
    maxRssBytes: number;
    userSeconds: number;
    systemSeconds: number;
  };
  const field = (name: string) =>
    new RegExp(`^[ \\t]*${name}[ \\t]{2,}(.*)$`, "m").exec(ingest.stdout)?.[1] ?? "?";
  const ingestSeconds = Number(field("seconds"));
  process.stdout.write(
    [
      `pipes ingest, ${field("links read")} segments (${field("features written")} features)`,
      `  read floor (read + parse CSV)  ${floor.seconds.toFixed(1)} s (CPU user ${floor.cpuSeconds.toFixed(1)} s), peak RSS ${mb(floor.maxRssBytes)}`,
      `  cim ingest pipes               ${ingestSeconds.toFixed(1)} s (${wall.toFixed(1)} s wall incl. start; CPU user ${usage.userSeconds.toFixed(1)} s + sys ${usage.systemSeconds.toFixed(1)} s)`,
      `  tiles, bytes                   ${field("tiles")}, ${field("bytes")}`,
      `  peak RSS                       ${mb(usage.maxRssBytes)}`,
      `  ratio ingest / read floor      ${(ingestSeconds / floor.seconds).toFixed(1)} (CPU time ${(usage.userSeconds / floor.cpuSeconds).toFixed(1)}; the machine's load ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
      `  goals: < 60 s ${ingestSeconds < 60 ? "PASS" : "FAIL"}; peak RSS < 2 GiB ${usage.maxRssBytes < 2 * 2 ** 30 ? "PASS" : "FAIL"}`,
      "",
    ].join("\n"),
  );
}

// --- 2. analysis latency over HTTP ---------------------------------------------------------------------------
const dataDir = await mkdtemp(join(tmpdir(), "cim-bench-pipes-"));
const token = "bench-not-secret-0123456789abcdef";
const server = await startServer({ port: 0, host: "127.0.0.1", dataDir, logger: false, adminToken: token });
try {
  let t = performance.now();
  const reg = await fetch(new URL("/api/layers", server.url), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ path: tiles, id: "city-pipes" }),
  });
  if (!reg.ok) throw new Error(`registering the layer: HTTP ${reg.status} ${await reg.text()}`);
  const registerSeconds = (performance.now() - t) / 1000;

  const network = JSON.parse(await readFile(join(tiles, "network.json"), "utf8")) as NetworkIndex;
  const rand = seededRandom(4242);
  const sample = Array.from(
    { length: SAMPLES },
    () => network.links[Math.floor(rand() * network.links.length)].id,
  );

  // Wall time per request, and the process's CPU time over it (server and client share this process, so the
  // CPU figure includes fetch and gunzip on the client side too): on a shared, loaded machine the wall time also
  // counts waiting for a core, the CPU time does not.
  const get = async (path: string): Promise<{ ms: number; cpuMs: number; bytes: number }> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const res = await fetch(new URL(path, server.url), { headers: { "accept-encoding": "gzip" } });
    const body = await res.arrayBuffer();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${Buffer.from(body).toString()}`);
    return {
      ms,
      cpuMs: (c.user + c.system) / 1000,
      bytes: Number(res.headers.get("content-length") ?? body.byteLength),
    };
  };
  const base = "/api/pipes/city-pipes";
  t = performance.now();
  await get(`${base}/isolate?link=${encodeURIComponent(sample[0])}`);
  const loadSeconds = (performance.now() - t) / 1000;
  // Warm-up (JIT, id encodings) before timing.
  for (const id of sample.slice(0, 10)) {
    await get(`${base}/trace?from=${encodeURIComponent(id)}&fromType=link&direction=down`);
    await get(`${base}/trace?from=${encodeURIComponent(id)}&fromType=link&direction=up`);
  }
  const ops = {
    "trace up": (id: string) => `${base}/trace?from=${encodeURIComponent(id)}&fromType=link&direction=up`,
    "trace down": (id: string) => `${base}/trace?from=${encodeURIComponent(id)}&fromType=link&direction=down`,
    isolate: (id: string) => `${base}/isolate?link=${encodeURIComponent(id)}`,
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((op) => [op, []]));
  const sizes: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((op) => [op, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((op) => [op, []]));
  for (const id of sample) {
    for (const [op, path] of Object.entries(ops)) {
      const r = await get(path(id));
      times[op].push(r.ms);
      cpu[op].push(r.cpuMs);
      sizes[op].push(r.bytes);
    }
  }
  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  };
  const out = [
    `pipe analysis over HTTP, ${network.links.length} links / ${network.nodes.length} nodes, ${SAMPLES} random segments`,
    `  register layer (network into PGlite)  ${registerSeconds.toFixed(1)} s; first request (graph load) ${loadSeconds.toFixed(1)} s`,
  ];
  let pass = true;
  for (const op of Object.keys(ops)) {
    const p95 = pct(times[op], 95);
    pass &&= p95 < GOAL_MS;
    out.push(
      `  ${op.padEnd(11)} p50 ${pct(times[op], 50).toFixed(1)} ms  p95 ${p95.toFixed(1)} ms  p99 ${pct(times[op], 99).toFixed(1)} ms  max ${pct(times[op], 100).toFixed(1)} ms | CPU p50 ${pct(cpu[op], 50).toFixed(1)} p95 ${pct(cpu[op], 95).toFixed(1)} ms | gzipped body p50 ${(pct(sizes[op], 50) / 1024).toFixed(1)} KiB max ${(pct(sizes[op], 100) / 1024).toFixed(0)} KiB  ${p95 < GOAL_MS ? "PASS" : "FAIL"}`,
    );
  }
  out.push(
    `  goal p95 < ${GOAL_MS} ms: ${pass ? "PASS" : "FAIL"} (machine load ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}
