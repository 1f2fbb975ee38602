import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type MqttClient } from "mqtt";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alarm, AlarmWithHistory } from "../../models/alarms.ts";
import type { CitySummary } from "../../models/cockpit.ts";
import type { Device } from "../../models/devices.ts";
import type { ReadingRow } from "../../models/telemetry.ts";
import type { CimCockpitHook } from "../../viewer/src/cockpit/test-hook.ts";
import { type DemoSession, demoApi, startDemoSession } from "../support/demo-session.ts";

/**
 * The cockpit's modes, driven through the real mouse and keyboard in one page: what each audience
 * (`?role=public|department|leader`) is shown, wartime with its dispatch panel, the automatic tour, and time
 * travel over the last 24 hours.
 *
 * Test devices give the roles something to tell apart: a water-company sensor (not shared with the public)
 * and another department's one shared unconditionally, both in red alarm now; a water sensor whose red alarm
 * happened hours ago and has been closed since (for the replay); two more that raise red alarms in wartime.
 */

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Red now, owned by the water company, shared on conditions only. */
const WATER = { id: "e2e-modes-water", name: "E2E 水务压力计" };
/** Red now, owned by another department, shared unconditionally. */
const SHARED = { id: "e2e-modes-shared", name: "E2E 公共压力计" };
/** Red three hours ago, recovered, closed by an operator since. */
const PAST = { id: "e2e-modes-past", name: "E2E 回放压力计" };
/** Quiet until wartime: a new red alarm of the water company, and one of another department. */
const WATER_LATE = { id: "e2e-modes-water-late", name: "E2E 水务压力计二" };
const OTHER_LATE = { id: "e2e-modes-other-late", name: "E2E 他部门压力计" };
/** Demo devices the test ones borrow their place, pipe and department from. */
const WATER_DEMO = "PRS-01";
const PAST_DEMO = "PRS-02";
const now = Date.now();
const RAISED = now - 3 * HOUR;
const RECOVERED = now - 2 * HOUR;
const ASSIGNEE = "抢修一队";
const REASSIGNEE = "抢修二队";
const OPERATOR = "E2E 值班长";

declare const window: { cimCockpit: CimCockpitHook };

let ctx: DemoSession;
let page: Page;
let publisher: MqttClient;
let devices: Device[];
let waterDept: string;
let otherDept: string;
const alarmIds: Record<string, number> = {};

const api = <T>(path: string, init?: { method?: string; body?: unknown }) => demoApi<T>(ctx, path, init);

const publish = (deviceId: string, pressure: number, ts: number) =>
  publisher.publishAsync(`cim/${deviceId}/telemetry`, JSON.stringify({ ts, values: { pressure } }), {
    qos: 1,
  });

/** The device's alarm once the engine has judged the reading (`until` says when it is there). */
async function waitForAlarm(deviceId: string, until: (a: Alarm) => boolean): Promise<Alarm> {
  let alarm: Alarm | undefined;
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
    [alarm] = (await api<{ items: Alarm[] }>(`api/alarms?device=${deviceId}`)).items;
    if (alarm && until(alarm)) return alarm;
  }
  throw new Error(`no alarm for ${deviceId} as expected: ${JSON.stringify(alarm)}`);
}

async function openCockpit(query: string): Promise<void> {
  await page.goto(new URL(`cockpit${query}`, ctx.pageUrl).href, { waitUntil: "load" });
  await page.waitForFunction(() => window.cimCockpit !== undefined, { timeout: 60_000 });
  await page.evaluate(() => window.cimCockpit.ready);
  await page.waitForFunction(() => window.cimCockpit.live().status === "open", { timeout: 30_000 });
}

/** Whether the element is laid out on screen (not `hidden`, not `display: none`, nor inside such). */
async function shown(selector: string): Promise<boolean> {
  const el = await page.$(selector);
  return el !== null && (await el.boundingBox()) !== null;
}

/** Alarm ids in the ticker along the bottom, as its items carry them. */
const tickerIds = () =>
  page.$$eval(".cockpit-ticker-item", (els) => els.map((el) => Number((el as HTMLElement).dataset.alarmId)));

/** The devices behind the ticker's items, looked up through the API (the page is not asked). */
async function tickerDevices(): Promise<Device[]> {
  const { items } = await api<{ items: Alarm[] }>("api/alarms?limit=500");
  const deviceOf = new Map(items.map((a) => [a.id, a.deviceId]));
  const byId = new Map(devices.map((d) => [d.id, d]));
  return (await tickerIds()).map((id) => {
    const device = byId.get(deviceOf.get(id) ?? "");
    if (!device) throw new Error(`ticker item ${id} has no known device`);
    return device;
  });
}

/** Texts the live chart and the K-line draw (legend, title): the sensors a viewer can read off them. */
const chartTexts = () =>
  page.$$eval("#chart-live svg text, #chart-kline svg text", (els) => els.map((el) => el.textContent ?? ""));

/** A device name as the live chart's legend writes it (long names are cut). */
const legendName = (name: string) => (name.length > 9 ? `${name.slice(0, 8)}…` : name);

/** No chart text names a device outside `allowed`; `expected` is named. */
async function expectChartsShowOnly(allowed: (d: Device) => boolean, expected: string): Promise<void> {
  await page.waitForFunction(
    (name) =>
      [...document.querySelectorAll("#chart-live svg text, #chart-kline svg text")].some((el) =>
        el.textContent?.includes(name),
      ),
    { timeout: 20_000 },
    expected,
  );
  const texts = await chartTexts();
  const leaked = devices
    .filter((d) => !allowed(d))
    .filter((d) => texts.some((t) => t === legendName(d.name) || t.startsWith(`${d.name} (`)))
    .map((d) => d.id);
  expect(leaked).toEqual([]);
}

const kpi = (key: string) =>
  page.$eval(`[data-kpi="${key}"]`, (el) => Number((el as HTMLElement).dataset.value));

async function screenshot(name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, `cockpit-${name}.png`), await page.screenshot({ type: "png" }));
}

const camera = () => page.evaluate(() => window.cimCockpit.camera());

/** Metres between two camera positions (equirectangular: they are a few km apart at most). */
function metresBetween(a: { lon: number; lat: number; height: number }, b: typeof a): number {
  const k = (6_378_137 * Math.PI) / 180;
  return Math.hypot(
    (a.lon - b.lon) * k * Math.cos((a.lat * Math.PI) / 180),
    (a.lat - b.lat) * k,
    a.height - b.height,
  );
}

/** A viewport point where the 3D scene itself (not a panel, popup or card over it) takes the mouse. */
async function pointOnScene(): Promise<{ x: number; y: number }> {
  const point = await page.evaluate(() => {
    const canvas = window.cimCockpit.viewer.scene.canvas;
    for (let fy = 0.3; fy <= 0.7; fy += 0.05)
      for (let fx = 0.4; fx <= 0.6; fx += 0.05) {
        const x = Math.round(innerWidth * fx);
        const y = Math.round(innerHeight * fy);
        if (document.elementFromPoint(x, y) === canvas) return { x, y };
      }
    return null;
  });
  expect(point, "no uncovered point on the 3D scene").not.toBeNull();
  return point!;
}

/**
 * Moves the replay scrubber to a moment by clicking its track, as a user would, nudging once or twice if the
 * thumb's width put the first click off. Returns the replayed moment the bar shows.
 */
async function scrubTo(target: number): Promise<number> {
  const { from, to } = await page.$eval(".timeline-bar", (el) => ({
    from: Number((el as HTMLElement).dataset.from),
    to: Number((el as HTMLElement).dataset.to),
  }));
  const box = (await (await page.$(".timeline-scrub"))!.boundingBox())!;
  const y = box.y + box.height / 2;
  let x = box.x + (box.width * (target - from)) / (to - from);
  let time = Number.NaN;
  for (let attempt = 0; attempt < 4; attempt++) {
    await page.mouse.click(x, y);
    time = await page.$eval(".timeline-bar", (el) => Number((el as HTMLElement).dataset.time));
    if (Math.abs(time - target) < 10 * MINUTE) break;
    x += ((target - time) / (to - from)) * box.width;
  }
  return time;
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-cockpit-modes-");
  page = ctx.page;
  const demo = await api<Device[]>("api/devices");
  const waterDemo = demo.find((d) => d.id === WATER_DEMO)!;
  const pastDemo = demo.find((d) => d.id === PAST_DEMO)!;
  waterDept = waterDemo.department!;
  // Another department with devices in the demo, for the shared sensor.
  otherDept = demo.find((d) => d.department && d.department !== waterDept && d.sharing === "unconditional")!
    .department!;
  const at = (d: Device) => ({
    lon: d.lon,
    lat: d.lat,
    height: d.height,
    layerId: d.layerId ?? undefined,
    featureId: d.featureId ?? undefined,
  });
  for (const body of [
    { ...WATER, ...at(waterDemo), department: waterDept, sharing: "conditional" },
    {
      ...SHARED,
      ...at(pastDemo),
      layerId: undefined,
      featureId: undefined,
      department: otherDept,
      sharing: "unconditional",
    },
    { ...PAST, ...at(pastDemo), department: waterDept, sharing: "conditional" },
    { ...WATER_LATE, ...at(pastDemo), department: waterDept, sharing: "conditional" },
    { ...OTHER_LATE, ...at(pastDemo), department: otherDept, sharing: "none" },
  ])
    await api("api/devices", { method: "POST", body: { type: "pipe_pressure", ...body } });
  devices = await api<Device[]>("api/devices");

  // Back-dated history: keep the offline sweep and the rate rule out of it (as the timeline test does).
  for (const rule of [
    { kind: "offline", limits: { yellow: 86_400 } },
    { kind: "rate", quantity: "pressure", limits: { yellow: 100 } },
  ])
    await api("api/alarm-rules", { method: "POST", body: { scope: "device", target: PAST.id, ...rule } });
  publisher = await mqtt.connectAsync(ctx.demo.mqttUrl, {
    clientId: `cim-e2e-cockpit-modes-${process.pid}`,
    clean: true,
  });
  await publish(PAST.id, 0.33, now - 5 * HOUR);
  await publish(PAST.id, 0.32, now - 4 * HOUR);
  await publish(PAST.id, 0.02, RAISED);
  await publish(PAST.id, 0.31, RECOVERED);
  const past = await waitForAlarm(PAST.id, (a) => !a.active);
  expect(past).toMatchObject({ kind: "lower", peakLevel: "red" });
  for (const step of [
    { action: "acknowledge" },
    { action: "dispatch", assignee: "抢修二队" },
    { action: "handle" },
    { action: "verify" },
    { action: "close" },
  ])
    await api(`api/alarms/${past.id}/transitions`, { method: "POST", body: { by: "值班员", ...step } });
  alarmIds[PAST.id] = past.id;

  // Below the red lower limit of water-supply pressure (0.05 MPa); the water sensor's alarm is the newer one,
  // so it is the one wartime puts first.
  await publish(SHARED.id, 0.02, Date.now());
  alarmIds[SHARED.id] = (await waitForAlarm(SHARED.id, (a) => a.level === "red")).id;
  await new Promise((r) => setTimeout(r, 50));
  await publish(WATER.id, 0.02, Date.now());
  alarmIds[WATER.id] = (await waitForAlarm(WATER.id, (a) => a.level === "red")).id;

  await page.setViewport({ width: 1280, height: 720 });
}, 300_000);

afterAll(async () => {
  await publisher?.endAsync();
  await ctx?.close();
});

describe("cockpit modes", () => {
  it("shows each audience only its devices; the public gets no dispatch controls", async () => {
    // The public, even with wartime asked for in the address.
    await openCockpit("?role=public&mode=war");
    expect(await page.$eval("#cockpit-role", (el) => el.textContent)).toBe("公众视图");
    const shared = (d: Device) => d.sharing === "unconditional";
    expect(devices.filter(shared).length).toBeGreaterThan(1);
    expect(devices.filter((d) => !shared(d)).length).toBeGreaterThan(1);
    expect(await page.evaluate(() => window.cimCockpit.overview().devices)).toBe(
      devices.filter(shared).length,
    );
    // The KPI figures count the shared devices only, too.
    expect(await kpi("devices.total")).toBe(devices.filter(shared).length);
    const publicTicker = await tickerIds();
    expect(publicTicker).toContain(alarmIds[SHARED.id]);
    expect(publicTicker).not.toContain(alarmIds[WATER.id]);
    expect((await tickerDevices()).filter((d) => !shared(d)).map((d) => d.id)).toEqual([]);
    await expectChartsShowOnly(shared, SHARED.name);
    expect(await page.evaluate(() => window.cimCockpit.mode())).toBe("peace");
    expect(await page.$eval("body", (el) => el.dataset.mode)).toBe("peace");
    expect(await shown('.cockpit-mode [data-mode="war"]')).toBe(false);
    expect(await shown('[data-panel="dispatch"]')).toBe(false);
    expect(await page.$$(".dispatch-send, .dispatch-assignee")).toEqual([]);
    // Replaying the past keeps to the shared devices too: the water sensor's red alarm three hours ago is
    // neither in the ticker nor on the overview's heat map.
    await page.click(".timeline-enter");
    await page.waitForSelector('.timeline-bar[data-active="true"]', { timeout: 30_000 });
    // The header's badge no longer says 实时 (live) while the screen shows the past.
    expect(
      await page.$eval("#cockpit-live", (el) => [(el as HTMLElement).dataset.status, el.textContent]),
    ).toEqual(["replay", "回放中"]);
    expect(await scrubTo(RAISED - 90 * MINUTE)).toBeLessThan(RAISED);
    const heatBefore = await page.evaluate(() => window.cimCockpit.overview().alarms);
    expect(await scrubTo(RAISED + 30 * MINUTE)).toBeGreaterThan(RAISED);
    expect(await tickerIds()).not.toContain(alarmIds[PAST.id]);
    expect(await page.evaluate(() => window.cimCockpit.overview().alarms)).toBe(heatBefore);

    // The water company: its own devices.
    await openCockpit(`?role=department&dept=${encodeURIComponent(waterDept)}`);
    expect(await page.$eval("#cockpit-role", (el) => el.textContent)).toBe("部门视图");
    const own = (d: Device) => d.department === waterDept;
    expect(await page.evaluate(() => window.cimCockpit.overview().devices)).toBe(devices.filter(own).length);
    expect(await kpi("devices.total")).toBe(devices.filter(own).length);
    const deptTicker = await tickerIds();
    expect(deptTicker).toContain(alarmIds[WATER.id]);
    expect(deptTicker).not.toContain(alarmIds[SHARED.id]);
    expect((await tickerDevices()).filter((d) => !own(d)).map((d) => d.id)).toEqual([]);
    const firstWaterSensor = devices.find((d) => own(d) && d.type === "pipe_pressure")!;
    await expectChartsShowOnly(own, legendName(firstWaterSensor.name));
    // Wartime for the water company: its most urgent alarm is put first, and a new red alarm takes the screen
    // only if it is the company's own.
    await page.click('.cockpit-mode [data-mode="war"]');
    await page.waitForSelector(`[data-panel="dispatch"][data-alarm-id="${alarmIds[WATER.id]}"]`, {
      visible: true,
      timeout: 10_000,
    });
    await page.evaluate(() => {
      const panel = document.querySelector<HTMLElement>('[data-panel="dispatch"]')!;
      const seen: string[] = [];
      (window as unknown as { dispatchSeen: string[] }).dispatchSeen = seen;
      new MutationObserver(() => seen.push(panel.dataset.alarmId ?? "")).observe(panel, {
        attributeFilter: ["data-alarm-id"],
      });
    });
    await publish(OTHER_LATE.id, 0.02, Date.now());
    alarmIds[OTHER_LATE.id] = (await waitForAlarm(OTHER_LATE.id, (a) => a.level === "red")).id;
    await publish(WATER_LATE.id, 0.02, Date.now());
    alarmIds[WATER_LATE.id] = (await waitForAlarm(WATER_LATE.id, (a) => a.level === "red")).id;
    await page.waitForSelector(`[data-panel="dispatch"][data-alarm-id="${alarmIds[WATER_LATE.id]}"]`, {
      timeout: 15_000,
    });
    expect(
      await page.evaluate(() => (window as unknown as { dispatchSeen: string[] }).dispatchSeen),
    ).not.toContain(String(alarmIds[OTHER_LATE.id]));
    expect(await tickerIds()).not.toContain(alarmIds[OTHER_LATE.id]);

    // The leadership: everything.
    await openCockpit("");
    expect(await page.$eval("#cockpit-role", (el) => el.textContent)).toBe("领导视图");
    expect(await page.evaluate(() => window.cimCockpit.overview().devices)).toBe(devices.length);
    expect(await kpi("devices.total")).toBe(devices.length);
    expect(await tickerIds()).toEqual(expect.arrayContaining(Object.values(alarmIds)));
    expect(await shown('.cockpit-mode [data-mode="war"]')).toBe(true);
  }, 240_000);

  it("switches to wartime, dispatches the most urgent alarm from the panel and switches back", async () => {
    expect(await shown('[data-panel="overview"]')).toBe(true);
    expect(await shown('[data-panel="kline"]')).toBe(true);
    await page.click('.cockpit-mode [data-mode="war"]');
    await page.waitForFunction(() => document.body.dataset.mode === "war");
    expect(await page.evaluate(() => window.cimCockpit.mode())).toBe("war");
    // The event-focused layout: the overview and K-line give way to the dispatch panel.
    expect(await shown('[data-panel="overview"]')).toBe(false);
    expect(await shown('[data-panel="kline"]')).toBe(false);
    expect(await shown('[data-panel="dispatch"]')).toBe(true);
    // First the most urgent alarm: the newest of the active red ones.
    const [urgent] = (await api<{ items: Alarm[] }>("api/alarms?status=open&active=true&level=red&limit=1"))
      .items;
    expect(urgent?.deviceId).toBe(WATER_LATE.id);
    await page.waitForSelector(`[data-panel="dispatch"][data-alarm-id="${urgent!.id}"] .dispatch-assignee`, {
      visible: true,
      timeout: 10_000,
    });
    expect(await page.$eval('[data-panel="dispatch"] h2', (el) => el.textContent)).toBe("指挥调度");
    // The duty officer picks another one in the ticker.
    const alarmId = alarmIds[WATER.id];
    await page.click(`.cockpit-ticker-item[data-alarm-id="${alarmId}"]`);
    await page.waitForSelector(`[data-panel="dispatch"][data-alarm-id="${alarmId}"] .dispatch-assignee`, {
      visible: true,
      timeout: 10_000,
    });
    expect(await page.$eval(".cockpit-dispatch-alarm strong", (el) => el.textContent)).toBe(WATER.name);
    // Proposed: the sensor's owner department.
    expect(await page.$eval(".dispatch-assignee", (el) => (el as HTMLInputElement).value)).toBe(waterDept);
    // The scene flies to the alarm as well.
    await page.waitForFunction(
      (id) => window.cimCockpit.focus()?.alarmId === id && window.cimCockpit.focus()?.flown === true,
      { timeout: 60_000 },
      alarmId,
    );

    await page.click(".dispatch-assignee", { clickCount: 3 });
    await page.keyboard.press("Backspace");
    await page.type(".dispatch-assignee", ASSIGNEE);
    await page.type(".dispatch-note", "立即关阀抢修");
    await page.click(".dispatch-send");
    // No operator in this tab yet: the page asks for the admin token and a name.
    await page.waitForSelector(".operator-dialog .operator-token", { visible: true, timeout: 10_000 });
    await page.type(".operator-token", ctx.demo.adminToken);
    await page.click(".operator-name", { clickCount: 3 });
    await page.keyboard.press("Backspace");
    await page.type(".operator-name", OPERATOR);
    await page.click(".operator-ok");
    await page.waitForSelector('[data-panel="dispatch"][data-state="done"]', { timeout: 20_000 });
    expect(await page.$eval(".dispatch-result", (el) => el.textContent)).toContain(ASSIGNEE);

    const alarm = await api<AlarmWithHistory>(`api/alarms/${alarmId}`);
    expect(alarm).toMatchObject({ status: "dispatched", assignee: ASSIGNEE });
    const actions = alarm.history.filter((h) => h.by === OPERATOR);
    expect(actions.map((h) => h.kind)).toEqual(["acknowledge", "dispatch"]);
    expect(actions[1]).toMatchObject({ toStatus: "dispatched", assignee: ASSIGNEE, note: "立即关阀抢修" });
    // The live alarm event brings the new status to the ticker.
    await page.waitForSelector(`.cockpit-ticker-item[data-alarm-id="${alarmId}"][data-status="dispatched"]`, {
      timeout: 15_000,
    });
    // The panel and the alarm card say so too.
    expect(await page.$eval(".cockpit-dispatch-alarm", (el) => el.textContent)).toContain("已派单");
    await page.waitForSelector('.cockpit-focus-status[data-status="dispatched"]', { timeout: 5000 });
    expect(await page.$eval(".cockpit-focus-status", (el) => el.textContent)).toBe("已派单");
    // The card and the ticker tell the time on the city's clock, whatever this browser's time zone (UTC here).
    const tickerTime = await page.$eval(
      `.cockpit-ticker-item[data-alarm-id="${alarmId}"] .cockpit-ticker-time`,
      (el) => el.textContent ?? "",
    );
    expect(await page.$eval("#cockpit-focus", (el) => el.textContent)).toContain(tickerTime);

    // Re-assigned from the same form: the operator is remembered for the session, and the alarm is not
    // acknowledged a second time.
    await page.click(".dispatch-assignee", { clickCount: 3 });
    await page.keyboard.press("Backspace");
    await page.type(".dispatch-assignee", REASSIGNEE);
    await page.click(".dispatch-send");
    await page.waitForFunction(
      (who) => {
        const panel = document.querySelector<HTMLElement>('[data-panel="dispatch"]')!;
        return (
          panel.dataset.state === "error" ||
          (panel.dataset.state === "done" &&
            panel.querySelector(".dispatch-result")?.textContent?.includes(who))
        );
      },
      { timeout: 20_000 },
      REASSIGNEE,
    );
    expect(await page.$eval(".dispatch-result", (el) => el.textContent)).toContain(REASSIGNEE);
    expect(await page.$(".operator-dialog")).toBeNull();
    const reassigned = await api<AlarmWithHistory>(`api/alarms/${alarmId}`);
    expect(reassigned).toMatchObject({ status: "dispatched", assignee: REASSIGNEE });
    expect(reassigned.history.filter((h) => h.by === OPERATOR).map((h) => h.kind)).toEqual([
      "acknowledge",
      "dispatch",
      "dispatch",
    ]);
    await page.waitForFunction(() => window.cimCockpit.tilesLoaded(), { timeout: 120_000, polling: 500 });
    await screenshot("wartime");

    await page.click('.cockpit-mode [data-mode="peace"]');
    await page.waitForFunction(() => document.body.dataset.mode === "peace");
    expect(await shown('[data-panel="dispatch"]')).toBe(false);
    expect(await shown('[data-panel="overview"]')).toBe(true);
    expect(await shown('[data-panel="kline"]')).toBe(true);
  }, 180_000);

  it("tours the stops on its own and stops when the user drags the scene", async () => {
    const start = await camera();
    await page.click("#cockpit-tour");
    expect(await page.$eval("#cockpit-tour", (el) => el.getAttribute("aria-pressed"))).toBe("true");
    expect(await page.$eval("#cockpit-tour", (el) => el.textContent)).toBe("停止巡游");
    // First stop (the district) reached: `stop` names the next one.
    await page.waitForFunction(() => window.cimCockpit.tour().stop === 1, { timeout: 30_000, polling: 100 });
    const first = await camera();
    const firstAt = Date.now();
    expect(metresBetween(start, first)).toBeGreaterThan(100);
    // After the dwell (8 s), on to the BIM model.
    await page.waitForFunction(() => window.cimCockpit.tour().stop === 2, { timeout: 30_000, polling: 100 });
    expect(Date.now() - firstAt).toBeGreaterThan(7_000);
    const second = await camera();
    const secondAt = Date.now();
    expect(metresBetween(first, second)).toBeGreaterThan(100);
    expect(await page.evaluate(() => window.cimCockpit.tour().running)).toBe(true);

    // The user takes over: a drag on the scene.
    const { x, y } = await pointOnScene();
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + 120, y + 40, { steps: 8 });
    await page.mouse.up();
    expect(await page.evaluate(() => window.cimCockpit.tour().running)).toBe(false);
    expect(await page.$eval("#cockpit-tour", (el) => el.getAttribute("aria-pressed"))).toBe("false");
    expect(await page.$eval("#cockpit-tour", (el) => el.textContent)).toBe("自动巡游");
    // Past the moment the next stop was due (dwell plus a flight), the camera is where the drag left it.
    await new Promise((r) => setTimeout(r, 1_500));
    const dragged = await camera();
    expect(metresBetween(second, dragged)).toBeGreaterThan(1);
    await new Promise((r) => setTimeout(r, Math.max(0, secondAt + 11_000 - Date.now())));
    expect(await page.evaluate(() => window.cimCockpit.tour().stop)).toBe(2);
    expect(metresBetween(dragged, await camera())).toBeLessThan(1);
  }, 120_000);

  it("replays a closed red alarm in the ticker and KPIs, and returns to live", async () => {
    const pastId = alarmIds[PAST.id];
    const waterId = alarmIds[WATER.id];
    // Live: the past alarm is closed, the water one dispatched.
    expect(
      await page.$eval(
        `.cockpit-ticker-item[data-alarm-id="${pastId}"]`,
        (el) => (el as HTMLElement).dataset.status,
      ),
    ).toBe("closed");

    // Readings of the first key sensor (the live chart's and the K-line's) around the burst, three hours ago.
    const keys = Object.keys(await page.evaluate(() => window.cimCockpit.live().points));
    expect(devices.find((d) => d.id === keys[0])?.type).toBe("pipe_pressure");
    await publish(keys[0], 0.41, RAISED - 20 * MINUTE);
    await publish(keys[0], 0.42, RAISED - 5 * MINUTE);

    await page.click(".timeline-enter");
    await page.waitForSelector('.timeline-bar[data-active="true"]', { timeout: 30_000 });

    // During the burst: the alarm is red and only raised, counted as open and active.
    const during = await scrubTo(RAISED + 30 * MINUTE);
    expect(during).toBeGreaterThan(RAISED);
    expect(during).toBeLessThan(RECOVERED);
    // The charts tell the replayed time too: the hour before it (one point a minute) and the day before it.
    const pressureBefore = async (id: string, span: number) =>
      (await api<ReadingRow[]>(`api/sensors/${id}/readings?from=${during - span}&to=${during + 1}`))
        .filter((r) => r.quantity === "pressure")
        .map((r) => Date.parse(r.ts));
    const expectedPoints: Record<string, number> = {};
    // One-minute averages, each drawn at its minute's start: those within the hour up to the replayed moment.
    for (const id of keys)
      expectedPoints[id] = new Set(
        (await pressureBefore(id, HOUR + MINUTE))
          .map((ts) => Math.floor(ts / MINUTE) * MINUTE)
          .filter((m) => m > during - HOUR),
      ).size;
    expect(expectedPoints[keys[0]]).toBeGreaterThanOrEqual(1);
    await page.waitForFunction(
      (expected) => JSON.stringify(window.cimCockpit.live().points) === expected,
      { timeout: 10_000 },
      JSON.stringify(expectedPoints),
    );
    const hours = [
      ...new Set((await pressureBefore(keys[0], 24 * HOUR)).map((ts) => Math.floor(ts / HOUR) * HOUR)),
    ];
    const expectedKline = {
      mode: "replay",
      candles: String(hours.length),
      lastHour: String(Math.max(...hours)),
    };
    await page
      .waitForFunction(
        (want) => {
          const d = document.querySelector<HTMLElement>("#chart-kline")?.dataset;
          return d?.mode === want.mode && d.candles === want.candles && d.lastHour === want.lastHour;
        },
        { timeout: 10_000 },
        expectedKline,
      )
      .catch(() => undefined);
    expect(await page.$eval("#chart-kline", (el) => ({ ...(el as HTMLElement).dataset }))).toMatchObject(
      expectedKline,
    );
    expect(await page.$eval("#chart-live", (el) => (el as HTMLElement).dataset.mode)).toBe("replay");
    await screenshot("replay");
    await page.waitForSelector(
      `.cockpit-ticker-item[data-alarm-id="${pastId}"][data-level="red"][data-status="raised"]`,
      { timeout: 5_000 },
    );
    expect(await tickerIds()).not.toContain(waterId);
    const activeDuring = await kpi("alarms.open.active");
    const openDuring = await kpi("alarms.open.total");
    const heatDuring = await page.evaluate(() => window.cimCockpit.overview().alarms);

    // Before it: not there, one fewer open and active.
    const before = await scrubTo(RAISED - 90 * MINUTE);
    expect(before).toBeLessThan(RAISED);
    expect(await tickerIds()).not.toContain(pastId);
    expect(await kpi("alarms.open.active")).toBe(activeDuring - 1);
    expect(await kpi("alarms.open.total")).toBe(openDuring - 1);
    expect(await page.evaluate(() => window.cimCockpit.overview().alarms)).toBe(heatDuring - 1);

    await page.click(".timeline-exit");
    await page.waitForSelector('.timeline-bar[data-active="false"]', { timeout: 10_000 });
    await page.waitForSelector(`.cockpit-ticker-item[data-alarm-id="${waterId}"][data-status="dispatched"]`, {
      timeout: 10_000,
    });
    expect(
      await page.$eval(
        `.cockpit-ticker-item[data-alarm-id="${pastId}"]`,
        (el) => (el as HTMLElement).dataset.status,
      ),
    ).toBe("closed");
    expect(
      await page.$eval("#cockpit-live", (el) => [(el as HTMLElement).dataset.status, el.textContent]),
    ).toEqual(["open", "实时"]);
    // The charts are live again: the readings of three hours ago are out of the live chart's hour.
    expect(await page.$eval("#chart-live", (el) => (el as HTMLElement).dataset.mode)).toBe("live");
    expect(await page.$eval("#chart-kline", (el) => (el as HTMLElement).dataset.mode)).toBe("live");
    const lastHour = await api<ReadingRow[]>(`api/sensors/${keys[0]}/readings?from=${Date.now() - HOUR}`);
    expect((await page.evaluate(() => window.cimCockpit.live().points))[keys[0]]).toBe(
      lastHour.filter((r) => r.quantity === "pressure").length,
    );
    const live = await api<CitySummary>("api/cockpit/summary");
    expect(await kpi("alarms.open.active")).toBe(live.alarms.open.active);
    expect(await kpi("alarms.open.total")).toBe(live.alarms.open.total);
  }, 120_000);
});
