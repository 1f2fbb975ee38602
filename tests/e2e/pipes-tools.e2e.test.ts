import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle as settleViewer, waitForTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const PIPES_LAYER = "demo-pipes";

interface Point {
  x: number;
  y: number;
}
interface Hook {
  ready: Promise<void>;
  findFeatureOnScreen(
    predicate?: (p: Record<string, unknown>) => boolean,
    options?: { step?: number; margin?: number },
  ): (Point & { properties: Record<string, unknown> }) | null;
  featureAt(x: number, y: number): Record<string, unknown> | null;
  screenPosition(lon: number, lat: number, height: number): Point | null;
  pipes(): { analysis: string } | null;
  pipesFlyTo(id: string): Promise<boolean>;
  viewer: {
    camera: {
      pitch: number;
      positionCartographic: { height: number };
      zoomIn(m: number): void;
      zoomOut(m: number): void;
    };
  };
  excavation(): {
    drawing: boolean;
    drawnPoints: number;
    pits: { ring: [number, number][]; depth: number; floor: number }[];
    clipping: { supported: boolean; enabled: boolean; polygons: number };
    depthTestAgainstTerrain: boolean;
    depth: number;
  } | null;
  crossSection(): {
    status: string;
    line: [number, number][] | null;
    crossings: string[];
    chartOpen: boolean;
  } | null;
}
declare const window: { cimViewer: Hook };

interface NetLink {
  id: string;
  kind: string;
  pipeClass: string;
  from: string;
  to: string;
  path: [number, number, number][];
}
interface Trace {
  links: string[];
  mode: string;
  counts: { links: number };
}

let ctx: DemoSession;
let page: Page;
let pageUrl: string;
let links: NetLink[];
const settle = (ms?: number) => settleViewer(page, ms, 300);
const api = async <T>(path: string): Promise<T> => (await (await fetch(new URL(path, pageUrl))).json()) as T;

async function screenshot(name: string): Promise<Buffer> {
  await mkdir(ARTIFACTS, { recursive: true });
  const png = Buffer.from(await page.screenshot({ type: "png" }));
  await writeFile(join(ARTIFACTS, `pipes-tools-${name}.png`), png);
  return png;
}

/** Metres east / north of a point to lon / lat. */
function offset([lon, lat]: [number, number], east: number, north: number): [number, number] {
  const ky = (6_378_137 * Math.PI) / 180;
  return [lon + east / (ky * Math.cos((lat * Math.PI) / 180)), lat + north / ky];
}

/** Plan length (m), midpoint and unit direction (east, north) of a straight link. */
function geometry(l: NetLink) {
  const a = l.path[0];
  const b = l.path[l.path.length - 1];
  const ky = (6_378_137 * Math.PI) / 180;
  const dx = (b[0] - a[0]) * ky * Math.cos((a[1] * Math.PI) / 180);
  const dy = (b[1] - a[1]) * ky;
  const length = Math.hypot(dx, dy);
  return {
    length,
    mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] as [number, number],
    axis: (a[2] + b[2]) / 2,
    dir: [dx / length, dy / length] as [number, number],
  };
}

/** Where a ground point is on the page; it must be on screen and not under a panel. */
async function onScreen([lon, lat]: [number, number]): Promise<Point> {
  const p = await page.evaluate((lo, la) => window.cimViewer.screenPosition(lo, la, 0.3), lon, lat);
  expect(p, `${lon},${lat} is not on screen`).not.toBeNull();
  const onCanvas = await page.evaluate(
    (x, y) => document.elementFromPoint(x, y)?.tagName === "CANVAS",
    p!.x,
    p!.y,
  );
  expect(onCanvas, `${lon},${lat} is under a panel`).toBe(true);
  return p!;
}

/** Clicks ground points on the canvas, as a user placing points does. */
async function clickGround(points: [number, number][]): Promise<void> {
  for (const point of points) {
    const p = await onScreen(point);
    await page.mouse.click(p.x, p.y);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Mean absolute RGB difference of two screenshots over a rectangle of the page. */
async function pixelDifference(
  before: Buffer,
  after: Buffer,
  box: { x0: number; y0: number; x1: number; y1: number },
) {
  return page.evaluate(
    async (a, b, r) => {
      const load = async (b64: string) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.width;
        c.height = img.height;
        const g = c.getContext("2d")!;
        g.drawImage(img, 0, 0);
        return g.getImageData(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0).data;
      };
      const [p, q] = [await load(a), await load(b)];
      let sum = 0;
      for (let i = 0; i < p.length; i += 4) {
        sum += Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1]) + Math.abs(p[i + 2] - q[i + 2]);
      }
      return sum / ((p.length / 4) * 3);
    },
    before.toString("base64"),
    after.toString("base64"),
    box,
  );
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-pipe-tools-");
  ({ page, pageUrl } = ctx);
  await openViewerPage(page, pageUrl, () => window.cimViewer!.crossSection() !== null);
  await waitForTiles(page);
  links = (await api<{ links: NetLink[] }>(`tiles/${PIPES_LAYER}/network.json`)).links;
});

afterAll(async () => {
  await ctx?.close();
});

describe("pipeline engineer viewer tools", () => {
  it("traces a sewer and shows its longitudinal profile with every traced link", async () => {
    // A sewer pipe with a few links downstream, all along one flow path.
    let start: NetLink | undefined;
    let trace: Trace | undefined;
    for (const l of links.filter((x) => x.pipeClass === "WS").slice(0, 60)) {
      const t = await api<Trace>(
        `api/pipes/${PIPES_LAYER}/trace?from=${encodeURIComponent(l.id)}&direction=down`,
      );
      if (t.counts.links >= 4 && t.counts.links <= 30 && geometry(l).length > 20) {
        start = l;
        trace = t;
        break;
      }
    }
    expect(start, "no sewer pipe with a downstream path").toBeDefined();
    await page.evaluate((id) => window.cimViewer.pipesFlyTo(id), start!.id);
    await settle(1500);
    const found = await page.evaluate(
      (id) => window.cimViewer.findFeatureOnScreen((p) => p.id === id, { step: 6, margin: 2 }),
      start!.id,
    );
    expect(found, `pipe ${start!.id} not on screen`).not.toBeNull();
    await page.mouse.click(found!.x, found!.y);
    await page.waitForFunction(
      (id) => document.querySelector<HTMLElement>("#pipe-panel .pipe-target")?.dataset.id === id,
      { timeout: 15_000 },
      start!.id,
    );
    await page.click("#pipe-panel .pipe-trace-down");
    await page.waitForSelector("#pipe-panel .pipe-profile", { timeout: 15_000 });
    await page.click("#pipe-panel .pipe-profile");
    await page.waitForSelector(".pipe-profile-popup:not(.pipe-section-popup) svg path", { timeout: 15_000 });
    const drawn = await page.$eval(
      ".pipe-profile-popup:not(.pipe-section-popup)",
      (el) => (el as HTMLElement).dataset.links,
    );
    expect(Number(drawn)).toBe(trace!.counts.links);
    await settle(500);
    await screenshot("profile");
    // The properties panel of the selected sewer overlaps the popup's close button: click it in the DOM.
    await page.$eval(".pipe-profile-popup:not(.pipe-section-popup) .panel-close", (b) =>
      (b as HTMLElement).click(),
    );
    expect(await page.$(".pipe-profile-popup")).toBeNull();
    await page.$eval("#props-panel .panel-close", (b) => (b as HTMLElement).click());
    await page.click("#pipe-panel .pipe-clear");
    await page.waitForFunction(() => window.cimViewer.pipes()?.analysis === "idle", { timeout: 10_000 });
  });

  // A long straight water main: the street it runs along is cut square across, centred on the main.
  let main: NetLink;
  let centre: [number, number];

  it("draws a cross-section across a street and charts the same pipes the API finds", async () => {
    // Of the long straight east-west water mains, the one whose street has the most pipes across it
    // (cables and gas run only along east-west streets).
    const candidates = links
      .filter(
        (l) =>
          l.pipeClass === "JS" &&
          l.kind === "pipe" &&
          l.path.length === 2 &&
          geometry(l).length > 40 &&
          Math.abs(geometry(l).dir[0]) > 0.99,
      )
      .slice(0, 25);
    const across = (l: NetLink): [number, number][] => {
      const g = geometry(l);
      const [nx, ny] = [-g.dir[1], g.dir[0]];
      return [offset(g.mid, -16 * nx, -16 * ny), offset(g.mid, 16 * nx, 16 * ny)];
    };
    let best = -1;
    for (const l of candidates) {
      const q = across(l)
        .map(([lon, lat]) => `${lon},${lat}`)
        .join(";");
      const r = await api<{ count: number }>(`api/pipes/${PIPES_LAYER}/cross-section?line=${q}`);
      if (r.count > best) {
        best = r.count;
        main = l;
      }
    }
    expect(main, "no water main in the demo").toBeDefined();
    centre = geometry(main).mid;
    const ends = across(main);
    await page.evaluate((id) => window.cimViewer.pipesFlyTo(id), main.id);
    await settle(1500);

    await page.click("#pipe-panel .pipe-section-draw");
    await page.waitForFunction(() => window.cimViewer.crossSection()?.status === "drawing", {
      timeout: 5000,
    });
    // First point a click, the last one a double click that ends the line.
    await clickGround([ends[0]]);
    const last = await onScreen(ends[1]);
    await page.mouse.click(last.x, last.y, { count: 2 });
    await page.waitForFunction(() => window.cimViewer.crossSection()?.chartOpen === true, {
      timeout: 20_000,
    });
    await page.waitForSelector(".pipe-section-popup svg text", { timeout: 15_000 });
    const state = (await page.evaluate(() => window.cimViewer.crossSection()))!;
    expect(state.status).toBe("result");
    expect(state.line).toHaveLength(2);

    // What the server says about the line the user drew.
    const line = state.line!.map(([lon, lat]) => `${lon},${lat}`).join(";");
    const result = await api<{ crossings: { link: string; pipeClass: string }[] }>(
      `api/pipes/${PIPES_LAYER}/cross-section?line=${encodeURIComponent(line)}`,
    );
    const ids = result.crossings.map((c) => c.link);
    expect(ids).toContain(main.id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect(state.crossings).toEqual(ids);
    expect(await page.$eval(".pipe-section-popup", (el) => (el as HTMLElement).dataset.crossings)).toBe(
      String(ids.length),
    );
    // Each crossing pipe is drawn and labelled in the chart: its id is a text line of the SVG.
    const texts = await page.$$eval(".pipe-section-popup svg text", (els) =>
      els.map((e) => e.textContent ?? ""),
    );
    const labelled = ids.filter((id) => texts.some((t) => t.includes(id)));
    expect(labelled).toEqual(ids);
    expect(texts.some((t) => t.includes("覆土"))).toBe(true);
    await settle(500);
    await screenshot("cross-section");

    await page.click("#pipe-panel .pipe-section-clear");
    await page.waitForFunction(() => window.cimViewer.crossSection()?.status === "idle", { timeout: 5000 });
    expect(await page.$(".pipe-section-popup")).toBeNull();
  });

  it("cancels a pit outline with Esc", async () => {
    await page.click("#pipe-panel .pipe-pit-draw");
    await page.waitForFunction(() => window.cimViewer.excavation()?.drawing === true, { timeout: 5000 });
    await clickGround([offset(centre, -5, -5)]);
    expect((await page.evaluate(() => window.cimViewer.excavation()))!.drawnPoints).toBe(1);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => window.cimViewer.excavation()?.drawing === false, { timeout: 5000 });
    expect((await page.evaluate(() => window.cimViewer.excavation()))!.pits).toEqual([]);
  });

  it("digs a pit: the ground inside is cut away and the pipes show between soil walls", async () => {
    await settle(500);
    const before = await screenshot("before-pit");
    const half = 9;
    const ring: [number, number][] = [
      offset(centre, -half, -half),
      offset(centre, half, -half),
      offset(centre, half, half),
      offset(centre, -half, half),
    ];
    // Deep enough for the drainage under the street (its cover is 5–6 m here).
    await page.click("#pipe-panel .pipe-pit-depth", { count: 3 });
    await page.keyboard.type("8");
    await page.keyboard.press("Tab");
    await page.waitForFunction(() => window.cimViewer.excavation()?.depth === 8, { timeout: 5000 });
    await page.click("#pipe-panel .pipe-pit-draw");
    await clickGround(ring);
    await page.click("#pipe-panel .pipe-pit-finish");
    await page.waitForFunction(() => window.cimViewer.excavation()?.pits.length === 1, { timeout: 10_000 });
    const state = (await page.evaluate(() => window.cimViewer.excavation()))!;
    expect(state.clipping).toEqual({ supported: true, enabled: true, polygons: 1 });
    expect(state.depthTestAgainstTerrain).toBe(true);
    expect(state.pits[0].depth).toBe(8);
    expect(state.pits[0].ring).toHaveLength(4);
    expect(await page.$eval("#pipe-panel .pipe-pit-note", (el) => (el as HTMLElement).dataset.pits)).toBe(
      "1",
    );
    await settle(1000);
    const after = await screenshot("pit");
    // A closer look for the record: 40 % of the way towards the pit, and back.
    const step = await page.evaluate(() => {
      const camera = window.cimViewer.viewer.camera;
      const d = (camera.positionCartographic.height / Math.sin(-camera.pitch)) * 0.4;
      camera.zoomIn(d);
      return d;
    });
    await settle(500);
    await screenshot("pit-close");
    await page.evaluate((d) => window.cimViewer.viewer.camera.zoomOut(d), step);
    await settle(500);

    // Inside the pit the picture changed (the ground is gone, walls and pipes show) ...
    const corners = await Promise.all(
      ring.map((p) => page.evaluate((lo, la) => window.cimViewer.screenPosition(lo, la, 0.3), p[0], p[1])),
    );
    const xs = corners.map((c) => c!.x);
    const ys = corners.map((c) => c!.y);
    const inner = {
      x0: Math.round(Math.min(...xs) + (Math.max(...xs) - Math.min(...xs)) * 0.3),
      x1: Math.round(Math.max(...xs) - (Math.max(...xs) - Math.min(...xs)) * 0.3),
      y0: Math.round(Math.min(...ys) + (Math.max(...ys) - Math.min(...ys)) * 0.3),
      y1: Math.round(Math.max(...ys) - (Math.max(...ys) - Math.min(...ys)) * 0.3),
    };
    const inside = await pixelDifference(before, after, inner);
    const outside = await pixelDifference(before, after, { x0: 0, y0: 0, x1: 120, y1: 60 });
    console.log(`pit: mean RGB change inside ${inside.toFixed(1)}, in a far corner ${outside.toFixed(1)}`);
    expect(inside).toBeGreaterThan(8);
    // ... and the water main crossing the pit can be picked there: nothing covers it.
    const g = geometry(main);
    const seen = await page.evaluate(
      (lo, la, z) => {
        const p = window.cimViewer.screenPosition(lo, la, z);
        return p && window.cimViewer.featureAt(p.x, p.y);
      },
      centre[0],
      centre[1],
      g.axis,
    );
    expect(seen?.id, "the main is not visible in the pit").toBe(main.id);

    await page.click("#pipe-panel .pipe-pit-clear");
    await page.waitForFunction(() => window.cimViewer.excavation()?.pits.length === 0, { timeout: 5000 });
    const cleared = (await page.evaluate(() => window.cimViewer.excavation()))!;
    expect(cleared.clipping.polygons).toBe(0);
    expect(cleared.depthTestAgainstTerrain).toBe(false);
    expect(ctx.session.externalRequests(pageUrl)).toEqual([]);
  });
});
