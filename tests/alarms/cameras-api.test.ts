import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Camera,
  type CameraAvailability,
  CameraAvailabilitySchema,
  CameraSchema,
  type NearCamera,
  NearCameraSchema,
} from "../../models/cameras.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "../tiles-server/support/db-targets.ts";
import { jsonRequest, request } from "../tiles-server/support/http-client.ts";
import { json, TOKEN } from "./support.ts";

// The point an alarm is at, and cameras placed around it (metres east/north of it).
const P = { lon: 118.3, lat: 33.95 };
const M_PER_DEG_LAT = 110_922;
const M_PER_DEG_LON = 92_445;
const offset = (east: number, north: number) => ({
  lon: P.lon + east / M_PER_DEG_LON,
  lat: P.lat + north / M_PER_DEG_LAT,
});

const CAMERAS = [
  // 20 m north looking north: the point is behind it.
  {
    id: "cam-b",
    name: "北门",
    ...offset(0, 20),
    height: 6,
    heading: 0,
    pitch: -10,
    streamUrl: "http://vms/b.m3u8",
  },
  // 40 m west looking east, 6 m up, slightly down: sees it (8.5° below the horizon, axis at -5°).
  {
    id: "cam-a",
    name: "西侧",
    ...offset(-40, 0),
    height: 6,
    heading: 90,
    pitch: -5,
    streamUrl: "http://vms/a.mp4",
  },
  // 60 m south looking north from 10 m, pitched down 10°: sees it (9.5° below the horizon).
  {
    id: "cam-e",
    name: "南侧",
    ...offset(0, -60),
    height: 10,
    heading: 0,
    pitch: -10,
    streamUrl: "http://vms/e.flv",
  },
  // 100 m east looking west but only useful to 80 m.
  { id: "cam-c", name: "东侧", ...offset(100, 0), height: 6, heading: 270, pitch: -3, range: 80 },
  // 300 m away: outside a 200 m search.
  { id: "cam-d", name: "远处", ...offset(0, 300), height: 6, heading: 180 },
];

describe.each(DB_TARGETS)("cameras API on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;

  const get = async <T>(path: string) => {
    const res = await request(server.url, path);
    expect(res.status, `${path}: ${res.body.toString()}`).toBe(200);
    return json<T>(res);
  };
  const send = (method: string, path: string, body: unknown, token: string | null = TOKEN) =>
    jsonRequest(server.url, path, method, body, token ?? undefined);

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

  it("registers cameras with the admin token only, with defaults and clear errors", async () => {
    expect((await send("POST", "/api/cameras", CAMERAS[0], null)).status).toBe(401);
    expect((await send("POST", "/api/cameras", CAMERAS[0], "wrong")).status).toBe(401);
    expect(await get<Camera[]>("/api/cameras")).toEqual([]);
    for (const cam of CAMERAS) {
      const res = await send("POST", "/api/cameras", cam);
      expect(res.status, res.body.toString()).toBe(201);
    }
    const a = CameraSchema.parse(await get("/api/cameras/cam-a"));
    expect(a).toMatchObject({ streamKind: "mp4", hfov: 60, range: 150, status: "offline", lastSeen: null });
    expect(a.vfov).toBeCloseTo(35.98, 2);
    expect((await get<Camera>("/api/cameras/cam-b")).streamKind).toBe("hls");
    expect((await get<Camera>("/api/cameras/cam-e")).streamKind).toBe("flv");

    const dup = await send("POST", "/api/cameras", CAMERAS[0]);
    expect(dup.status).toBe(409);
    expect(json<{ error: string }>(dup).error).toMatch(/cam-b.*already exists/);
    const noKind = await send("POST", "/api/cameras", {
      ...CAMERAS[0],
      id: "cam-x",
      streamUrl: "rtsp://vms/x",
    });
    expect(noKind.status).toBe(400);
    expect(json<{ error: string }>(noKind).error).toMatch(/streamKind/);
    const badPitch = await send("POST", "/api/cameras", { ...CAMERAS[0], id: "cam-x", pitch: -120 });
    expect(badPitch.status).toBe(400);
    expect(json<{ error: string }>(badPitch).error).toMatch(/pitch/);
  });

  it("lists cameras in a bbox", async () => {
    const box = `${P.lon - 0.0006},${P.lat - 0.0006},${P.lon + 0.0006},${P.lat + 0.0006}`;
    const cams = await get<Camera[]>(`/api/cameras?bbox=${box}`);
    expect(cams.map((c) => c.id)).toEqual(["cam-a", "cam-b", "cam-e"]);
  });

  it("finds the cameras near a point, nearest first, flagging those whose frustum holds it", async () => {
    const near = await get<NearCamera[]>(`/api/cameras/near?lon=${P.lon}&lat=${P.lat}&radius=200`);
    for (const c of near) NearCameraSchema.parse(c);
    expect(near.map((c) => [c.id, c.sees])).toEqual([
      ["cam-b", false],
      ["cam-a", true],
      ["cam-e", true],
      ["cam-c", false],
    ]);
    expect(near.map((c) => Math.round(c.distance))).toEqual([20, 40, 60, 100]);
    expect(near[1].bearing).toBeCloseTo(90, 0);
    // 40 m up the point is 40° above cam-a's axis: outside its 36° vertical field of view.
    const high = await get<NearCamera[]>(`/api/cameras/near?lon=${P.lon}&lat=${P.lat}&height=40&radius=200`);
    expect(high.find((c) => c.id === "cam-a")?.sees).toBe(false);
    const limited = await get<NearCamera[]>(`/api/cameras/near?lon=${P.lon}&lat=${P.lat}&radius=50&limit=1`);
    expect(limited.map((c) => c.id)).toEqual(["cam-b"]);
    const bad = await request(server.url, `/api/cameras/near?lon=200&lat=${P.lat}`);
    expect(bad.status).toBe(400);
    expect(json<{ error: string }>(bad).error).toMatch(/lon/);
  });

  it("turning a camera round (PUT) changes what it sees; DELETE removes it", async () => {
    const { id: _id, ...body } = CAMERAS[0];
    expect((await send("PUT", "/api/cameras/cam-b", { ...body, heading: 180 }, null)).status).toBe(401);
    const put = await send("PUT", "/api/cameras/cam-b", { ...body, heading: 180 });
    expect(put.status).toBe(200);
    expect(json<Camera>(put).heading).toBe(180);
    const near = await get<NearCamera[]>(`/api/cameras/near?lon=${P.lon}&lat=${P.lat}&radius=200`);
    expect(near.find((c) => c.id === "cam-b")?.sees).toBe(true);
    expect((await send("PUT", "/api/cameras/nope", body)).status).toBe(404);

    const del = await request(server.url, "/api/cameras/cam-d", {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(del.status).toBe(204);
    expect((await request(server.url, "/api/cameras/cam-d")).status).toBe(404);
  });

  it("records status reports: changes go to the history, repeats only move lastSeen", async () => {
    const report = (id: string, body: object, token: string | null = TOKEN) =>
      send("POST", `/api/cameras/${id}/status`, body, token);
    expect((await report("cam-a", { status: "online" }, null)).status).toBe(401);
    const first = await report("cam-a", { status: "online" });
    expect(first.status).toBe(200);
    expect(json<{ changed: boolean; camera: Camera }>(first)).toMatchObject({
      changed: true,
      camera: { status: "online" },
    });
    const again = await report("cam-a", { status: "online", note: "heartbeat" });
    expect(json<{ changed: boolean }>(again).changed).toBe(false);
    const history = await get<{ status: string }[]>("/api/cameras/cam-a/status");
    expect(history.map((h) => h.status)).toEqual(["offline", "online"]);

    const old = await report("cam-a", { status: "fault", at: Date.now() - 3_600_000 });
    expect(old.status).toBe(409);
    expect(json<{ error: string }>(old).error).toMatch(/older than the camera's current status/);
    const future = await report("cam-a", { status: "fault", at: Date.now() + 3_600_000 });
    expect(future.status).toBe(400);
    expect((await report("nope", { status: "online" })).status).toBe(404);
    expect((await report("cam-a", { status: "broken" })).status).toBe(400);
    expect((await get<Camera>("/api/cameras/cam-a")).status).toBe("online");
  });

  it("computes availability (完好率) per day from the status history", async () => {
    const t = (hhmm: string, day = "2026-11-01") => `${day}T${hhmm}:00+08:00`;
    const created = await send("POST", "/api/cameras", {
      id: "cam-av",
      name: "可用率",
      ...offset(500, 500),
      status: "online",
      statusAt: t("00:00"),
    });
    expect(created.status).toBe(201);
    const late = await send("POST", "/api/cameras", {
      id: "cam-av2",
      name: "中午安装",
      ...offset(510, 500),
      status: "online",
      statusAt: t("12:00"),
    });
    expect(late.status).toBe(201);
    for (const [id, status, at] of [
      ["cam-av", "offline", t("06:00")],
      ["cam-av", "online", t("09:00")],
      ["cam-av", "fault", t("18:00")],
      ["cam-av", "online", t("20:00")],
      ["cam-av2", "offline", t("18:00")],
    ]) {
      const res = await send("POST", `/api/cameras/${id}/status`, { status, at });
      expect(res.status, res.body.toString()).toBe(200);
    }
    const day = CameraAvailabilitySchema.parse(
      await get<CameraAvailability>("/api/cameras/availability?day=2026-11-01"),
    );
    expect(day.from).toBe("2026-10-31T16:00:00.000Z");
    expect(day.to).toBe("2026-11-01T16:00:00.000Z");
    const av = day.cameras.find((c) => c.id === "cam-av");
    // Online 00-06, 09-18 and 20-24: 19 h of 24.
    expect(av).toMatchObject({ onlineSeconds: 19 * 3600, knownSeconds: 24 * 3600 });
    expect(av?.rate).toBeCloseTo(19 / 24, 12);
    // Installed at noon, online until 18:00: 6 h of 12.
    expect(day.cameras.find((c) => c.id === "cam-av2")).toMatchObject({ onlineSeconds: 6 * 3600, rate: 0.5 });
    // Cameras registered today did not exist that day.
    expect(day.cameras.find((c) => c.id === "cam-a")).toMatchObject({ knownSeconds: 0, rate: null });
    expect(day.overall).toBeCloseTo(25 / 36, 12);

    const next = await get<CameraAvailability>("/api/cameras/availability?day=2026-11-02");
    expect(next.cameras.find((c) => c.id === "cam-av")?.rate).toBe(1);
    expect(next.cameras.find((c) => c.id === "cam-av2")?.rate).toBe(0);
    expect(next.overall).toBe(0.5);
    // The same day in UTC shifts the window by 8 h: 2026-11-01 08:00..24:00 (+08:00) then 00:00..08:00 of the 2nd.
    const utc = await get<CameraAvailability>("/api/cameras/availability?day=2026-11-01&utcOffset=%2B00:00");
    // cam-av: online 09-18 (9 h), fault 18-20, online 20-08 (12 h) of 08:00..08:00 = 21 h of 24.
    expect(utc.cameras.find((c) => c.id === "cam-av")?.rate).toBeCloseTo(21 / 24, 12);

    expect((await request(server.url, "/api/cameras/availability")).status).toBe(400);
    expect((await request(server.url, "/api/cameras/availability?day=2026-13-01")).status).toBe(400);
  });
});
