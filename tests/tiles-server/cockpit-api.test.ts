import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlarmStats } from "../../models/alarms.ts";
import { type CitySummary, CitySummarySchema, type Replay, ReplaySchema } from "../../models/cockpit.ts";
import { localDay } from "../../tiles-server/cockpit/city-summary.ts";
import { drawnLength } from "../../tiles-server/pipes/network-store.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "./support/db-targets.ts";
import { jsonRequest, request } from "./support/http-client.ts";
import { sampleNetwork, writePipesLayerFolder } from "./support/pipe-fixtures.ts";

const TOKEN = "test-admin-token-cockpit-0123456789";
const HOUR = 3_600_000;

/** The sample network with one segment whose source recorded no length: its drawn length counts. */
function network() {
  const n = sampleNetwork();
  n.links[0] = { ...n.links[0], length: null };
  return n;
}

const DEVICES = [
  { id: "p-1", type: "pipe_pressure", name: "压力 1", lon: 118.3, lat: 33.95, department: "水务集团" },
  { id: "p-2", type: "pipe_pressure", name: "压力 2", lon: 118.301, lat: 33.95, department: "水务集团" },
  { id: "lv-1", type: "water_level", name: "液位 1", lon: 118.302, lat: 33.95, department: "住建局" },
  {
    id: "pm-1",
    type: "pm25",
    name: "PM2.5 1",
    lon: 118.303,
    lat: 33.95,
    department: "生态环境局",
    sharing: "unconditional",
  },
];

describe.each(DB_TARGETS)("cockpit API on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;
  const now = Date.now();

  const get = async <T>(path: string): Promise<T> => {
    const res = await request(server.url, path);
    expect(res.status, `${path}: ${res.body.toString()}`).toBe(200);
    return JSON.parse(res.body.toString()) as T;
  };
  const post = async (path: string, body: unknown) => {
    const res = await jsonRequest(server.url, path, "POST", body, TOKEN);
    expect(res.status, `${path}: ${res.body.toString()}`).toBeLessThan(300);
  };

  beforeAll(async () => {
    env = await target.create();
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
    await post("/api/devices", DEVICES);
    await post("/api/layers", {
      path: writePipesLayerFolder(env.tempDir, "mains", network()),
      id: "mains",
    });
    await post("/api/cameras", { id: "cam-1", name: "路口", lon: 118.3, lat: 33.951, status: "online" });
    await post("/api/cameras", { id: "cam-2", name: "泵站", lon: 118.301, lat: 33.951, status: "fault" });
    // Three of the four devices report; p-1's pressure is far below the red lower limit.
    await post("/api/telemetry", {
      readings: [
        { deviceId: "p-1", ts: now - 2 * HOUR, values: { pressure: 0.32 } },
        { deviceId: "p-1", ts: now - 2 * HOUR + 60_000, values: { pressure: 0.3 } },
        { deviceId: "p-1", ts: now - 1000, values: { pressure: 0.01 } },
        { deviceId: "p-2", ts: now - 1000, values: { pressure: 0.31 } },
        { deviceId: "lv-1", ts: now - 1000, values: { level: 0.05 } },
      ],
    });
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it("counts devices online by their offline rule, and today's alarms as the alarms API does", async () => {
    // lastSeen reaches the database within seconds; the red pressure alarm is raised on commit.
    let summary!: CitySummary;
    await expect
      .poll(
        async () => {
          summary = CitySummarySchema.parse(await get("/api/cockpit/summary"));
          return [summary.devices.online, summary.alarms.raised.byLevel.red];
        },
        { timeout: 20_000, interval: 500 },
      )
      .toEqual([3, 1]);
    expect(summary.devices).toMatchObject({
      total: 4,
      online: 3,
      onlineRate: 0.75,
      byType: {
        pipe_pressure: { total: 2, online: 2 },
        water_level: { total: 1, online: 1 },
        pm25: { total: 1, online: 0 },
      },
    });
    expect(summary.day).toBe(localDay(new Date(), "+08:00"));
    const dayStart = new Date(`${summary.day}T00:00:00+08:00`);
    const stats = await get<AlarmStats>(`/api/alarms/stats?since=${dayStart.getTime()}`);
    expect(summary.alarms).toEqual(stats);
    expect(summary.alarms.open.byStatus.raised).toBe(1);
    const hour = Math.floor((now - 1000 - dayStart.getTime()) / HOUR);
    expect(summary.alarmsByHour.red[hour]).toBe(1);
    expect(summary.alarmsByHour.red.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("reports cameras, pipe length by class and the catalog's layers", async () => {
    const summary = CitySummarySchema.parse(await get("/api/cockpit/summary"));
    expect(summary.cameras).toMatchObject({ total: 2, online: 1 });
    expect(summary.cameras.availability).toBeCloseTo(0.5, 2);
    const expected: Record<string, number> = {};
    for (const l of network().links)
      expected[l.pipeClass] = (expected[l.pipeClass] ?? 0) + (l.length ?? drawnLength(l.path));
    expect(drawnLength(network().links[0].path)).toBeGreaterThan(1);
    expect(Object.keys(summary.pipes.lengthByClass).sort()).toEqual(Object.keys(expected).sort());
    for (const [cls, len] of Object.entries(expected))
      expect(summary.pipes.lengthByClass[cls]).toBeCloseTo(len, 6);
    expect(summary.pipes.segments).toBe(sampleNetwork().links.length);
    expect(summary.layers).toMatchObject({ pipeLayers: 1, bimModels: 0, buildings: 0 });
  });

  it("narrows the device and alarm figures to a department's or the public's devices", async () => {
    // p-1's red alarm is the water company's; the public sees only pm-1, which is shared unconditionally.
    await expect
      .poll(async () => CitySummarySchema.parse(await get("/api/cockpit/summary")).alarms.raised.total, {
        timeout: 20_000,
        interval: 500,
      })
      .toBe(1);
    const water = CitySummarySchema.parse(
      await get(`/api/cockpit/summary?department=${encodeURIComponent("水务集团")}`),
    );
    expect(water.scope).toEqual({ department: "水务集团" });
    expect(water.devices).toMatchObject({
      total: 2,
      online: 2,
      byType: { pipe_pressure: { total: 2, online: 2 } },
    });
    expect(water.alarms.raised.byLevel.red).toBe(1);
    expect(water.alarms.open.total).toBe(1);

    const housing = CitySummarySchema.parse(
      await get(`/api/cockpit/summary?department=${encodeURIComponent("住建局")}`),
    );
    expect(housing.devices).toMatchObject({ total: 1, online: 1 });
    expect(housing.alarms.raised.total).toBe(0);
    expect(housing.alarms.open.total).toBe(0);
    expect(housing.alarmsByHour.red.reduce((a, b) => a + b, 0)).toBe(0);

    const pub = CitySummarySchema.parse(await get("/api/cockpit/summary?sharing=unconditional"));
    expect(pub.scope).toEqual({ sharing: "unconditional" });
    expect(pub.devices).toMatchObject({ total: 1, online: 0, byType: { pm25: { total: 1, online: 0 } } });
    expect(pub.alarms.raised.total).toBe(0);
    // The city's assets are the same for every audience.
    const all = CitySummarySchema.parse(await get("/api/cockpit/summary"));
    expect([pub.cameras.total, pub.cameras.online]).toEqual([all.cameras.total, all.cameras.online]);
    expect(pub.pipes).toEqual(all.pipes);

    const bad = await request(server.url, "/api/cockpit/summary?sharing=everyone");
    expect(bad.status).toBe(400);
  });

  it("replays each device's last value per bucket", async () => {
    const from = now - 3 * HOUR;
    const replay = ReplaySchema.parse(
      await get<Replay>(`/api/cockpit/replay?from=${from}&to=${now}&bucket=1h`),
    );
    expect(replay.buckets).toBe(3);
    // p-1 had two readings in the bucket two hours ago: the later one counts.
    expect(replay.series["p-1"].pressure).toEqual([
      [Math.floor((now - 2 * HOUR - from) / HOUR), 0.3],
      [2, 0.01],
    ]);
    expect(replay.series["lv-1"].level).toEqual([[2, 0.05]]);
    expect(replay.series["pm-1"]).toBeUndefined();
    const only = await get<Replay>(`/api/cockpit/replay?from=${from}&to=${now}&bucket=1h&devices=p-2`);
    expect(Object.keys(only.series)).toEqual(["p-2"]);
  });

  it("rejects bad windows and unknown parameters with a clear message", async () => {
    const bad = await request(server.url, `/api/cockpit/replay?from=${now}&to=${now - HOUR}`);
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toMatch(/from must be before to/);
    const bucket = await request(server.url, "/api/cockpit/replay?bucket=2m");
    expect(bucket.status).toBe(400);
    expect(bucket.body.toString()).toMatch(/bucket/);
    const extra = await request(server.url, "/api/cockpit/summary?city=suqian");
    expect(extra.status).toBe(400);
    const doc = await get<{ paths: Record<string, unknown> }>("/api/openapi.json");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/cockpit/summary", "/api/cockpit/replay"]),
    );
  });
});
