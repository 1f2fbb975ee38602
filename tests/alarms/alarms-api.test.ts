import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Alarm,
  type AlarmRule,
  AlarmSchema,
  type AlarmStats,
  AlarmStatsSchema,
  type AlarmTimelineEntry,
  type AlarmWithHistory,
  AlarmWithHistorySchema,
} from "../../models/alarms.ts";
import { AlarmEngine } from "../../tiles-server/alarms/engine.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "../tiles-server/support/db-targets.ts";
import { jsonRequest, request } from "../tiles-server/support/http-client.ts";
import { insertDevices, json, openTestDatabase, TOKEN } from "./support.ts";

const MIN = 60_000;

describe.each(DB_TARGETS)("alarms API on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;
  const now = Date.now();
  const ids: Record<string, number> = {};

  const get = async <T>(path: string) => {
    const res = await request(server.url, path);
    expect(res.status, `${path}: ${res.body.toString()}`).toBe(200);
    return json<T>(res);
  };
  /** token null: no Authorization header. */
  const post = (path: string, body: unknown, token: string | null = TOKEN) =>
    jsonRequest(server.url, path, "POST", body, token ?? undefined);
  const historyCount = async (id: number) =>
    (await get<AlarmWithHistory>(`/api/alarms/${id}`)).history.length;

  beforeAll(async () => {
    env = await target.create();
    // The rule engine raises the alarms in-process (as the telemetry path will), then the server
    // serves the same database.
    const db = await openTestDatabase(env);
    try {
      await insertDevices(db, [
        { id: "gas-a", type: "gas_concentration", lon: 118.3, lat: 33.95 },
        { id: "gas-b", type: "gas_concentration", lon: 118.31, lat: 33.96 },
        { id: "gas-c", type: "gas_concentration", lon: 118.32, lat: 33.97 },
        { id: "gas-d", type: "gas_concentration", lon: 118.33, lat: 33.98 },
        { id: "smoke-a", type: "smoke", lon: 118.5, lat: 34.1 },
        { id: "press-a", type: "pipe_pressure", lon: 118.51, lat: 34.11 },
      ]);
      const engine = new AlarmEngine(db);
      const r = (deviceId: string, quantity: string, value: number, ts: number) => ({
        deviceId,
        quantity,
        value,
        ts,
      });
      const events = await engine.evaluate([
        r("gas-c", "concentration", 30, now - 3 * 24 * 60 * MIN), // orange, three days ago
        r("gas-a", "concentration", 60, now - 30 * MIN), // red
        r("gas-b", "concentration", 12, now - 20 * MIN), // yellow
        r("smoke-a", "smoke", 0.25, now - 10 * MIN), // orange
        r("press-a", "pressure", 0.3, now - 9 * MIN),
        r("press-a", "pressure", 0.03, now - 8 * MIN), // lower red, and a 0.27 MPa/min drop: rate red
        r("gas-d", "concentration", 30, now - 40 * MIN), // orange, then back to normal
        r("gas-d", "concentration", 3, now - 35 * MIN),
      ]);
      for (const e of events) ids[`${e.alarm.deviceId}:${e.alarm.kind}`] = e.alarm.id;
    } finally {
      await db.close();
    }
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

  it("lists alarms newest first with filters", async () => {
    const all = await get<{ items: Alarm[]; total: number }>("/api/alarms");
    expect(all.total).toBe(7);
    for (const a of all.items) AlarmSchema.parse(a);
    expect(all.items.map((a) => a.raisedAt)).toEqual([...all.items.map((a) => a.raisedAt)].sort().reverse());
    const red = await get<{ items: Alarm[] }>("/api/alarms?level=red");
    expect(red.items.map((a) => `${a.deviceId}:${a.kind}`).sort()).toEqual([
      "gas-a:upper",
      "press-a:lower",
      "press-a:rate",
    ]);
    const gas = await get<{ items: Alarm[]; total: number }>("/api/alarms?type=gas_concentration&limit=2");
    expect(gas.total).toBe(4);
    expect(gas.items).toHaveLength(2);
    const active = await get<{ total: number }>("/api/alarms?active=false");
    expect(active.total).toBe(1);
    const near = await get<{ items: Alarm[] }>("/api/alarms?bbox=118.49,34.09,118.52,34.12");
    expect(near.items.map((a) => a.deviceId).sort()).toEqual(["press-a", "press-a", "smoke-a"]);
    const window = await get<{ total: number }>(
      `/api/alarms?from=${now - 2 * 24 * 60 * MIN}&to=${new Date(now - 15 * MIN).toISOString()}`,
    );
    // gas-c was raised three days ago but is still open, so it was alive in the window; smoke-a and press-a came later.
    expect(window.total).toBe(4);
    const device = await get<{ items: Alarm[] }>("/api/alarms?device=gas-a");
    expect(device.items).toHaveLength(1);
    expect(device.items[0]).toMatchObject({
      level: "red",
      status: "raised",
      active: true,
      value: 60,
      limit: 50,
      unit: "%LEL",
      deviceName: "gas_concentration gas-a",
      lon: 118.3,
      lat: 33.95,
      actions: ["acknowledge"],
    });
  });

  it("rejects bad list queries with a clear 400", async () => {
    const bad = await request(server.url, "/api/alarms?level=purple&bbox=1,2,3");
    expect(bad.status).toBe(400);
    expect(json<{ error: string }>(bad).error).toMatch(/level/);
    expect(json<{ error: string }>(bad).error).toMatch(/bbox/);
    const unknown = await request(server.url, "/api/alarms?colour=red");
    expect(unknown.status).toBe(400);
    expect((await request(server.url, "/api/alarms/abc")).status).toBe(400);
    expect((await request(server.url, "/api/alarms/999999")).status).toBe(404);
  });

  it("counts for the cockpit: raised since, by level, device type and kind; open by stage", async () => {
    const stats = AlarmStatsSchema.parse(
      await get<AlarmStats>(`/api/alarms/stats?since=${now - 24 * 60 * MIN}`),
    );
    expect(stats.raised).toEqual({
      total: 6,
      byLevel: { red: 3, orange: 2, yellow: 1, blue: 0 },
      byDeviceType: { gas_concentration: 3, smoke: 1, pipe_pressure: 2 },
      byKind: { upper: 4, lower: 1, rate: 1, offline: 0 },
    });
    expect(stats.open).toEqual({
      total: 7,
      active: 6,
      byStatus: { raised: 7, acknowledged: 0, dispatched: 0, handled: 0, verified: 0, closed: 0 },
      byLevel: { red: 3, orange: 3, yellow: 1, blue: 0 },
    });
    expect(stats.closed).toBe(0);
    // Default window: the last 24 h.
    expect((await get<AlarmStats>("/api/alarms/stats")).raised.total).toBe(6);
  });

  it("refuses lifecycle steps without the admin token and changes nothing", async () => {
    const id = ids["gas-a:upper"];
    const none = await post(`/api/alarms/${id}/transitions`, { action: "acknowledge", by: "x" }, null);
    expect(none.status).toBe(401);
    const wrong = await post(`/api/alarms/${id}/transitions`, { action: "acknowledge", by: "x" }, "nope");
    expect(wrong.status).toBe(401);
    expect((await get<Alarm>(`/api/alarms/${id}`)).status).toBe("raised");
    expect(await historyCount(id)).toBe(1);
  });

  it("runs the closed loop raised -> ... -> closed, recording every step", async () => {
    const id = ids["gas-d:upper"];
    const step = (body: object) => post(`/api/alarms/${id}/transitions`, body);

    const early = await step({ action: "close", by: "王五" });
    expect(early.status).toBe(409);
    expect(json<{ error: string }>(early).error).toMatch(
      /cannot close alarm \d+: it is raised; allowed now: acknowledge/,
    );
    expect(await historyCount(id)).toBe(2);

    expect((await step({ action: "acknowledge", by: "值班员小李", note: "收到" })).status).toBe(201);
    const noAssignee = await step({ action: "dispatch", by: "值班员小李" });
    expect(noAssignee.status).toBe(400);
    expect(json<{ error: string }>(noAssignee).error).toMatch(/assignee/);
    expect((await step({ action: "dispatch", by: "值班员小李", assignee: "燃气巡检班" })).status).toBe(201);
    expect((await step({ action: "handle", by: "燃气巡检班", note: "现场检测正常" })).status).toBe(201);
    expect((await step({ action: "reject", by: "张主任", note: "补充照片" })).status).toBe(201);
    expect((await step({ action: "handle", by: "燃气巡检班", note: "已补充" })).status).toBe(201);
    expect((await step({ action: "verify", by: "张主任" })).status).toBe(201);
    const closed = await step({ action: "close", by: "张主任", note: "办结" });
    expect(closed.status).toBe(201);
    expect(json<{ alarm: Alarm }>(closed).alarm).toMatchObject({
      status: "closed",
      assignee: "燃气巡检班",
      actions: [],
    });

    const after = await step({ action: "acknowledge", by: "x" });
    expect(after.status).toBe(409);
    expect(json<{ error: string }>(after).error).toMatch(/closed alarm takes no further steps/);
    const bogus = await step({ action: "teleport", by: "x" });
    expect(bogus.status).toBe(400);

    const alarm = AlarmWithHistorySchema.parse(await get(`/api/alarms/${id}`));
    expect(alarm.closedAt).not.toBeNull();
    expect(alarm.history.map((h) => [h.kind, h.fromStatus, h.toStatus, h.by, h.note, h.assignee])).toEqual([
      ["raised", null, null, "system", null, null],
      ["cleared", null, null, "system", null, null],
      ["acknowledge", "raised", "acknowledged", "值班员小李", "收到", null],
      ["dispatch", "acknowledged", "dispatched", "值班员小李", null, "燃气巡检班"],
      ["handle", "dispatched", "handled", "燃气巡检班", "现场检测正常", null],
      ["reject", "handled", "dispatched", "张主任", "补充照片", null],
      ["handle", "dispatched", "handled", "燃气巡检班", "已补充", null],
      ["verify", "handled", "verified", "张主任", null, null],
      ["close", "verified", "closed", "张主任", "办结", null],
    ]);
    const times = alarm.history.map((h) => Date.parse(h.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[2]).toBeGreaterThanOrEqual(now);
  });

  it("will not verify an alarm whose condition is still present", async () => {
    const id = ids["gas-b:upper"];
    const step = (body: object) => post(`/api/alarms/${id}/transitions`, body);
    expect((await step({ action: "acknowledge", by: "a" })).status).toBe(201);
    expect((await step({ action: "dispatch", by: "a", assignee: "b" })).status).toBe(201);
    expect((await step({ action: "handle", by: "b" })).status).toBe(201);
    const verify = await step({ action: "verify", by: "c" });
    expect(verify.status).toBe(409);
    expect(json<{ error: string }>(verify).error).toMatch(/still present/);
    expect((await get<Alarm>(`/api/alarms/${id}`)).status).toBe("handled");
  });

  it("stats follow the lifecycle", async () => {
    const stats = await get<AlarmStats>(`/api/alarms/stats?since=${now - 24 * 60 * MIN}`);
    expect(stats.open.byStatus).toEqual({
      raised: 5,
      acknowledged: 0,
      dispatched: 0,
      handled: 1,
      verified: 0,
      closed: 0,
    });
    expect(stats.open.total).toBe(6);
    expect(stats.closed).toBe(1);
    expect((await get<{ total: number }>("/api/alarms?status=open")).total).toBe(6);
    expect((await get<{ total: number }>("/api/alarms?status=closed,handled")).total).toBe(2);
  });

  it("replays the last 24 h as a timeline of history rows", async () => {
    const tl = await get<{ items: AlarmTimelineEntry[]; truncated: boolean }>("/api/alarms/timeline");
    expect(tl.truncated).toBe(false);
    const times = tl.items.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(tl.items.every((e) => e.kind !== "raised" || e.deviceId !== "gas-c")).toBe(true);
    const gasD = tl.items.filter((e) => e.deviceId === "gas-d").map((e) => e.kind);
    expect(gasD).toEqual([
      "raised",
      "cleared",
      "acknowledge",
      "dispatch",
      "handle",
      "reject",
      "handle",
      "verify",
      "close",
    ]);
    expect(tl.items.find((e) => e.deviceId === "smoke-a")).toMatchObject({
      lon: 118.5,
      lat: 34.1,
      alarmKind: "upper",
    });
    const bounded = await get<{ items: AlarmTimelineEntry[] }>(
      `/api/alarms/timeline?from=${now - 32 * MIN}&to=${now - 15 * MIN}`,
    );
    expect(bounded.items.map((e) => `${e.deviceId}:${e.kind}`)).toEqual(["gas-a:raised", "gas-b:raised"]);
  });

  it("manages threshold rules: public reads, token writes, validation and conflicts", async () => {
    const rules = await get<AlarmRule[]>("/api/alarm-rules?target=smoke");
    expect(rules.map((r) => r.kind).sort()).toEqual(["offline", "upper"]);
    const body = {
      scope: "device",
      target: "smoke-a",
      kind: "upper",
      quantity: "smoke",
      limits: { red: 0.5, yellow: 0.2 },
      deadband: 0.02,
    };
    expect((await post("/api/alarm-rules", body, null)).status).toBe(401);
    const created = await post("/api/alarm-rules", body);
    expect(created.status).toBe(201);
    const rule = json<AlarmRule>(created);
    expect(rule).toMatchObject({ scope: "device", target: "smoke-a", builtin: false, enabled: true });
    const dup = await post("/api/alarm-rules", body);
    expect(dup.status).toBe(409);
    expect(json<{ error: string }>(dup).error).toMatch(/already exists/);
    const misordered = await post("/api/alarm-rules", {
      ...body,
      target: "x",
      limits: { red: 0.1, yellow: 0.2 },
    });
    expect(misordered.status).toBe(400);
    expect(json<{ error: string }>(misordered).error).toMatch(/limits/);
    const noQuantity = await post("/api/alarm-rules", { ...body, target: "x", quantity: undefined });
    expect(noQuantity.status).toBe(400);
    expect(json<{ error: string }>(noQuantity).error).toMatch(/quantity/);

    const put = await jsonRequest(
      server.url,
      `/api/alarm-rules/${rule.id}`,
      "PUT",
      { ...body, enabled: false },
      TOKEN,
    );
    expect(put.status).toBe(200);
    expect(json<AlarmRule>(put).enabled).toBe(false);
    expect((await get<AlarmRule>(`/api/alarm-rules/${rule.id}`)).enabled).toBe(false);
    const del = await request(server.url, `/api/alarm-rules/${rule.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(del.status).toBe(204);
    expect((await request(server.url, `/api/alarm-rules/${rule.id}`)).status).toBe(404);
  });

  it("documents the endpoints in the OpenAPI document", async () => {
    const doc = await get<{
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    }>("/api/openapi.json");
    // Every reference resolves (ours and the rest of the document).
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.filter((name) => !(name in doc.components.schemas))).toEqual([]);
    for (const path of [
      "/api/alarms",
      "/api/alarms/{id}",
      "/api/alarms/{id}/transitions",
      "/api/alarms/stats",
      "/api/alarms/timeline",
      "/api/alarm-rules",
      "/api/alarm-rules/{id}",
      "/api/cameras",
      "/api/cameras/near",
      "/api/cameras/availability",
      "/api/cameras/{id}",
      "/api/cameras/{id}/status",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});
