/**
 * Telemetry benchmarks (issue 5):
 *
 *   npm run bench:telemetry
 *
 * (a) write   readings/s through our write path (TelemetryService: batching, device check,
 *             partitions, binary COPY) vs one binary COPY of the same rows into an identical
 *             partitioned table. Goal: ratio >= 0.9.
 * (b) latency MQTT publish -> WebSocket receive, p50/p99 at 1k, 5k and 10k readings/s, through
 *             the embedded broker and through Mosquitto (MQTT_URL). Goal: p99 < 50 ms at 10k/s.
 * (c) bbox    100,000 registered devices: GET /api/devices?bbox= latency p50/p95, on the real
 *             PostgreSQL and on the embedded PGlite. Goal: < 50 ms.
 * The servers run as child processes (bench/telemetry-server.ts); the load runs here.
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_MQTT_URL
 * (default mqtt://127.0.0.1:1883), BENCH_TELEMETRY_ROWS (write rows per round, default 200000),
 * BENCH_TELEMETRY_SECONDS (seconds per latency rate, default 5), BENCH_TELEMETRY_ONLY (write,latency,bbox),
 * BENCH_TELEMETRY_WRITERS (concurrent batch writers, default 2 as in the server),
 * BENCH_TELEMETRY_RATES (readings/s, default 1000,5000,10000), BENCH_TELEMETRY_BROKERS (embedded,mosquitto),
 * BENCH_TELEMETRY_PROFILE=<dir> (CPU profiles of the server children), BENCH_TELEMETRY_STRICT=1 (exit 1 when a goal fails).
 * Results: printed table + bench/.out/telemetry-results.json.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pino } from "pino";
import WebSocket from "ws";
import type { Reading } from "../models/telemetry.ts";
import { openDatabase } from "../tiles-server/db/database.ts";
import { DeviceStore } from "../tiles-server/iot/device-store.ts";
import { DEFAULT_MQTT_SESSIONS } from "../tiles-server/iot/mqtt.ts";
import { DAY_MS, encodeCopyBinary, ReadingStore } from "../tiles-server/iot/reading-store.ts";
import { TelemetryService } from "../tiles-server/iot/telemetry-service.ts";

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const MQTT_URL = process.env.BENCH_MQTT_URL ?? "mqtt://127.0.0.1:1883";
const ROWS = Number(process.env.BENCH_TELEMETRY_ROWS ?? 200_000);
const SECONDS = Number(process.env.BENCH_TELEMETRY_SECONDS ?? 5);
const ONLY = new Set((process.env.BENCH_TELEMETRY_ONLY ?? "write,latency,bbox").split(","));
const STRICT = process.env.BENCH_TELEMETRY_STRICT === "1";
/** Concurrent batch writers of the write path (the server uses 2 on PostgreSQL). */
const WRITERS = Number(process.env.BENCH_TELEMETRY_WRITERS ?? 2);
const ADMIN = "bench-admin-token-0123456789";

const benchDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(benchDir, ".out");
const log = (msg: string) => process.stderr.write(`[bench:telemetry] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const suffix = `${process.pid}_${Date.now().toString(36)}`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) write path vs binary COPY

interface WriteResult {
  rounds: { ours: number; copy: number }[];
  oursBest: number;
  copyBest: number;
  ratio: number;
}

async function benchWrite(): Promise<WriteResult> {
  const schema = `cim_bench_${suffix}`;
  const db = await openDatabase({ databaseUrl: DATABASE_URL, dataDir: "/nonexistent-unused", schema });
  const logger = pino({ enabled: false });
  try {
    const devices = new DeviceStore(db);
    const readings = new ReadingStore(db);
    const service = new TelemetryService({ devices, readings, logger, retentionDays: 0, writers: WRITERS });
    await service.start();
    const ids = Array.from({ length: 1000 }, (_, i) => `bench-${i}`);
    await devices.create(
      ids.map((id, i) => ({
        id,
        type: "pipe_pressure",
        name: id,
        lon: 118 + (i % 100) * 0.005,
        lat: 33.8 + Math.floor(i / 100) * 0.005,
        height: 0,
        sharing: "conditional",
      })),
    );
    const ref = db.table("ref_readings");
    await db.pool.query(
      `CREATE TABLE ${ref} (device_id text COLLATE "C" NOT NULL, ts timestamptz NOT NULL,
         quantity text COLLATE "C" NOT NULL, value double precision NOT NULL,
         PRIMARY KEY (device_id, quantity, ts)) PARTITION BY RANGE (ts)`,
    );
    const day0 = Math.floor(Date.now() / DAY_MS) - 3;
    for (let d = day0; d < day0 + 3; d++) {
      await db.pool.query(
        `CREATE TABLE ${db.table(`ref_readings_${d}`)} PARTITION OF ${ref}
           FOR VALUES FROM ('${new Date(d * DAY_MS).toISOString()}') TO ('${new Date((d + 1) * DAY_MS).toISOString()}')`,
      );
    }
    // Rows spread over ~2 days, one reading per message as devices usually send.
    let tsCursor = day0 * DAY_MS + 3_600_000;
    const makeRows = (): Reading[] => {
      const rows: Reading[] = [];
      for (let i = 0; i < ROWS; i++) {
        rows.push({ deviceId: ids[i % ids.length], ts: tsCursor, quantity: "pressure", value: Math.sin(i) });
        if (i % ids.length === ids.length - 1) tsCursor += 500;
      }
      tsCursor += 1000;
      return rows;
    };
    const rounds: { ours: number; copy: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const oursRows = makeRows();
      const copyRows = makeRows();
      const runOurs = async () => {
        const t0 = performance.now();
        const results = await Promise.all(oursRows.map((r) => service.submit(r.deviceId, [r])));
        const seconds = (performance.now() - t0) / 1000;
        if (results.some((r) => r.status !== "committed"))
          throw new Error("write path did not commit every row");
        return ROWS / seconds;
      };
      const runCopy = async () => {
        const t0 = performance.now();
        const client = await db.pool.connect();
        try {
          await pipeline(
            Readable.from([encodeCopyBinary(copyRows)]),
            client.query(copyFrom(`COPY ${ref} (device_id, ts, quantity, value) FROM STDIN (FORMAT binary)`)),
          );
        } finally {
          client.release();
        }
        return ROWS / ((performance.now() - t0) / 1000);
      };
      // Alternate the order so neither side always runs on a warmer cache.
      let ours: number;
      let copy: number;
      if (round % 2 === 0) {
        ours = await runOurs();
        copy = await runCopy();
      } else {
        copy = await runCopy();
        ours = await runOurs();
      }
      rounds.push({ ours, copy });
      log(`write round ${round + 1}: ours ${ours.toFixed(0)} rows/s, binary COPY ${copy.toFixed(0)} rows/s`);
    }
    const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${readings.table}`);
    if (Number(rows[0].n) !== ROWS * 3)
      throw new Error(`expected ${ROWS * 3} stored rows, found ${rows[0].n}`);
    await service.stop();
    // Compare medians: the machine is shared, a single lucky round should not decide.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const oursBest = median(rounds.map((r) => r.ours));
    const copyBest = median(rounds.map((r) => r.copy));
    return { rounds, oursBest, copyBest, ratio: oursBest / copyBest };
  } finally {
    await db.pool.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {});
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// server children

interface Child {
  proc: ChildProcess;
  url: string;
  mqttUrl: string;
}

async function spawnServer(args: string[]): Promise<Child> {
  const profile = process.env.BENCH_TELEMETRY_PROFILE
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_TELEMETRY_PROFILE}`]
    : [];
  const proc = spawn(
    process.execPath,
    [...profile, "--import", "tsx", join(benchDir, "telemetry-server.ts"), ...args],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    proc.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const { url, mqttUrl } = JSON.parse(line) as { url: string; mqttUrl: string };
  return { proc, url, mqttUrl };
}

async function stopChild(child: Child): Promise<void> {
  const exited = new Promise((r) => child.proc.once("exit", r));
  child.proc.kill("SIGTERM");
  await Promise.race([exited, sleep(15_000)]);
}

async function registerDevices(url: string, count: number, spread: number, prefix: string): Promise<void> {
  for (let start = 0; start < count; start += 10_000) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 10_000); i++) {
      // A deterministic scatter over `spread` degrees around Suqian.
      const a = (i * 0.6180339887) % 1;
      const b = (i * 0.7548776662) % 1;
      batch.push({
        id: `${prefix}-${i}`,
        type: i % 3 === 0 ? "water_level" : "pipe_pressure",
        name: `${prefix} ${i}`,
        lon: 118.0 + a * spread,
        lat: 33.7 + b * spread,
      });
    }
    const res = await fetch(`${url}/api/devices`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify(batch),
    });
    if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${await res.text()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// (b) latency

interface LatencyResult {
  broker: string;
  rate: number;
  sent: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
}

async function benchLatency(broker: "embedded" | "mosquitto"): Promise<LatencyResult[]> {
  const schema = `cim_bench_lat_${broker}_${suffix}`;
  const clientId = `cim-bench-${suffix}`;
  const child = await spawnServer([DATABASE_URL, schema, broker === "mosquitto" ? MQTT_URL : "", clientId]);
  const results: LatencyResult[] = [];
  try {
    const deviceIds = Array.from({ length: 1000 }, (_, i) => `lat-${suffix}-${i}`);
    const res = await fetch(`${child.url}/api/devices`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify(
        deviceIds.map((id, i) => ({ id, type: "flow", name: id, lon: 118 + i * 1e-4, lat: 33.9 })),
      ),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status}`);

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const ws = new WebSocket(`${child.url.replace("http", "ws")}/ws`);
    await new Promise((r) => ws.once("open", r));
    ws.on("message", (data) => {
      const now = performance.now();
      const msg = JSON.parse(data.toString()) as { type: string; readings?: Reading[] };
      if (msg.type !== "readings") return;
      for (const r of msg.readings!) {
        const key = `${r.deviceId}|${r.ts}`;
        const t = sentAt.get(key);
        if (t !== undefined) {
          latencies.push(now - t);
          sentAt.delete(key);
        }
      }
    });
    ws.send(JSON.stringify({ subscribe: { devices: deviceIds } }));
    const publisher = await mqtt.connectAsync(child.mqttUrl, { clientId: `${clientId}-pub`, clean: true });
    let seq = 0;
    const base = Date.now() - 6 * 3_600_000;
    for (const rate of (process.env.BENCH_TELEMETRY_RATES ?? "1000,5000,10000").split(",").map(Number)) {
      latencies.length = 0;
      sentAt.clear();
      let sent = 0;
      const start = performance.now();
      const total = rate * SECONDS;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        while (sent < due) {
          const deviceId = deviceIds[seq % deviceIds.length];
          const ts = base + seq;
          seq++;
          sentAt.set(`${deviceId}|${ts}`, performance.now());
          publisher.publish(`cim/${deviceId}/telemetry`, `{"ts":${ts},"values":{"flow":${sent % 100}}}`, {
            qos: 1,
          });
          sent++;
        }
        await sleep(2);
      }
      const until = performance.now() + 30_000;
      while (latencies.length < sent && performance.now() < until) await sleep(20);
      const sorted = [...latencies].sort((a, b) => a - b);
      const r: LatencyResult = {
        broker,
        rate,
        sent,
        received: latencies.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? Number.NaN,
      };
      results.push(r);
      log(
        `latency ${broker} ${rate}/s: received ${r.received}/${r.sent}, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`,
      );
      await sleep(1000);
    }
    await publisher.endAsync();
    ws.close();
  } finally {
    await stopChild(child);
    if (broker === "mosquitto") {
      for (let i = 0; i < Number(process.env.CIM_MQTT_SESSIONS || DEFAULT_MQTT_SESSIONS); i++) {
        const c = await mqtt.connectAsync(MQTT_URL, { clientId: `${clientId}-${i}`, clean: true });
        await c.endAsync();
      }
    }
    await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// (c) bbox on 100k devices

interface BboxResult {
  database: string;
  devices: number;
  queries: number;
  meanResults: number;
  /** HTTP GET /api/devices?bbox= round trip, JSON parsed. */
  p50: number;
  p95: number;
  /** The same query in SQL alone (PostgreSQL only). */
  sqlP50?: number;
  sqlP95?: number;
}

/** District-sized boxes (~2 km) anywhere in the area, every third with a type filter. */
function bboxQuery(i: number): { w: number; s: number; e: number; n: number; type?: string } {
  const w = 118.0 + ((i * 0.37) % 0.48);
  const s = 33.7 + ((i * 0.53) % 0.48);
  return { w, s, e: w + 0.02, n: s + 0.02, type: i % 3 === 0 ? "water_level" : undefined };
}

async function benchBbox(database: "postgres" | "pglite"): Promise<BboxResult> {
  const schema = `cim_bench_bbox_${suffix}`;
  const dataDir = mkdtempSync(join(tmpdir(), "cim-bench-pglite-"));
  const child = await spawnServer(
    database === "postgres"
      ? [DATABASE_URL, schema, "", `unused-${suffix}`]
      : ["", "public", "", `unused-${suffix}`, join(dataDir, "pglite")],
  );
  try {
    const t0 = performance.now();
    await registerDevices(child.url, 100_000, 0.5, `bb-${suffix}`);
    log(`bbox ${database}: registered 100,000 devices in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const times: number[] = [];
    let results = 0;
    const queries = 300;
    for (let i = 0; i < queries + 20; i++) {
      const b = bboxQuery(i);
      const q = `bbox=${b.w},${b.s},${b.e},${b.n}${b.type ? `&type=${b.type}` : ""}`;
      const t = performance.now();
      const res = await fetch(`${child.url}/api/devices?${q}`);
      const body = (await res.json()) as unknown[];
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`bbox query failed: ${res.status}`);
      if (i >= 20) {
        times.push(ms);
        results += body.length;
      }
    }
    times.sort((a, b) => a - b);
    const r: BboxResult = {
      database,
      devices: 100_000,
      queries,
      meanResults: results / queries,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
    };
    if (database === "postgres") {
      // The server's statement (DeviceStore.list), timed at the database client.
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      const sqlTimes: number[] = [];
      try {
        for (let i = 0; i < queries + 20; i++) {
          const b = bboxQuery(i);
          const t = performance.now();
          await c.query(
            `SELECT id, type, name, unit, lon, lat, height, layer_id, feature_id, department, sharing, created_at, last_seen
             FROM "${schema}".devices WHERE lon BETWEEN $1 AND $2 AND lat BETWEEN $3 AND $4
               AND ($5::text IS NULL OR type = $5) ORDER BY id LIMIT 10000`,
            [b.w, b.e, b.s, b.n, b.type ?? null],
          );
          if (i >= 20) sqlTimes.push(performance.now() - t);
        }
      } finally {
        await c.end();
      }
      sqlTimes.sort((a, b) => a - b);
      r.sqlP50 = percentile(sqlTimes, 50);
      r.sqlP95 = percentile(sqlTimes, 95);
    }
    log(
      `bbox ${database}: HTTP p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms${r.sqlP50 === undefined ? "" : `; SQL p50 ${r.sqlP50.toFixed(2)} ms, p95 ${r.sqlP95!.toFixed(2)} ms`}; ~${r.meanResults.toFixed(0)} devices per box`,
    );
    return r;
  } finally {
    await stopChild(child);
    if (database === "postgres") await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // Latencies on a shared machine mean little without how busy it was.
  const loadAtStart = loadavg()[0];
  const out: Record<string, unknown> = { date: new Date().toISOString(), cpus: cpus().length, loadAtStart };
  const verdicts: string[] = [];
  const verdict = (name: string, ok: boolean, detail: string) => {
    verdicts.push(`${ok ? "PASS" : "FAIL"}  ${name}: ${detail}`);
    return ok;
  };
  let allOk = true;
  if (ONLY.has("write")) {
    const w = await benchWrite();
    out.write = w;
    allOk =
      verdict(
        "write path vs binary COPY (goal >= 0.9)",
        w.ratio >= 0.9,
        `${w.oursBest.toFixed(0)} vs ${w.copyBest.toFixed(0)} rows/s, ratio ${w.ratio.toFixed(2)} (median of 3 rounds, ${ROWS} rows each, ${WRITERS} writer(s) vs one COPY)`,
      ) && allOk;
  }
  if (ONLY.has("latency")) {
    const lat = [];
    for (const b of (process.env.BENCH_TELEMETRY_BROKERS ?? "embedded,mosquitto").split(","))
      lat.push(...(await benchLatency(b as "embedded" | "mosquitto")));
    out.latency = lat;
    for (const r of lat) {
      const lost = r.sent - r.received;
      const line = `${r.broker} ${r.rate}/s: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, received ${r.received}/${r.sent}`;
      if (r.rate === 10_000) {
        allOk =
          verdict(
            `latency ${r.broker} at 10k/s (goal p99 < 50 ms, none missing)`,
            r.p99 < 50 && lost === 0,
            line,
          ) && allOk;
      } else verdicts.push(`info  latency ${line}`);
    }
  }
  if (ONLY.has("bbox")) {
    const results = [await benchBbox("postgres"), await benchBbox("pglite")];
    out.bbox = results;
    for (const b of results) {
      allOk =
        verdict(
          `bbox query on 100,000 devices, ${b.database} (goal p95 < 50 ms)`,
          b.p95 < 50,
          `HTTP p50 ${b.p50.toFixed(1)} ms, p95 ${b.p95.toFixed(1)} ms over ${b.queries} queries, ~${b.meanResults.toFixed(0)} devices each${b.sqlP50 === undefined ? "" : `; SQL alone p50 ${b.sqlP50.toFixed(2)} ms, p95 ${b.sqlP95!.toFixed(2)} ms`}`,
        ) && allOk;
    }
  }
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "telemetry-results.json"), `${JSON.stringify(out, null, 2)}\n`);
  out.loadAtEnd = loadavg()[0];
  process.stdout.write(
    `\nTelemetry benchmarks (${cpus().length} CPUs; 1-min load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end)\n${verdicts.join("\n")}\n`,
  );
  if (STRICT && !allOk) process.exit(1);
}

await main();
