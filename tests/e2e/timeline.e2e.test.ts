import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type MqttClient } from "mqtt";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PIPES_LAYER_ID } from "../../cli/demo.ts";
import type { Alarm } from "../../models/alarms.ts";
import { type DemoSession, demoApi, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle, waitForTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const DEVICE_ID = "e2e-replay-pressure";
const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Hook {
  viewer: { scene: { requestRender(): void } };
  ready: Promise<void>;
  iot(): { alarms: { live: string; items: { deviceId: string; status: string }[] } } | null;
  pipeFeatureColor(id: string): string | null;
  pipesFlyTo(id: string): Promise<boolean>;
}
declare const window: { cimViewer: Hook };

let ctx: DemoSession;
let page: Page;
let publisher: MqttClient;
let pipeId: string;
const now = Date.now();
// The burst two hours ago, back to normal an hour later; an operator then closed the alarm.
const RAISED = now - 2 * HOUR;
const RECOVERED = now - HOUR;

const api = <T>(path: string, init?: { method?: string; body?: unknown }) => demoApi<T>(ctx, path, init);

const publish = (pressure: number, ts: number) =>
  publisher.publishAsync(`cim/${DEVICE_ID}/telemetry`, JSON.stringify({ ts, values: { pressure } }), {
    qos: 1,
  });

/** Drags the replay scrubber to a moment, as a user would (the range input's own input event). */
async function scrubTo(t: number): Promise<void> {
  await page.evaluate((time) => {
    const bar = document.querySelector<HTMLElement>(".timeline-bar")!;
    const input = bar.querySelector<HTMLInputElement>(".timeline-scrub")!;
    const from = Number(bar.dataset.from);
    const to = Number(bar.dataset.to);
    input.value = String(Math.round(((time - from) / (to - from)) * Number(input.max)));
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }, t);
  await page.waitForFunction(
    (time) => {
      const shown = Number(document.querySelector<HTMLElement>(".timeline-bar")!.dataset.time);
      return Math.abs(shown - time) < 200_000;
    },
    {},
    t,
  );
  // Markers and colours redraw a little after the frame (at most every 250 ms while playing).
  await settle(page, 600, 200);
}

const replayItems = () =>
  page.$$eval(`.alarm-item[data-device-id="${DEVICE_ID}"]`, (els) =>
    els.map((el) => ({
      level: (el as HTMLElement).dataset.level,
      status: (el as HTMLElement).dataset.status,
    })),
  );

const pipeIsRed = () =>
  page.evaluate((id) => {
    const m = /rgba?\(([^)]+)\)/.exec(window.cimViewer.pipeFeatureColor(id) ?? "");
    if (!m) return false;
    const [r, g, b] = m[1].split(",").map(Number);
    return r > 200 && g < 90 && b < 90;
  }, pipeId);

/**
 * Whether the pipe turns (or stays) red within a few frames: a restyle reaches the drawn tiles on the next
 * rendered frame, which takes seconds when software WebGL shares the cores with other tests.
 */
async function pipeRedSoon(expected: boolean): Promise<boolean> {
  for (const until = Date.now() + 10_000; Date.now() < until; ) {
    if ((await pipeIsRed()) === expected) return expected;
    await page.evaluate(() => window.cimViewer.viewer.scene.requestRender());
    await new Promise((r) => setTimeout(r, 250));
  }
  return !expected;
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-timeline-");
  page = ctx.page;
  const { links } = await api<{ links: { id: string; pipeClass: string; path: number[][] }[] }>(
    `tiles/${DEMO_PIPES_LAYER_ID}/network.json`,
  );
  const link = links.find((l) => l.pipeClass === "JS" && l.path.length === 2)!;
  pipeId = link.id;
  const [a, b] = link.path;
  await api("api/devices", {
    method: "POST",
    body: {
      id: DEVICE_ID,
      type: "pipe_pressure",
      name: "回放测试压力计",
      lon: (a[0] + b[0]) / 2,
      lat: (a[1] + b[1]) / 2,
      height: (a[2] + b[2]) / 2,
      layerId: DEMO_PIPES_LAYER_ID,
      featureId: pipeId,
    },
  });
  // Back-dated history: keep the offline sweep and the rate rule out of it.
  for (const rule of [
    { kind: "offline", limits: { yellow: 86_400 } },
    { kind: "rate", quantity: "pressure", limits: { yellow: 100 } },
  ])
    await api("api/alarm-rules", { method: "POST", body: { scope: "device", target: DEVICE_ID, ...rule } });
  publisher = await mqtt.connectAsync(ctx.demo.mqttUrl, {
    clientId: `cim-e2e-timeline-${process.pid}`,
    clean: true,
  });
  for (const [minutesAgo, p] of [
    [180, 0.33],
    [150, 0.32],
  ] as const)
    await publish(p, now - minutesAgo * MINUTE);
  await publish(0.02, RAISED);
  await publish(0.31, RECOVERED);
  // The closed loop, done by the operator just now.
  // Alarms are judged just after the commit that acknowledged the reading.
  let alarm: Alarm | undefined;
  for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
    [alarm] = (await api<{ items: Alarm[] }>(`api/alarms?device=${DEVICE_ID}`)).items;
    if (alarm && !alarm.active) break;
  }
  expect(alarm).toMatchObject({ kind: "lower", peakLevel: "red", active: false });
  for (const step of [
    { action: "acknowledge" },
    { action: "dispatch", assignee: "抢修一队" },
    { action: "handle" },
    { action: "verify" },
    { action: "close" },
  ])
    await api(`api/alarms/${alarm!.id}/transitions`, { method: "POST", body: { by: "值班员", ...step } });

  await openViewerPage(ctx.page, ctx.pageUrl, () => window.cimViewer.iot()?.alarms.live === "open");
  await waitForTiles(page);
  await page.evaluate((id) => window.cimViewer.pipesFlyTo(id), pipeId);
  await settle(page, 1200, 300);
}, 300_000);

afterAll(async () => {
  await publisher?.endAsync();
  await ctx?.close();
});

describe("time travel over the last 24 hours", () => {
  it("replays a closed alarm on the alarm list and on its pipe, and returns to live", async () => {
    // Live: the alarm is closed, so nothing is listed and the pipe has its normal colour.
    expect(await replayItems()).toEqual([]);
    expect(await pipeRedSoon(false)).toBe(false);

    const enter = await page.waitForSelector(".timeline-enter");
    await enter!.click();
    await page.waitForSelector('.timeline-bar[data-active="true"]', { timeout: 30_000 });

    await scrubTo(RAISED + 10 * MINUTE);
    expect(await replayItems()).toEqual([{ level: "red", status: "raised" }]);
    expect(await pipeRedSoon(true)).toBe(true);
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, "timeline-replay.png"), await page.screenshot({ type: "png" }));

    // Recovered but nobody has closed it yet: still listed (the closed loop), no longer active.
    await scrubTo(RECOVERED + 10 * MINUTE);
    expect(await replayItems()).toEqual([{ level: "red", status: "raised" }]);

    // Before the burst: nothing.
    await scrubTo(RAISED - 20 * MINUTE);
    expect(await replayItems()).toEqual([]);
    expect(await pipeRedSoon(false)).toBe(false);

    // Playing forward at 3600x passes the burst again.
    await scrubTo(RAISED - 2 * MINUTE);
    await page.select(".timeline-speed", "3600");
    await page.click(".timeline-play");
    await page.waitForSelector(`.alarm-item[data-device-id="${DEVICE_ID}"][data-level="red"]`, {
      timeout: 30_000,
    });
    await page.click(".timeline-play");

    await page.click(".timeline-exit");
    await page.waitForSelector('.timeline-bar[data-active="false"]');
    await settle(page, 600, 200);
    expect(await replayItems()).toEqual([]);
    expect(await pipeRedSoon(false)).toBe(false);
  });
});
