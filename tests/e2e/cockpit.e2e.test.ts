import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type MqttClient } from "mqtt";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CitySummary } from "../../models/cockpit.ts";
import type { Device } from "../../models/devices.ts";
import type { CimCockpitHook } from "../../viewer/src/cockpit/test-hook.ts";
import { type DemoSession, demoApi, startDemoSession } from "../support/demo-session.ts";

/**
 * The leaders' cockpit at /cockpit: its KPIs are the API's numbers, at the design size and scaled down; a red
 * alarm published over MQTT appears in the ticker, and clicking it flies the 3D scene there, highlights the
 * asset and opens the video of the camera that sees the spot.
 */

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const DEVICE_ID = "e2e-cockpit-pressure";
const DEVICE_NAME = "E2E 驾驶舱压力计";
/** A demo sensor watched by a demo camera: the test device is installed on the same pipe. */
const WATCHED_DEVICE = "PRS-01";

declare const window: { cimCockpit: CimCockpitHook };

let ctx: DemoSession;
let page: Page;
let publisher: MqttClient;
let device: Pick<Device, "lon" | "lat" | "height" | "layerId" | "featureId">;

const api = <T>(path: string, init?: { method?: string; body?: unknown }) => demoApi<T>(ctx, path, init);

/** What each KPI must show, read straight from the summary's JSON. */
function expectedKpis(s: CitySummary): Record<string, number | null> {
  return {
    "devices.total": s.devices.total,
    "devices.online": s.devices.online,
    "devices.onlineRate": s.devices.onlineRate,
    "alarms.raised.total": s.alarms.raised.total,
    "alarms.raised.byLevel.red": s.alarms.raised.byLevel.red ?? 0,
    "alarms.raised.byLevel.orange": s.alarms.raised.byLevel.orange ?? 0,
    "alarms.raised.byLevel.yellow": s.alarms.raised.byLevel.yellow ?? 0,
    "alarms.raised.byLevel.blue": s.alarms.raised.byLevel.blue ?? 0,
    "alarms.open.total": s.alarms.open.total,
    "alarms.open.active": s.alarms.open.active,
    "alarms.closed": s.alarms.closed,
    "cameras.total": s.cameras.total,
    "cameras.online": s.cameras.online,
    "cameras.availability": s.cameras.availability,
    "layers.buildings": s.layers.buildings,
    "layers.bimModels": s.layers.bimModels,
    "layers.bimElements": s.layers.bimElements,
    "pipes.totalLength": s.pipes.totalLength,
    "pipes.segments": s.pipes.segments,
  };
}

/** The KPI values as the page's elements carry them (`dd[data-kpi]` with `data-value`). */
async function shownKpis(): Promise<Record<string, number | null>> {
  return page.$$eval("[data-kpi]", (els) =>
    Object.fromEntries(
      els.map((el) => {
        const v = (el as HTMLElement).dataset.value;
        return [(el as HTMLElement).dataset.kpi!, v === undefined || v === "" ? null : Number(v)];
      }),
    ),
  );
}

/** The page's KPIs equal the API's once its refresh has caught up (events may still be arriving). */
async function expectKpisMatchApi(): Promise<Record<string, number | null>> {
  let expected: Record<string, number | null> = {};
  let shown: Record<string, number | null> = {};
  for (let attempt = 0; attempt < 40; attempt++) {
    expected = expectedKpis(await api<CitySummary>("api/cockpit/summary"));
    shown = await shownKpis();
    if (JSON.stringify(sorted(shown)) === JSON.stringify(sorted(expected))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(sorted(shown)).toEqual(sorted(expected));
  expect(sorted(await page.evaluate(() => window.cimCockpit.kpis()))).toEqual(sorted(expected));
  return expected;
}

const sorted = (o: Record<string, number | null>) => Object.fromEntries(Object.entries(o).sort());

async function openCockpit(width: number, height: number): Promise<void> {
  await page.setViewport({ width, height });
  await page.goto(new URL("cockpit", ctx.pageUrl).href, { waitUntil: "load" });
  await page.waitForFunction(() => window.cimCockpit !== undefined, { timeout: 60_000 });
  await page.evaluate(() => window.cimCockpit.ready);
  await page.waitForFunction(() => window.cimCockpit.live().status === "open", { timeout: 30_000 });
}

async function waitForTiles(): Promise<void> {
  await page.waitForFunction(() => window.cimCockpit.tilesLoaded(), { timeout: 180_000, polling: 500 });
}

async function screenshot(name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, `cockpit-${name}.png`), await page.screenshot({ type: "png" }));
}

/** Metres between the 3D camera and the device. */
async function cameraDistanceToDevice(): Promise<number> {
  const c = await page.evaluate(() => window.cimCockpit.camera());
  const ky = (6_378_137 * Math.PI) / 180;
  const dx = (c.lon - device.lon) * ky * Math.cos((device.lat * Math.PI) / 180);
  const dy = (c.lat - device.lat) * ky;
  return Math.hypot(dx, dy, c.height - device.height);
}

/** Clicks the device's alarm in the ticker and waits until the flight has ended. */
async function clickAlarmInTicker(): Promise<void> {
  const selector = `.cockpit-ticker-item[data-alarm-id="${await alarmId()}"]`;
  await page.waitForSelector(selector, { visible: true, timeout: 20_000 });
  await page.click(selector);
  await page.waitForFunction(
    (id) => window.cimCockpit.focus()?.deviceId === id && window.cimCockpit.focus()?.flown === true,
    { timeout: 60_000 },
    DEVICE_ID,
  );
}

async function alarmId(): Promise<number> {
  const { items } = await api<{ items: { id: number; level: string }[] }>(`api/alarms?device=${DEVICE_ID}`);
  const red = items.find((a) => a.level === "red");
  expect(red, "no red alarm for the test device").toBeDefined();
  return red!.id;
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-cockpit-");
  page = ctx.page;
  const watched = await api<Device>(`api/devices/${WATCHED_DEVICE}`);
  device = {
    lon: watched.lon,
    lat: watched.lat,
    height: watched.height,
    layerId: watched.layerId,
    featureId: watched.featureId,
  };
  await api("api/devices", {
    method: "POST",
    body: {
      id: DEVICE_ID,
      type: "pipe_pressure",
      name: DEVICE_NAME,
      lon: device.lon,
      lat: device.lat,
      height: device.height,
      layerId: device.layerId ?? undefined,
      featureId: device.featureId ?? undefined,
    },
  });
  publisher = await mqtt.connectAsync(ctx.demo.mqttUrl, {
    clientId: `cim-e2e-cockpit-${process.pid}`,
    clean: true,
  });
}, 300_000);

afterAll(async () => {
  await publisher?.endAsync();
  await ctx?.close();
});

describe("leaders' cockpit", () => {
  it("serves /cockpit and shows the API's KPIs at 1920x1080", async () => {
    const res = await fetch(new URL("cockpit", ctx.pageUrl));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('id="cockpit-stage"');
    const slash = await fetch(new URL("cockpit/?role=public", ctx.pageUrl), { redirect: "manual" });
    expect(slash.status).toBe(301);
    expect(slash.headers.get("location")).toBe("/cockpit?role=public");

    await openCockpit(1920, 1080);
    expect(await page.evaluate(() => window.cimCockpit.scale())).toBeCloseTo(1, 3);
    const kpis = await expectKpisMatchApi();
    // The demo city is there: buildings, one BIM model, pipes, cameras and the registered devices.
    expect(kpis["layers.buildings"]).toBeGreaterThan(100);
    expect(kpis["layers.bimModels"]).toBe(1);
    expect(kpis["pipes.segments"]).toBeGreaterThan(100);
    expect(kpis["cameras.total"]).toBeGreaterThan(0);
    const devices = await api<Device[]>("api/devices");
    expect(kpis["devices.total"]).toBe(devices.length);
    // The figures are written out, not left as placeholders; every chart drew something.
    expect(await page.$eval('[data-kpi="devices.total"]', (el) => el.textContent)).toBe(
      String(devices.length),
    );
    const emptyCharts = await page.$$eval(".cockpit-chart", (els) =>
      els.filter((el) => el.querySelector("svg path, svg text") === null).map((el) => el.id),
    );
    expect(emptyCharts).toEqual([]);
    expect(await page.evaluate(() => window.cimCockpit.overview().devices)).toBe(devices.length);
    await waitForTiles();
    await screenshot("1920");
  }, 300_000);

  it("lists a red alarm published over MQTT in the ticker within seconds, and clicking it flies there", async () => {
    const loadsBefore = await page.evaluate(() => window.cimCockpit.summaryLoads());
    // Below the built-in red lower limit of water-supply pressure (0.05 MPa).
    await publisher.publishAsync(
      `cim/${DEVICE_ID}/telemetry`,
      JSON.stringify({ ts: Date.now(), values: { pressure: 0.02 } }),
      { qos: 1 },
    );
    const published = Date.now();
    await page.waitForFunction(
      (id) => window.cimCockpit.ticker().some((a) => a.deviceId === id && a.level === "red"),
      { timeout: 15_000, polling: 100 },
      DEVICE_ID,
    );
    const latency = Date.now() - published;
    expect(latency).toBeLessThan(10_000);
    // Newest first.
    expect((await page.evaluate(() => window.cimCockpit.ticker()))[0]?.deviceId).toBe(DEVICE_ID);
    expect(
      await page.$eval(
        `.cockpit-ticker-item[data-alarm-id="${await alarmId()}"] .cockpit-ticker-name`,
        (el) => el.textContent,
      ),
    ).toBe(DEVICE_NAME);

    // The alarm event made the KPIs refresh: they count it, as the API does.
    await page.waitForFunction((n) => window.cimCockpit.summaryLoads() > n, { timeout: 15_000 }, loadsBefore);
    const kpis = await expectKpisMatchApi();
    expect(kpis["alarms.raised.byLevel.red"]).toBeGreaterThanOrEqual(1);
    expect(kpis["alarms.open.total"]).toBeGreaterThanOrEqual(1);

    expect(await cameraDistanceToDevice()).toBeGreaterThan(600);
    await clickAlarmInTicker();
    expect(await cameraDistanceToDevice()).toBeLessThan(300);
    const focus = (await page.evaluate(() => window.cimCockpit.focus()))!;
    expect(focus.asset).toBe(`${device.layerId}/${device.featureId}`);
    // The camera watching that stretch of the main opens its video.
    await page.waitForSelector(".video-popup.camera-popup[data-camera-id]", {
      visible: true,
      timeout: 20_000,
    });
    expect((await page.evaluate(() => window.cimCockpit.focus()))!.cameraId).toBe(
      await page.$eval(".video-popup.camera-popup", (el) => (el as HTMLElement).dataset.cameraId),
    );
    expect(await page.$eval("#cockpit-focus", (el) => (el as HTMLElement).hidden)).toBe(false);
    await waitForTiles();
    await screenshot("alarm-1920");
  }, 240_000);

  it("scales the same layout into a 1280x720 window, KPIs and ticker clicks included", async () => {
    await openCockpit(1280, 720);
    expect(await page.evaluate(() => window.cimCockpit.scale())).toBeCloseTo(1280 / 1920, 3);
    const stage = await page.$eval("#cockpit-stage", (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height };
    });
    expect(stage.width).toBeCloseTo(1280, 0);
    expect(stage.height).toBeCloseTo(720, 0);
    await expectKpisMatchApi();
    await waitForTiles();
    expect(await cameraDistanceToDevice()).toBeGreaterThan(600);
    await clickAlarmInTicker();
    expect(await cameraDistanceToDevice()).toBeLessThan(300);
    await page.waitForSelector(".video-popup.camera-popup[data-camera-id]", {
      visible: true,
      timeout: 20_000,
    });
    await waitForTiles();
    await screenshot("1280");
  }, 300_000);

  it("flies the 3D scene to a sensor-density hexagon clicked on the deck.gl overview", async () => {
    const point = await page.evaluate(
      (lon, lat) => window.cimCockpit.overviewPoint(lon, lat),
      device.lon,
      device.lat,
    );
    expect(point).not.toBeNull();
    // Away from the cell first, so the flight is what brings the camera there.
    await page.click('.cockpit-mode [data-mode="peace"]');
    await page.evaluate(() => {
      window.cimCockpit.viewer.camera.flyHome(0);
      window.cimCockpit.viewer.scene.requestRender();
    });
    expect(await cameraDistanceToDevice()).toBeGreaterThan(3000);
    await page.mouse.click(point!.x, point!.y);
    // The hexagon's devices' centre, seen from 450 m up: within a few hundred metres of the device in it.
    await page.waitForFunction(
      (lon, lat) => {
        const c = window.cimCockpit.camera();
        return Math.abs(c.lon - lon) < 0.01 && Math.abs(c.lat - lat) < 0.01 && c.height < 600;
      },
      { timeout: 30_000, polling: 250 },
      device.lon,
      device.lat,
    );
    expect(await cameraDistanceToDevice()).toBeLessThan(1200);
  }, 120_000);
});
