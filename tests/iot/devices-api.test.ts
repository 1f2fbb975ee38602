import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreatedDevice, DeviceSchema } from "../../models/devices.ts";
import type { LatestReading, ReadingBucketRow, ReadingRow, TelemetryStats } from "../../models/telemetry.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "../tiles-server/support/db-targets.ts";
import { jsonRequest, type RawResponse, request } from "../tiles-server/support/http-client.ts";
import { LiveClient, registerDevices } from "./support/iot-helpers.ts";

const TOKEN = "test-admin-token-iot-0123456789";
const HOUR = 3_600_000;

function json<T = unknown>(res: RawResponse): T {
  return JSON.parse(res.body.toString("utf8")) as T;
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A 20 × 25 grid of devices around Suqian, alternating types, every fifth on a pipes layer. */
function gridDevices(prefix: string) {
  const out = [];
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < 25; j++) {
      out.push({
        id: `${prefix}-${i}-${j}`,
        type: (i + j) % 2 === 0 ? ("pipe_pressure" as const) : ("gas_concentration" as const),
        name: `网格设备 ${i}/${j}`,
        lon: 118.2 + i * 0.01,
        lat: 33.9 + j * 0.004,
        layerId: j % 5 === 0 ? "city-pipes" : undefined,
        featureId: j % 5 === 0 ? `WS-${i}-${j}` : undefined,
      });
    }
  }
  return out;
}

describe.each(DB_TARGETS)("device registry, HTTP telemetry and readings history on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;
  let meter: CreatedDevice;
  let other: CreatedDevice;
  const now = Date.now();

  beforeAll(async () => {
    env = await target.create();
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it("documents the IoT endpoints in the OpenAPI document", async () => {
    const doc = json<{
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>(await request(server.url, "/api/openapi.json"));
    expect(Object.keys(doc.paths["/api/devices"])).toEqual(expect.arrayContaining(["get", "post"]));
    expect(doc.paths["/api/telemetry"]).toHaveProperty("post");
    expect(doc.paths["/api/telemetry/stats"]).toHaveProperty("get");
    expect(doc.paths["/api/sensors/{deviceId}/readings"]).toHaveProperty("get");
    expect(doc.paths["/api/sensors/latest"]).toHaveProperty("get");
    expect(doc.components.schemas).toHaveProperty("Device");
    expect(doc.components.schemas).toHaveProperty("TelemetryItem");
  });

  it("registers devices only with the admin token and names the invalid field", async () => {
    const device = {
      id: "meter-1",
      type: "flow",
      name: "泵站出水流量计",
      lon: 118.28,
      lat: 33.95,
      height: -1.5,
    };
    expect((await jsonRequest(server.url, "/api/devices", "POST", device)).status).toBe(401);
    expect((await jsonRequest(server.url, "/api/devices", "POST", device, `${TOKEN}x`)).status).toBe(401);

    const badType = await jsonRequest(
      server.url,
      "/api/devices",
      "POST",
      { ...device, type: "toaster" },
      TOKEN,
    );
    expect(badType.status).toBe(400);
    expect(json<{ error: string }>(badType).error).toMatch(/^invalid device: type:/);
    const badLon = await jsonRequest(server.url, "/api/devices", "POST", { ...device, lon: 200 }, TOKEN);
    expect(badLon.status).toBe(400);
    expect(json<{ error: string }>(badLon).error).toMatch(/lon/);
    const badId = await jsonRequest(server.url, "/api/devices", "POST", { ...device, id: "a/b#" }, TOKEN);
    expect(badId.status).toBe(400);
    expect(json<{ error: string }>(badId).error).toMatch(/id/);

    const created = await jsonRequest(server.url, "/api/devices", "POST", device, TOKEN);
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe("/api/devices/meter-1");
    meter = json<CreatedDevice>(created);
    expect(meter).toMatchObject({
      id: "meter-1",
      type: "flow",
      unit: "m³/h",
      height: -1.5,
      sharing: "conditional",
      lastSeen: null,
    });
    expect(meter.token.length).toBeGreaterThanOrEqual(16);

    const again = await jsonRequest(server.url, "/api/devices", "POST", device, TOKEN);
    expect(again.status).toBe(409);
    expect(json<{ error: string }>(again).error).toMatch(/meter-1/);

    const fetched = await request(server.url, "/api/devices/meter-1");
    expect(fetched.status).toBe(200);
    const parsed = DeviceSchema.parse(json(fetched));
    expect(parsed).not.toHaveProperty("token");
    expect(JSON.stringify(json(fetched))).not.toMatch(/token/);
    expect((await request(server.url, "/api/devices/nope")).status).toBe(404);

    [other] = await registerDevices(server.url, TOKEN, [
      {
        id: "smoke-7",
        type: "smoke",
        name: "7号楼烟感",
        lon: 118.3,
        lat: 33.96,
        sharing: "none",
        department: "应急管理局",
        token: "a-device-chosen-token-123",
      },
    ]);
    expect(other.token).toBe("a-device-chosen-token-123");
  });

  it("answers bbox, type and layer queries with exactly the devices inside", async () => {
    const grid = gridDevices("g");
    await registerDevices(server.url, TOKEN, grid);
    // A batch with one existing id is refused whole.
    const clash = await jsonRequest(
      server.url,
      "/api/devices",
      "POST",
      [{ ...grid[0], id: "fresh-1" }, grid[1]],
      TOKEN,
    );
    expect(clash.status).toBe(409);
    expect((await request(server.url, "/api/devices/fresh-1")).status).toBe(404);

    const bbox = [118.235, 33.91, 118.285, 33.95] as const;
    const res = await request(server.url, `/api/devices?bbox=${bbox.join(",")}&type=pipe_pressure`);
    expect(res.status).toBe(200);
    const got = json<{ id: string }[]>(res)
      .map((d) => d.id)
      .sort();
    const expected = grid
      .filter(
        (d) =>
          d.type === "pipe_pressure" &&
          d.lon >= bbox[0] &&
          d.lon <= bbox[2] &&
          d.lat >= bbox[1] &&
          d.lat <= bbox[3],
      )
      .map((d) => d.id)
      .sort();
    expect(expected.length).toBeGreaterThan(5);
    expect(got).toEqual(expected);

    const layer = json<{ featureId: string }[]>(await request(server.url, "/api/devices?layer=city-pipes"));
    expect(layer).toHaveLength(grid.filter((d) => d.layerId === "city-pipes").length);
    expect(layer[0].featureId).toMatch(/^WS-/);

    const page = json<unknown[]>(await request(server.url, "/api/devices?limit=7&offset=3"));
    expect(page).toHaveLength(7);

    for (const bad of [
      "bbox=1,2,3",
      "bbox=10,0,5,1",
      "bbox=a,b,c,d",
      "type=toaster",
      "limit=0",
      "colour=red",
    ]) {
      const r = await request(server.url, `/api/devices?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(json<{ error: string }>(r).error, bad).toMatch(/^invalid query/);
    }

    const types = json<{ types: { id: string; zh: string; en: string; unit: string }[] }>(
      await request(server.url, "/api/devices/types"),
    );
    expect(types.types.length).toBeGreaterThanOrEqual(14);
    expect(types.types.find((t) => t.id === "gas_concentration")).toMatchObject({ zh: "可燃气体浓度" });
  });

  it("takes HTTP telemetry with a device's own token or the admin token, all-or-nothing", async () => {
    const ts = now - 60_000;
    const own = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      { readings: [{ deviceId: "meter-1", ts, values: { flow: 12.5, totalizer: 1000 } }] },
      meter.token,
    );
    expect(own.status).toBe(200);
    expect(json(own)).toEqual({ accepted: 1, readings: 2 });

    const foreign = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      { readings: [{ deviceId: "smoke-7", ts, values: { smoke: 0.01 } }] },
      meter.token,
    );
    expect(foreign.status).toBe(403);
    expect((await jsonRequest(server.url, "/api/telemetry", "POST", { readings: [] })).status).toBe(401);
    expect(
      (
        await jsonRequest(
          server.url,
          "/api/telemetry",
          "POST",
          { readings: [{ deviceId: "meter-1" }] },
          "nope-nope",
        )
      ).status,
    ).toBe(401);

    const before = json<TelemetryStats>(await request(server.url, "/api/telemetry/stats"));
    const mixed = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      {
        readings: [
          { deviceId: "smoke-7", ts: new Date(ts).toISOString(), values: { smoke: 0.02 } },
          { deviceId: "smoke-7", ts: "yesterday", values: { smoke: 0.02 } },
          { deviceId: "smoke-7", ts, values: { smoke: "high" } },
          { deviceId: "ghost-1", ts, values: { smoke: 1 } },
        ],
      },
      TOKEN,
    );
    expect(mixed.status).toBe(400);
    const body = json<{ error: string; details: { index: number; reason: string }[] }>(mixed);
    expect(body.error).toMatch(/nothing stored/);
    expect(body.details.map((d) => [d.index, d.reason])).toEqual([
      [1, "invalid_payload"],
      [2, "invalid_payload"],
    ]);
    const unknown = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      { readings: [{ deviceId: "ghost-1", ts, values: { smoke: 1 } }] },
      TOKEN,
    );
    expect(unknown.status).toBe(400);
    expect(json<{ details: { reason: string }[] }>(unknown).details[0].reason).toBe("unknown_device");
    const notJson = await request(server.url, "/api/telemetry", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: '{"readings": [',
    });
    expect(notJson.status).toBe(400);
    expect(json<{ error: string }>(notJson).error).toMatch(/not valid JSON/);

    const after = json<TelemetryStats>(await request(server.url, "/api/telemetry/stats"));
    expect(after.rejected.invalid_payload - before.rejected.invalid_payload).toBe(2);
    expect(after.rejected.unknown_device - before.rejected.unknown_device).toBe(1);
    expect(after.rejected.bad_json - before.rejected.bad_json).toBe(1);
    const stored = json<ReadingRow[]>(
      await request(server.url, `/api/sensors/smoke-7/readings?from=${now - HOUR}`),
    );
    expect(stored).toEqual([]);

    // Resending the same batch is harmless: the readings are stored once.
    const resend = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      { readings: [{ deviceId: "meter-1", ts, values: { flow: 12.5, totalizer: 1000 } }] },
      TOKEN,
    );
    expect(resend.status).toBe(200);
    const rows = json<ReadingRow[]>(
      await request(server.url, `/api/sensors/meter-1/readings?from=${now - HOUR}`),
    );
    expect(rows).toEqual([
      { ts: new Date(ts).toISOString(), quantity: "flow", value: 12.5 },
      { ts: new Date(ts).toISOString(), quantity: "totalizer", value: 1000 },
    ]);
  });

  it("returns history raw, per 1m/1h/1d bucket (computed in SQL) and as CSV", async () => {
    // Three hours of a reading every 20 s plus a second quantity every minute, sent as a batch.
    const random = rng(42);
    const start = Math.floor((now - 5 * HOUR) / HOUR) * HOUR + 17_000;
    const sent: { ts: number; quantity: string; value: number }[] = [];
    const items = [];
    for (let t = start; t < start + 3 * HOUR; t += 20_000) {
      const values: Record<string, number> = { pressure: Math.round(random() * 1e6) / 1e6 };
      if ((t - start) % 60_000 === 0) values.temperature = Math.round((10 + random() * 20) * 100) / 100;
      items.push({ deviceId: "meter-1", ts: t, values });
      for (const [quantity, value] of Object.entries(values)) sent.push({ ts: t, quantity, value });
    }
    const post = await jsonRequest(server.url, "/api/telemetry", "POST", { readings: items }, TOKEN);
    expect(post.status).toBe(200);

    const from = start;
    const to = start + 3 * HOUR;
    const raw = json<ReadingRow[]>(
      await request(
        server.url,
        `/api/sensors/meter-1/readings?from=${from}&to=${new Date(to).toISOString()}`,
      ),
    );
    const expectedRaw = sent
      .sort((a, b) => a.ts - b.ts || a.quantity.localeCompare(b.quantity))
      .map((r) => ({ ts: new Date(r.ts).toISOString(), quantity: r.quantity, value: r.value }));
    expect(raw).toEqual(expectedRaw);

    for (const [bucket, width] of [
      ["1m", 60_000],
      ["1h", HOUR],
      ["1d", 24 * HOUR],
    ] as const) {
      const got = json<ReadingBucketRow[]>(
        await request(server.url, `/api/sensors/meter-1/readings?from=${from}&to=${to}&bucket=${bucket}`),
      );
      const groups = new Map<string, number[]>();
      for (const r of sent) {
        const key = `${Math.floor(r.ts / width) * width}|${r.quantity}`;
        groups.set(key, [...(groups.get(key) ?? []), r.value]);
      }
      const expected = [...groups]
        .map(([key, values]) => {
          const [b, quantity] = key.split("|");
          return {
            bucket: new Date(Number(b)).toISOString(),
            quantity,
            count: values.length,
            min: Math.min(...values),
            max: Math.max(...values),
            avg: values.reduce((a, v) => a + v, 0) / values.length,
          };
        })
        .sort((a, b) => a.bucket.localeCompare(b.bucket) || a.quantity.localeCompare(b.quantity));
      expect(got.length, bucket).toBe(expected.length);
      got.forEach((g, i) => {
        expect({ ...g, avg: 0 }, bucket).toEqual({ ...expected[i], avg: 0 });
        expect(g.avg).toBeCloseTo(expected[i].avg, 9);
      });
    }

    const csv = await request(server.url, `/api/sensors/meter-1/readings?from=${from}&to=${to}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.headers["content-disposition"]).toMatch(/attachment; filename="meter-1-readings.csv"/);
    const lines = csv.body.toString("utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("device_id,ts,quantity,value");
    const parsedCsv = lines.slice(1).map((line) => {
      const [deviceId, ts, quantity, value] = line.split(",");
      expect(deviceId).toBe("meter-1");
      return { ts, quantity, value: Number(value) };
    });
    expect(parsedCsv).toEqual(expectedRaw);
    const csvBuckets = await request(
      server.url,
      `/api/sensors/meter-1/readings?from=${from}&to=${to}&bucket=1h&format=csv`,
    );
    const bucketLines = csvBuckets.body.toString("utf8").trimEnd().split("\n");
    expect(bucketLines[0]).toBe("device_id,bucket,quantity,count,min,max,avg");
    expect(bucketLines).toHaveLength(1 + 3 * 2);

    const filtered = json<ReadingRow[]>(
      await request(server.url, `/api/sensors/meter-1/readings?from=${from}&to=${to}&quantity=temperature`),
    );
    expect(filtered).toHaveLength(sent.filter((r) => r.quantity === "temperature").length);

    const tooMany = await request(server.url, `/api/sensors/meter-1/readings?from=${from}&to=${to}&limit=10`);
    expect(tooMany.status).toBe(400);
    expect(json<{ error: string }>(tooMany).error).toMatch(/more than 10 readings.*bucket=/);
    for (const bad of [
      `from=${to}&to=${from}`,
      "from=yesterday",
      "bucket=5m",
      "format=xml",
      `from=0&to=${now}&bucket=1m`,
      "quantity=a,b;c",
    ]) {
      const r = await request(server.url, `/api/sensors/meter-1/readings?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(json<{ error: string }>(r).error, bad).toMatch(/^invalid query/);
    }
    expect((await request(server.url, "/api/sensors/ghost-1/readings")).status).toBe(404);
  });

  it("answers each device's last reading per quantity: the newest wins, ids and paging narrow it", async () => {
    const t = now - 30 * 60_000;
    const post = (ts: number, smoke: number) =>
      jsonRequest(
        server.url,
        "/api/telemetry",
        "POST",
        { readings: [{ deviceId: "smoke-7", ts, values: { smoke } }] },
        TOKEN,
      );
    expect((await post(t + 60_000, 0.05)).status).toBe(200);
    // An older reading that arrives later (a gateway's backlog) must not become the label's value.
    expect((await post(t, 0.9)).status).toBe(200);
    const latest = async (q: string) =>
      json<LatestReading[]>(await request(server.url, `/api/sensors/latest${q}`));
    const expected = [
      { deviceId: "smoke-7", quantity: "smoke", ts: new Date(t + 60_000).toISOString(), value: 0.05 },
    ];
    // Written by the alarm engine after the batch is committed: give it a moment.
    let smoke = await latest("?devices=smoke-7");
    for (let i = 0; i < 50 && JSON.stringify(smoke) !== JSON.stringify(expected); i++) {
      await new Promise((r) => setTimeout(r, 100));
      smoke = await latest("?devices=smoke-7");
    }
    expect(smoke).toEqual(expected);

    // meter-1 against its own history: the newest stored reading of each quantity.
    const history = json<ReadingRow[]>(
      await request(server.url, `/api/sensors/meter-1/readings?from=${now - 6 * HOUR}&to=${now + HOUR}`),
    );
    const newest = new Map<string, ReadingRow>();
    for (const r of history)
      if (!newest.has(r.quantity) || newest.get(r.quantity)!.ts < r.ts) newest.set(r.quantity, r);
    expect(newest.size).toBeGreaterThanOrEqual(4);
    const all = await latest("");
    expect(all.filter((r) => r.deviceId === "meter-1")).toEqual(
      [...newest.values()]
        .sort((a, b) => (a.quantity < b.quantity ? -1 : 1))
        .map((r) => ({ deviceId: "meter-1", quantity: r.quantity, ts: r.ts, value: r.value })),
    );
    expect(all.filter((r) => r.deviceId === "smoke-7")).toEqual(expected);
    expect(await latest("?limit=2&offset=1")).toEqual(all.slice(1, 3));
    expect(await latest("?devices=ghost-1")).toEqual([]);
    for (const bad of ["devices=", "limit=0", "offset=-1", "colour=red", `devices=${"x,".repeat(1000)}x`]) {
      const r = await request(server.url, `/api/sensors/latest?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(json<{ error: string }>(r).error).toMatch(/invalid query/);
    }
  });

  it("rejects readings older than the retention and drops expired partitions", async () => {
    const old = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      { readings: [{ deviceId: "meter-1", ts: now - 400 * 24 * HOUR, values: { flow: 1 } }] },
      TOKEN,
    );
    expect(old.status).toBe(400);
    expect(json<{ details: { reason: string }[] }>(old).details[0].reason).toBe("ts_out_of_range");
    const future = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      { readings: [{ deviceId: "meter-1", ts: now + 3 * 24 * HOUR, values: { flow: 1 } }] },
      TOKEN,
    );
    expect(future.status).toBe(400);

    const tenDaysAgo = now - 10 * 24 * HOUR;
    const ok = await jsonRequest(
      server.url,
      "/api/telemetry",
      "POST",
      { readings: [{ deviceId: "meter-1", ts: tenDaysAgo, values: { flow: 7 } }] },
      TOKEN,
    );
    expect(ok.status).toBe(200);
    const days = await server.iot.readings.listPartitions();
    expect(days).toContain(Math.floor(tenDaysAgo / (24 * HOUR)));
    const dropped = await server.iot.readings.dropExpired(5);
    expect(dropped).toEqual([
      `readings_${new Date(tenDaysAgo).toISOString().slice(0, 10).replaceAll("-", "")}`,
    ]);
    const after = json<ReadingRow[]>(
      await request(
        server.url,
        `/api/sensors/meter-1/readings?from=${tenDaysAgo - HOUR}&to=${tenDaysAgo + HOUR}`,
      ),
    );
    expect(after).toEqual([]);
  });

  it("pushes live readings on /ws only to the clients whose device, bbox or layer subscription matches", async () => {
    const byDevice = await LiveClient.connect(server.url);
    const byBbox = await LiveClient.connect(server.url);
    const byLayer = await LiveClient.connect(server.url);
    const idle = await LiveClient.connect(server.url);
    try {
      await byDevice.subscribe({ devices: ["smoke-7"] });
      await byBbox.subscribe({ bbox: [118.195, 33.895, 118.215, 33.905] });
      await byLayer.subscribe({ layer: "city-pipes" });
      byDevice.ws.send("not json");
      byDevice.ws.send(JSON.stringify({ subscribe: { bbox: [5, 5, 1, 1] } }));
      await byDevice.waitFor(() => byDevice.messages.filter((m) => m.type === "error").length === 2, 5000);

      const ts = now - 30_000;
      const post = await jsonRequest(
        server.url,
        "/api/telemetry",
        "POST",
        {
          readings: [
            { deviceId: "smoke-7", ts, values: { smoke: 0.05 } },
            { deviceId: "g-0-0", ts, values: { pressure: 0.31 } }, // in the bbox and on the layer
            { deviceId: "g-1-1", ts, values: { concentration: 3 } }, // in the bbox only
            { deviceId: "g-5-5", ts, values: { pressure: 0.29 } }, // on the layer only
            { deviceId: "g-9-9", ts, values: { concentration: 1 } }, // nobody
          ],
        },
        TOKEN,
      );
      expect(post.status).toBe(200);
      await byLayer.waitFor(() => byLayer.readings.length >= 2, 5000);
      await byBbox.waitFor(() => byBbox.readings.length >= 2, 5000);
      await byDevice.waitFor(() => byDevice.readings.length >= 1, 5000);
      const ids = (c: LiveClient) => c.readings.map((r) => r.deviceId).sort();
      expect(ids(byDevice)).toEqual(["smoke-7"]);
      expect(ids(byBbox)).toEqual(["g-0-0", "g-1-1"]);
      expect(ids(byLayer)).toEqual(["g-0-0", "g-5-5"]);
      expect(byBbox.readings.find((r) => r.deviceId === "g-1-1")).toEqual({
        deviceId: "g-1-1",
        ts,
        quantity: "concentration",
        value: 3,
      });
      expect(idle.messages).toEqual([]);

      const n = server.iot.hub.broadcast(
        "alarm",
        { deviceId: "g-5-5", level: "red" },
        server.iot.hub.forDevice("g-5-5"),
      );
      expect(n).toBe(1);
      await byLayer.waitFor(() => byLayer.messages.some((m) => m.type === "alarm"), 5000);
      expect(byLayer.messages.find((m) => m.type === "alarm")).toEqual({
        type: "alarm",
        deviceId: "g-5-5",
        level: "red",
      });
    } finally {
      for (const c of [byDevice, byBbox, byLayer, idle]) c.close();
    }
  });
});
