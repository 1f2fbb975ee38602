import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type MqttClient } from "mqtt";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PIPES_LAYER_ID } from "../../cli/demo.ts";
import type { Alarm, AlarmWithHistory } from "../../models/alarms.ts";
import { type DemoSession, demoApi, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle, waitForCameraStill, waitForTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const DEVICE_ID = "e2e-pressure-1";
const DEVICE_NAME = "E2E 管网压力计";
const OPERATOR = "E2E 值班员";
const MINUTE = 60_000;

interface Point {
  x: number;
  y: number;
}
interface IotState {
  sensors: {
    show: boolean;
    count: number;
    clusters: number;
    byState: Record<string, number>;
    pulsing: number;
  };
  chart: { deviceId: string; range: string; status: string; points: Record<string, number> } | null;
  alarms: { loaded: boolean; items: { id: number; deviceId: string; status: string }[]; live: string };
  paintedAssets: Record<string, string>;
}
interface Hook {
  ready: Promise<void>;
  iot(): IotState | null;
  sensorOnScreen(id: string): Point | null;
  reloadSensors(): Promise<void>;
  sensorLabel(id: string): string | null;
  pipeFeatureColor(id: string): string | null;
  pipesFlyTo(id: string): Promise<boolean>;
  viewer: {
    camera: {
      positionCartographic: { longitude: number; latitude: number; height: number };
      setView(options: unknown): void;
    };
    scene: { requestRender(): void; render(): void };
  };
}
declare const window: { cimViewer: Hook };

interface NetLink {
  id: string;
  pipeClass: string;
  path: [number, number, number][];
}

let ctx: DemoSession;
let page: Page;
let pageUrl: string;
let publisher: MqttClient;
let pipe: NetLink;
let device: { lon: number; lat: number; height: number };
const t0 = Date.now();

const api = <T>(path: string, init?: { method?: string; body?: unknown }) => demoApi<T>(ctx, path, init);

/** Publishes one pressure reading as the device would (QoS 1: acknowledged once committed). */
async function publishPressure(value: number, ts: number): Promise<void> {
  await publisher.publishAsync(
    `cim/${DEVICE_ID}/telemetry`,
    JSON.stringify({ ts, values: { pressure: value } }),
    {
      qos: 1,
    },
  );
}

async function screenshot(name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, `iot-${name}.png`), await page.screenshot({ type: "png" }));
}

const iot = () => page.evaluate(() => window.cimViewer.iot());

/** Metres between the camera and the device (plan distance and height together). */
async function cameraDistanceToDevice(): Promise<number> {
  const c = await page.evaluate(() => {
    const p = window.cimViewer.viewer.camera.positionCartographic;
    return { lon: (p.longitude * 180) / Math.PI, lat: (p.latitude * 180) / Math.PI, height: p.height };
  });
  const ky = (6_378_137 * Math.PI) / 180;
  const dx = (c.lon - device.lon) * ky * Math.cos((device.lat * Math.PI) / 180);
  const dy = (c.lat - device.lat) * ky;
  return Math.hypot(dx, dy, c.height - device.height);
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-iot-");
  ({ page, pageUrl } = ctx);
  // A straight water-supply pipe of some length in the demo network: the sensor sits at its middle.
  const { links } = await api<{ links: NetLink[] }>(`tiles/${DEMO_PIPES_LAYER_ID}/network.json`);
  const planLength = (l: NetLink) => {
    const a = l.path[0];
    const b = l.path[l.path.length - 1];
    const ky = (6_378_137 * Math.PI) / 180;
    return Math.hypot((b[0] - a[0]) * ky * Math.cos((a[1] * Math.PI) / 180), (b[1] - a[1]) * ky);
  };
  const candidate = links.find((l) => l.pipeClass === "JS" && l.path.length === 2 && planLength(l) > 25);
  expect(candidate, "no straight water-supply pipe in the demo network").toBeDefined();
  pipe = candidate!;
  const [a, b] = [pipe.path[0], pipe.path[1]];
  device = { lon: (a[0] + b[0]) / 2, lat: (a[1] + b[1]) / 2, height: (a[2] + b[2]) / 2 };
  await api("api/devices", {
    method: "POST",
    body: {
      id: DEVICE_ID,
      type: "pipe_pressure",
      name: DEVICE_NAME,
      ...device,
      layerId: DEMO_PIPES_LAYER_ID,
      featureId: pipe.id,
    },
  });
  // The history below is back-dated: without these per-device overrides the offline sweep would see a
  // device silent for 20 minutes, and the rate rule would read a recovery as a burst.
  for (const rule of [
    { kind: "offline", limits: { yellow: 86_400 } },
    { kind: "rate", quantity: "pressure", limits: { yellow: 100 } },
  ])
    await api("api/alarm-rules", { method: "POST", body: { scope: "device", target: DEVICE_ID, ...rule } });
  publisher = await mqtt.connectAsync(ctx.demo.mqttUrl, {
    clientId: `cim-e2e-iot-${process.pid}`,
    clean: true,
  });
  // An hour of normal pressure, ten minutes apart (a gentle slope: no rate alarm when the pressure drops later).
  for (const minutesAgo of [50, 40, 30, 20])
    await publishPressure(0.3 + minutesAgo / 1000, t0 - minutesAgo * MINUTE);
  await openViewerPage(page, pageUrl, () => window.cimViewer.iot()?.alarms.live === "open");
  await waitForTiles(page);
}, 300_000);

afterAll(async () => {
  await publisher?.endAsync();
  await ctx?.close();
});

describe("live sensors and alarms in the viewer", () => {
  it("shows the sensor, and clicking its marker opens the chart with its history and live readings", async () => {
    await page.waitForFunction(() => (window.cimViewer.iot()?.sensors.count ?? 0) > 0, { timeout: 30_000 });
    expect((await iot())!.sensors.show).toBe(true);
    // No reading of it has come live since the page opened: its label shows the last stored one (20 minutes old).
    expect(await page.evaluate((id) => window.cimViewer.sensorLabel(id), DEVICE_ID)).toBe("0.32 MPa");
    await page.evaluate((id) => window.cimViewer.pipesFlyTo(id), pipe.id);
    await settle(page, 1200, 300);

    // A click on a cluster zooms in; a user clicks again until the sensor itself is hit.
    for (let attempt = 0; attempt < 4; attempt++) {
      const p = await page.evaluate((id) => window.cimViewer.sensorOnScreen(id), DEVICE_ID);
      expect(p, "sensor marker is not on screen").not.toBeNull();
      await page.mouse.click(p!.x, p!.y);
      const opened = await page
        .waitForSelector(`.sensor-chart-popup[data-device-id="${DEVICE_ID}"]`, { timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
      if (opened) break;
      await waitForCameraStill(page);
    }
    await page.waitForSelector(`.sensor-chart-popup[data-device-id="${DEVICE_ID}"][data-status="ready"]`, {
      timeout: 30_000,
    });
    // The four stored readings of the last hour, drawn as a line with a symbol per point.
    expect(await page.$eval(".sensor-chart-popup", (el) => (el as HTMLElement).dataset.points)).toBe("4");
    expect((await iot())!.chart!.points).toEqual({ pressure: 4 });
    expect(await page.$$eval(".sensor-chart-popup svg path", (paths) => paths.length)).toBeGreaterThan(4);
    expect(await page.$eval(".sensor-chart-title", (el) => el.textContent)).toBe(DEVICE_NAME);

    // A reading arriving now is appended live.
    await publishPressure(0.31, t0 - 15 * MINUTE);
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>(".sensor-chart-popup")?.dataset.points === "5",
      { timeout: 30_000 },
    );
    await page.waitForFunction(
      () => document.querySelector(".sensor-chart-latest")?.textContent?.includes("0.31 MPa"),
      { timeout: 10_000 },
    );
    await screenshot("chart");

    // 24 hours: one-minute bucket averages from the server, one per reading here.
    await page.click('.sensor-chart-range[data-range="24h"]');
    await page.waitForFunction(
      () => {
        const popup = document.querySelector<HTMLElement>(".sensor-chart-popup");
        return popup?.dataset.status === "ready" && popup.dataset.points === "5";
      },
      { timeout: 30_000 },
    );
    expect((await iot())!.chart).toMatchObject({ range: "24h", points: { pressure: 5 } });
    await page.click('.sensor-chart-range[data-range="1h"]');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>(".sensor-chart-popup")?.dataset.status === "ready",
      { timeout: 30_000 },
    );

    // The sensors switch in the layer panel hides the markers and shows them again.
    const toggle = "#iot-toggle .iot-sensors-toggle";
    await page.$eval("#iot-toggle", (el) => el.scrollIntoView());
    expect(
      await page.$eval("#iot-toggle .iot-sensors-count", (el) => (el as HTMLElement).dataset.count),
    ).toBe(String((await iot())!.sensors.count));
    await page.click(toggle);
    await page.waitForFunction(() => window.cimViewer.iot()?.sensors.show === false, { timeout: 10_000 });
    await page.click(toggle);
    await page.waitForFunction(() => window.cimViewer.iot()?.sensors.show === true, { timeout: 10_000 });
  });

  it("lists a red low-pressure alarm live, paints the pipe red, flies to it and acknowledges it", async () => {
    // Below the red lower limit (0.05 MPa) of the built-in pipe pressure rule.
    await publishPressure(0.03, t0 - 8 * MINUTE);
    const item = `.alarm-item[data-device-id="${DEVICE_ID}"]`;
    await page.waitForSelector(`${item}[data-level="red"][data-status="raised"]`, { timeout: 30_000 });
    expect(await page.$eval(`${item} .alarm-device`, (el) => el.textContent)).toBe(DEVICE_NAME);
    const alarmId = Number(await page.$eval(item, (el) => (el as HTMLElement).dataset.alarmId));
    const listed = await api<{ items: Alarm[] }>(`api/alarms?device=${DEVICE_ID}&status=open`);
    expect(listed.items.map((a) => [a.id, a.kind, a.level])).toEqual([[alarmId, "lower", "red"]]);

    // The linked pipe segment turns red in its tileset; the marker turns red and pulses.
    await page.waitForFunction(
      (id) => {
        const m = /rgba?\(([^)]+)\)/.exec(window.cimViewer.pipeFeatureColor(id) ?? "");
        if (!m) return false;
        const [r, g, b] = m[1].split(",").map(Number);
        return r > 200 && g < 90 && b < 90;
      },
      { timeout: 30_000 },
      pipe.id,
    );
    const state = (await iot())!;
    expect(state.paintedAssets).toEqual({ [`${DEMO_PIPES_LAYER_ID}/${pipe.id}`]: "red" });
    expect(state.sensors.byState.red).toBe(1);
    expect(state.sensors.pulsing).toBe(1);
    await settle(page, 600, 300);
    await screenshot("alarm");

    // Fly-to from the list brings the camera near the device from far away.
    await page.evaluate(() => {
      const v = window.cimViewer.viewer;
      const c = v.camera.positionCartographic;
      v.camera.setView({ destination: toCartesian(c.longitude + 0.0004, c.latitude - 0.0004, 3000) });
      v.scene.requestRender();
      function toCartesian(lon: number, lat: number, h: number) {
        // WGS84 geodetic to ECEF, as Cesium's Cartesian3.fromRadians does.
        const a = 6378137;
        const e2 = 0.00669437999014;
        const n = a / Math.sqrt(1 - e2 * Math.sin(lat) ** 2);
        return {
          x: (n + h) * Math.cos(lat) * Math.cos(lon),
          y: (n + h) * Math.cos(lat) * Math.sin(lon),
          z: (n * (1 - e2) + h) * Math.sin(lat),
        };
      }
    });
    await waitForCameraStill(page);
    expect(await cameraDistanceToDevice()).toBeGreaterThan(2000);
    await page.click(`${item} .alarm-fly`);
    // Software rendering on a busy machine draws a few frames a second: wait for the arrival, not a fixed time.
    await expect.poll(cameraDistanceToDevice, { timeout: 30_000, interval: 500 }).toBeLessThan(400);
    await settle(page, 600, 300);
    expect(await page.evaluate((id) => window.cimViewer.sensorOnScreen(id), DEVICE_ID)).not.toBeNull();

    // Acknowledge: the operator pastes the admin token once, then the alarm moves on in the list and the API.
    await page.click(`${item} .alarm-ack`);
    await page.waitForSelector(".operator-dialog .operator-token", { timeout: 10_000 });
    await page.type(".operator-dialog .operator-token", ctx.demo.adminToken);
    await page.$eval(".operator-dialog .operator-name", (el) => {
      (el as HTMLInputElement).value = "";
    });
    await page.type(".operator-dialog .operator-name", OPERATOR);
    await page.click(".operator-dialog .operator-ok");
    await page.waitForSelector(`${item}[data-status="acknowledged"]`, { timeout: 30_000 });
    const acknowledged = await api<AlarmWithHistory>(`api/alarms/${alarmId}`);
    expect(acknowledged.status).toBe("acknowledged");
    expect(acknowledged.history.find((e) => e.kind === "acknowledge")?.by).toBe(OPERATOR);
    expect(await page.$(".operator-dialog")).toBeNull();

    // The alarm popup shows its details and holds the nearest-cameras list.
    await page.click(`${item} .alarm-device`);
    await page.waitForSelector(`.alarm-popup[data-alarm-id="${alarmId}"] .alarm-nearest-cameras`, {
      timeout: 10_000,
    });
    const popupText = await page.$eval(".alarm-popup", (el) => el.textContent ?? "");
    expect(popupText).toContain(DEVICE_ID);
    expect(popupText).toContain("0.03");
    await settle(page, 600, 300);
    await screenshot("popup");
  });

  it("clears the pipe colour and the list entry when the alarm is closed", async () => {
    const [alarm] = (await api<{ items: Alarm[] }>(`api/alarms?device=${DEVICE_ID}&status=open`)).items;
    expect(alarm?.status).toBe("acknowledged");
    // Pressure back to normal (the condition clears), then the rest of the closed loop.
    await publishPressure(0.3, t0);
    await expect
      .poll(async () => (await api<Alarm>(`api/alarms/${alarm.id}`)).active, { timeout: 30_000 })
      .toBe(false);
    for (const step of [
      { action: "dispatch", assignee: "管网抢修一队" },
      { action: "handle" },
      { action: "verify" },
      { action: "close" },
    ])
      await api(`api/alarms/${alarm.id}/transitions`, { method: "POST", body: { ...step, by: "e2e" } });

    await page.waitForFunction(
      (id) => !document.querySelector(`.alarm-item[data-alarm-id="${id}"]`),
      {
        timeout: 30_000,
      },
      alarm.id,
    );
    await page.waitForFunction(
      (id) => {
        const m = /rgba?\(([^)]+)\)/.exec(window.cimViewer.pipeFeatureColor(id) ?? "");
        if (!m) return false;
        const [r, g, b] = m[1].split(",").map(Number);
        return r > 200 && g > 200 && b > 200;
      },
      { timeout: 30_000 },
      pipe.id,
    );
    const state = (await iot())!;
    expect(state.paintedAssets).toEqual({});
    expect(state.sensors.byState.red).toBe(0);
    expect(state.sensors.pulsing).toBe(0);
  });

  it("clusters 1500 sensors over the district and keeps drawing them", async () => {
    const layers = await api<{ id: string; bbox: number[] }[]>("api/layers");
    const [w, south, e, n] = layers.find((l) => l.id === DEMO_PIPES_LAYER_ID)!.bbox;
    const columns = 50;
    const rows = 30;
    const many = Array.from({ length: columns * rows }, (_, i) => ({
      id: `e2e-noise-${i}`,
      type: "noise",
      name: `噪声监测点 ${i}`,
      lon: w + ((e - w) * ((i % columns) + 0.5)) / columns,
      lat: south + ((n - south) * (Math.floor(i / columns) + 0.5)) / rows,
      height: 0,
    }));
    await api("api/devices", { method: "POST", body: many });
    const before = (await iot())!.sensors.count;
    const started = Date.now();
    await page.evaluate(() => window.cimViewer.reloadSensors());
    await page.waitForFunction(
      (n) => (window.cimViewer.iot()?.sensors.count ?? 0) >= n,
      { timeout: 60_000 },
      before + many.length,
    );
    const loadMs = Date.now() - started;

    // The whole district in view: markers crowd the screen and merge into clusters.
    await page.click(`li[data-layer-id="${DEMO_PIPES_LAYER_ID}"] .layer-fly`);
    await settle(page, 2000, 500);
    await page.waitForFunction(() => (window.cimViewer.iot()?.sensors.clusters ?? 0) > 0, {
      timeout: 30_000,
    });
    const state = (await iot())!.sensors;
    expect(state.count).toBe(before + many.length);
    expect(state.clusters).toBeGreaterThan(0);
    expect(state.clusters).toBeLessThan(state.count / 5);
    const frameMs = () =>
      page.evaluate(() => {
        const scene = window.cimViewer.viewer.scene;
        const canvas = document.querySelector<HTMLCanvasElement>("#cesium canvas")!;
        const gl = (canvas.getContext("webgl2") ?? canvas.getContext("webgl"))!;
        const pixel = new Uint8Array(4);
        const t = performance.now();
        // The viewer renders on request only: ask for each frame so that it is really drawn, and read a
        // pixel back so the time includes the GPU's work, not just queuing it.
        for (let i = 0; i < 5; i++) {
          scene.requestRender();
          scene.render();
          gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
        }
        return (performance.now() - t) / 5;
      });
    const shownMs = await frameMs();
    await screenshot("clusters");
    await page.click("#iot-toggle .iot-sensors-toggle");
    await page.waitForFunction(() => window.cimViewer.iot()?.sensors.show === false, { timeout: 10_000 });
    const hiddenMs = await frameMs();
    await page.click("#iot-toggle .iot-sensors-toggle");
    console.log(
      `${state.count} sensors: listed in ${loadMs} ms, ${state.clusters} clusters on screen; ` +
        `${shownMs.toFixed(0)} ms per frame with them, ${hiddenMs.toFixed(0)} ms without (software WebGL)`,
    );

    // English: the IoT parts switch language with the rest of the page.
    await page.click("#lang-toggle");
    await page.waitForFunction(
      () => document.querySelector("#alarm-panel .panel-title")?.textContent?.startsWith("Live alarms"),
      { timeout: 10_000 },
    );
    expect(await page.$eval("#iot-toggle .layer-name", (el) => el.textContent)).toBe("IoT sensors");
    expect(await page.$eval(".sensor-chart-range[data-range='24h']", (el) => el.textContent)).toBe(
      "24 hours",
    );
    await screenshot("english");
  });
});
