import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CAMERA_VIDEO_URL, type RunningDemo, startDemo } from "../../cli/demo.ts";
import { DEMO_BIM_NAME } from "../../ingest/synthetic/demo-bim.ts";
import { DEMO_CITY_VERSION } from "../../ingest/synthetic/demo-city.ts";
import {
  type DemoAssets,
  planDemoDevices,
  readDemoDeviceInputs,
} from "../../ingest/synthetic/demo-devices.ts";
import type { Alarm, AlarmRule } from "../../models/alarms.ts";
import type { Camera, NearCamera } from "../../models/cameras.ts";
import { DEVICE_TYPE_IDS, type Device } from "../../models/devices.ts";
import type { NetworkIndex } from "../../models/pipes.ts";
import type { ReadingRow } from "../../models/telemetry.ts";
import { provisionFleet } from "../../simulator/provision.ts";
import { type RunningSimulator, startSimulator } from "../../simulator/simulator.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { checkTileset } from "../support/tileset-checks.ts";
import { dropSchema, REAL_PG_URL, uniqueSchemaName } from "../tiles-server/support/db-targets.ts";
import { dropMqttSessions, MOSQUITTO_URL, pgQuery, uniqueSuffix } from "./support/iot-helpers.ts";

const TOKEN = "test-admin-token-simulator-0123456789";
const PROJECT_ROOT = join(import.meta.dirname, "..", "..");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(baseUrl: string, path: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

async function readings(baseUrl: string, id: string, fromMs: number): Promise<ReadingRow[]> {
  return getJson<ReadingRow[]>(baseUrl, `/api/sensors/${encodeURIComponent(id)}/readings?from=${fromMs}`);
}

/** Device ids that have no reading since `fromMs` yet. */
async function silentDevices(baseUrl: string, ids: string[], fromMs: number): Promise<string[]> {
  const silent: string[] = [];
  for (const id of ids) if ((await readings(baseUrl, id, fromMs)).length === 0) silent.push(id);
  return silent;
}

let dataDir: string;
let versionDir: string;
let demo: RunningDemo | undefined;
let demoStartedAt: number;
/** The plan computed from the generated demo data, as startDemo registers it. */
let plan: DemoAssets;

beforeAll(async () => {
  process.env.CIM_ADMIN_TOKEN = TOKEN;
  delete process.env.DATABASE_URL;
  delete process.env.MQTT_URL;
  dataDir = await mkdtemp(join(tmpdir(), "cim-simulator-"));
  versionDir = join(dataDir, "demo", `v${DEMO_CITY_VERSION}`);
  demoStartedAt = Date.now();
  demo = await startDemo({
    port: 0,
    dataDir,
    logger: false,
    simulate: true,
    simulator: { intervalMs: 500, leakEveryMs: 0 },
  });
  const inputs = await readDemoDeviceInputs({
    network: join(versionDir, "tiles", "pipes", "network.json"),
    buildings: join(versionDir, "buildings.geojson"),
    roads: join(versionDir, "roads.geojson"),
    bimElements: join(versionDir, "tiles", "bim", "elements.json"),
  });
  plan = planDemoDevices(
    inputs,
    { buildings: "demo-buildings", bim: "demo-bim", pipes: "demo-pipes" },
    DEMO_CAMERA_VIDEO_URL,
    DEMO_BIM_NAME,
  );
});

afterAll(async () => {
  await demo?.close();
  delete process.env.CIM_ADMIN_TOKEN;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("the demo's devices and cameras", () => {
  it("registers 40-80 devices of every type, each linked feature existing in the demo's tiles", async () => {
    const devices = await getJson<Device[]>(demo!.url, "/api/devices");
    expect(devices.length).toBeGreaterThanOrEqual(40);
    expect(devices.length).toBeLessThanOrEqual(80);
    expect(new Set(devices.map((d) => d.type))).toEqual(new Set(DEVICE_TYPE_IDS));
    expect(devices.map((d) => d.id).sort()).toEqual(plan.devices.map((d) => d.id).sort());

    // What the viewer can pick: the `id` property of pipe and building features, the GlobalId of BIM elements.
    const featureIds = new Map<string, Set<string>>();
    for (const [layer, folder, key] of [
      ["demo-pipes", "pipes", "id"],
      ["demo-buildings", "buildings", "id"],
      ["demo-bim", "bim", "GlobalId"],
    ] as const) {
      const report = await checkTileset(join(versionDir, "tiles", folder, "tileset.json"));
      featureIds.set(layer, new Set(report.features.map((f) => String(f.properties[key]))));
    }
    const linked = devices.filter((d) => d.featureId !== null);
    expect(linked.length).toBeGreaterThanOrEqual(50);
    const dangling = linked.filter((d) => !featureIds.get(d.layerId!)?.has(d.featureId!));
    expect(dangling.map((d) => `${d.id} -> ${d.layerId}/${d.featureId}`)).toEqual([]);
    // Unlinked ones are the street-pole sensors.
    for (const d of devices.filter((x) => x.featureId === null)) {
      expect(["pm25", "pm10", "noise", "crowd_count"]).toContain(d.type);
    }
  });

  it("puts underground devices at their pipe's or well's height and building devices inside the building", async () => {
    const devices = await getJson<Device[]>(demo!.url, "/api/devices");
    const network = JSON.parse(
      await readFile(join(versionDir, "tiles", "pipes", "network.json"), "utf8"),
    ) as NetworkIndex;
    const links = new Map(network.links.map((l) => [l.id, l]));
    const nodes = new Map(network.nodes.map((n) => [n.id, n]));
    for (const d of devices.filter((x) => x.layerId === "demo-pipes")) {
      const link = links.get(d.featureId!);
      const node = nodes.get(d.featureId!);
      if (link) {
        const zs = link.path.map((p) => p[2]);
        expect(d.height, d.id).toBeGreaterThanOrEqual(Math.min(...zs) - 0.05);
        expect(d.height, d.id).toBeLessThanOrEqual(Math.max(...zs) + 0.05);
        expect(d.height, d.id).toBeLessThan(0);
      } else {
        expect(node, d.id).toBeDefined();
        expect(d.height, d.id).toBeGreaterThanOrEqual(node!.invertElevation!);
        expect(d.height, d.id).toBeLessThan(node!.groundElevation!);
        expect(Math.abs(d.lon - node!.lon) + Math.abs(d.lat - node!.lat)).toBeLessThan(1e-6);
      }
    }
    const buildings = JSON.parse(await readFile(join(versionDir, "buildings.geojson"), "utf8")) as {
      features: {
        properties: { id: string; height: number };
        geometry: { coordinates: [number, number][][] };
      }[];
    };
    const byId = new Map(buildings.features.map((f) => [f.properties.id, f]));
    const inside = (ring: [number, number][], x: number, y: number) => {
      let c = false;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
      }
      return c;
    };
    const inBuildings = devices.filter((x) => x.layerId === "demo-buildings");
    expect(inBuildings.length).toBeGreaterThanOrEqual(12);
    for (const d of inBuildings) {
      const b = byId.get(d.featureId!)!;
      expect(inside(b.geometry.coordinates[0], d.lon, d.lat), d.id).toBe(true);
      expect(d.height).toBeGreaterThan(0);
      expect(d.height).toBeLessThan(b.properties.height);
    }
    const bim = JSON.parse(await readFile(join(versionDir, "tiles", "bim", "elements.json"), "utf8")) as {
      elements: { globalId: string; bbox: number[] }[];
    };
    const inBim = devices.filter((x) => x.layerId === "demo-bim");
    expect(inBim.length).toBeGreaterThanOrEqual(2);
    for (const d of inBim) {
      const [w, s, e, n, bottom, top] = bim.elements.find((x) => x.globalId === d.featureId)!.bbox;
      expect([
        d.lon >= w && d.lon <= e,
        d.lat >= s && d.lat <= n,
        d.height > bottom && d.height < top,
      ]).toEqual([true, true, true]);
    }
  });

  it("has online cameras on poles whose views hold several devices, and every burst site in some camera's view", async () => {
    const cameras = await getJson<Camera[]>(demo!.url, "/api/cameras");
    expect(cameras.length).toBeGreaterThanOrEqual(4);
    expect(cameras.length).toBeLessThanOrEqual(6);
    for (const c of cameras) {
      expect(c).toMatchObject({ status: "online", streamUrl: DEMO_CAMERA_VIDEO_URL, streamKind: "hls" });
      expect(c.height).toBeGreaterThanOrEqual(8);
      expect(c.height).toBeLessThanOrEqual(12);
      expect(c.pitch).toBeLessThan(-15);
      expect(c.hfov).toBeGreaterThanOrEqual(60);
      expect(c.hfov).toBeLessThanOrEqual(70);
    }
    const stream = await fetch(`${demo!.url}${DEMO_CAMERA_VIDEO_URL}`);
    expect(stream.status).toBe(200);
    expect(await stream.text()).toContain("#EXTM3U");

    const devices = await getJson<Device[]>(demo!.url, "/api/devices");
    const seenBy = new Map<string, string[]>();
    for (const d of devices) {
      const near = await getJson<NearCamera[]>(
        demo!.url,
        `/api/cameras/near?lon=${d.lon}&lat=${d.lat}&height=${d.height}&radius=300`,
      );
      seenBy.set(
        d.id,
        near.filter((c) => c.sees).map((c) => c.id),
      );
    }
    for (const c of cameras) {
      const sees = devices.filter((d) => seenBy.get(d.id)!.includes(c.id));
      expect(sees.length, `${c.id} sees ${sees.map((d) => d.id).join(", ")}`).toBeGreaterThanOrEqual(3);
      expect(
        sees.some((d) => d.type === "pipe_pressure"),
        c.id,
      ).toBe(true);
    }
    for (const gauge of devices.filter((d) => d.type === "pipe_pressure")) {
      expect(seenBy.get(gauge.id)!.length, gauge.id).toBeGreaterThanOrEqual(1);
    }
  });

  it("gives sewer level gauges their own limits from the well's depth", async () => {
    const rules = await getJson<AlarmRule[]>(demo!.url, "/api/alarm-rules?scope=device");
    const gauges = plan.devices.filter((d) => d.type === "water_level");
    expect(rules.map((r) => r.target).sort()).toEqual(gauges.map((d) => d.id).sort());
    for (const r of rules) {
      expect(r).toMatchObject({ kind: "upper", quantity: "level", enabled: true });
      expect(r.limits.yellow).toBeGreaterThanOrEqual(0.4); // the smallest sewer is DN400
      expect(r.limits.red).toBeGreaterThan(r.limits.orange!);
    }
  });

  it("runs the simulator in the demo: readings of every device are stored and normal operation raises no alarm", async () => {
    const ids = plan.devices.map((d) => d.id);
    await waitFor(
      "a reading of every demo device",
      async () => ((await silentDevices(demo!.url, ids, demoStartedAt)).length === 0 ? true : undefined),
      90_000,
    );
    // A few more rounds, then nothing may have breached a limit.
    const rounds = demo!.simulator!.stats().ticks;
    await waitFor(
      "three more rounds",
      async () => (demo!.simulator!.stats().ticks >= rounds + 3 ? true : undefined),
      30_000,
    );
    const alarms = await getJson<{ items: Alarm[]; total: number }>(demo!.url, "/api/alarms");
    expect(alarms.items.map((a) => `${a.deviceId} ${a.kind} ${a.quantity}=${a.value}`)).toEqual([]);
    const pressure = await readings(demo!.url, "PRS-01", demoStartedAt);
    expect(pressure.every((r) => r.quantity === "pressure" && r.value > 0.2 && r.value < 0.4)).toBe(true);
  });

  it("keeps devices, cameras and rules as they are on a restart (registration is idempotent)", async () => {
    const before = {
      devices: (await getJson<Device[]>(demo!.url, "/api/devices")).length,
      cameras: (await getJson<Camera[]>(demo!.url, "/api/cameras")).length,
      rules: (await getJson<AlarmRule[]>(demo!.url, "/api/alarm-rules?scope=device")).length,
    };
    await demo!.close();
    demo = undefined;
    demo = await startDemo({ port: 0, dataDir, logger: false, simulate: false });
    expect(demo.simulator).toBeUndefined();
    expect({
      devices: (await getJson<Device[]>(demo.url, "/api/devices")).length,
      cameras: (await getJson<Camera[]>(demo.url, "/api/cameras")).length,
      rules: (await getJson<AlarmRule[]>(demo.url, "/api/alarm-rules?scope=device")).length,
    }).toEqual(before);
  });
});

describe("the simulator against a server with its embedded broker", () => {
  let server: RunningServer;
  let sim: RunningSimulator | undefined;
  let dbDir: string;
  let startedAt: number;

  beforeAll(async () => {
    dbDir = await mkdtemp(join(tmpdir(), "cim-simulator-db-"));
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: dbDir,
      adminToken: TOKEN,
      logger: false,
    });
    await provisionFleet(server.url, TOKEN, plan);
    startedAt = Date.now();
    sim = await startSimulator({
      serverUrl: server.url,
      mqttUrl: server.mqttUrl,
      intervalMs: 300,
      leakEveryMs: 0,
    });
  });

  afterAll(async () => {
    await sim?.stop();
    await server?.close();
    await rm(dbDir, { recursive: true, force: true });
  });

  it("stores readings of every registered device", async () => {
    expect(sim!.deviceCount()).toBe(plan.devices.length);
    await waitFor(
      "a reading of every device",
      async () =>
        (
          await silentDevices(
            server.url,
            plan.devices.map((d) => d.id),
            startedAt,
          )
        ).length === 0
          ? true
          : undefined,
      60_000,
    );
    expect(sim!.stats().failed).toBe(0);
  });

  it("bursts a water main on demand: a red low-pressure alarm at the gauge, more flow at the meter, then recovery", async () => {
    const gauge = "PRS-03";
    const meter = "FLW-03"; // 50 m along the same main
    const before = await readings(server.url, meter, startedAt);
    const normalFlow = Math.max(...before.map((r) => r.value));
    const scenario = sim!.startLeak(gauge, 4000);
    expect(scenario.deviceId).toBe(gauge);

    const alarm = await waitFor(
      "a low-pressure alarm at the burst",
      async () => {
        const list = await getJson<{ items: Alarm[] }>(server.url, `/api/alarms?device=${gauge}&kind=lower`);
        return list.items.find((a) => a.quantity === "pressure" && a.peakLevel === "red");
      },
      30_000,
    );
    expect(alarm.value).toBeLessThanOrEqual(0.05);
    expect(alarm.status).toBe("raised");

    const leakFlow = await waitFor(
      "the meter to read the leak's flow",
      async () => {
        const during = await readings(server.url, meter, scenario.startMs);
        const top = Math.max(...during.map((r) => r.value));
        return top > normalFlow * 1.5 ? top : undefined;
      },
      20_000,
    );
    expect(leakFlow).toBeLessThan(normalFlow * 3);

    // The main is isolated and refilled: the condition clears, the alarm stays open for the operators.
    const cleared = await waitFor(
      "the low-pressure condition to clear",
      async () => {
        const a = await getJson<Alarm>(server.url, `/api/alarms/${alarm.id}`);
        return a.active ? undefined : a;
      },
      30_000,
    );
    expect(cleared).toMatchObject({ status: "raised", active: false, peakLevel: "red" });
    await waitFor(
      "the burst to be over",
      async () => (sim!.activeLeaks().length === 0 ? true : undefined),
      15_000,
    );
    // Gauges far from the burst kept their normal pressure.
    const farAway = await getJson<{ items: Alarm[] }>(server.url, "/api/alarms?device=PRS-06&kind=lower");
    expect(farAway.items).toEqual([]);
  });
});

describe("`cim simulate` against Mosquitto (MQTT_URL) and PostgreSQL", () => {
  const schema = uniqueSchemaName();
  const serverClientId = `cim-test-sim-${uniqueSuffix()}`;
  let server: RunningServer;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    server = await startServer({
      databaseUrl: REAL_PG_URL,
      dbSchema: schema,
      dataDir: "/nonexistent-unused",
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
      mqttUrl: MOSQUITTO_URL,
      mqttClientId: serverClientId,
    });
    await provisionFleet(server.url, TOKEN, plan);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await server?.close();
    await dropMqttSessions(MOSQUITTO_URL, serverClientId);
    await dropSchema(schema);
  });

  it("publishes readings of every device through the broker into the database, and stops cleanly", async () => {
    const startedAt = new Date();
    let stdout = "";
    const proc = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, "bin", "cim.js"),
        "simulate",
        "--server",
        server.url,
        "--interval",
        "0.5",
        "--leak-every",
        "0",
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, MQTT_URL: MOSQUITTO_URL } },
    );
    child = proc;
    proc.stdout?.on("data", (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));

    const counts = await waitFor(
      "two readings of every device in PostgreSQL",
      async () => {
        const rows = await pgQuery<{ device_id: string; n: number }>(
          `SELECT device_id, count(DISTINCT ts)::int AS n FROM "${schema}".readings WHERE ts >= $1 GROUP BY device_id`,
          [startedAt],
        );
        const byDevice = new Map(rows.map((r) => [r.device_id, r.n]));
        return plan.devices.every((d) => (byDevice.get(d.id) ?? 0) >= 2) ? byDevice : undefined;
      },
      90_000,
    );
    expect(counts.size).toBe(plan.devices.length);
    expect(stdout).toContain(`simulator: ${plan.devices.length} devices from ${server.url}`);
    expect(stdout).toContain(MOSQUITTO_URL);

    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
