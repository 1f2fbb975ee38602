import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDemoBuildings } from "../../cli/demo.ts";
import type { BrowserSession } from "../support/browser.ts";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle as settleViewer, waitForTiles as waitForViewerTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const LAYER_ID = "demo-buildings";

type Props = Record<string, unknown>;
type Ring = [number, number][];
interface DemoBuilding {
  id: string;
  name: string;
  height: number;
  rings: Ring[];
}

// The page-side helpers are typed loosely on purpose: the test only talks to `window.cimViewer`.
interface Hook {
  ready: Promise<void>;
  tilesLoaded(id?: string): boolean;
  findFeatureOnScreen(): { x: number; y: number; properties: Props } | null;
  featureAt(x: number, y: number): Props | null;
  screenPosition(lon: number, lat: number, h: number): { x: number; y: number } | null;
  viewer: { scene: { requestRender(): void } };
}
declare const window: { cimViewer: Hook };

let session: BrowserSession;
let page: Page;
const waitForTiles = () => waitForViewerTiles(page);
const settle = (ms?: number) => settleViewer(page, ms, 0);
let dataDir: string;
let ctx: DemoSession | undefined;
let buildings: DemoBuilding[];
let pageUrl: string;

async function openViewer(query = ""): Promise<void> {
  await openViewerPage(page, `${pageUrl}${query}`);
}

/** Text of every properties-panel row, keyed by the raw property key the row shows. */
async function panelRows(): Promise<Record<string, { label: string; value: string }>> {
  return page.$$eval("#props-panel .prop-row", (rows) =>
    Object.fromEntries(
      rows.map((row) => [
        (row as HTMLElement).dataset.key ?? "",
        {
          label: row.querySelector(".prop-label")?.textContent ?? "",
          value: row.querySelector(".prop-value")?.textContent ?? "",
        },
      ]),
    ),
  );
}

async function clickAndWaitForPanel(x: number, y: number): Promise<void> {
  await page.mouse.click(x, y);
  await page.waitForSelector('#props-panel[data-selected="true"] .prop-row', { timeout: 30_000 });
}

interface ImageStats {
  stdDev: number;
  colours: number;
  /** Mean RGB in a 7x7 box around each requested point. */
  samples: [number, number, number][];
}

/** Decodes a PNG in a blank tab (no decoder package needed) and measures it. */
async function imageStats(png: Uint8Array, points: { x: number; y: number }[] = []): Promise<ImageStats> {
  const blank = await session.browser.newPage();
  try {
    return await blank.evaluate(
      async (b64: string, pts: { x: number; y: number }[]) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement("canvas");
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext("2d")!;
        ctx.drawImage(img, 0, 0);
        const { data, width } = ctx.getImageData(0, 0, img.width, img.height);
        let sum = 0;
        let sumSq = 0;
        const colours = new Set<number>();
        const n = data.length / 4;
        for (let i = 0; i < data.length; i += 4) {
          const l = 0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2];
          sum += l;
          sumSq += l * l;
          colours.add(((data[i] >> 3) << 10) | ((data[i + 1] >> 3) << 5) | (data[i + 2] >> 3));
        }
        const mean = sum / n;
        const samples = pts.map(({ x, y }) => {
          const rgb: [number, number, number] = [0, 0, 0];
          let count = 0;
          for (let dy = -3; dy <= 3; dy++) {
            for (let dx = -3; dx <= 3; dx++) {
              const i = ((Math.round(y) + dy) * width + Math.round(x) + dx) * 4;
              rgb[0] += data[i];
              rgb[1] += data[i + 1];
              rgb[2] += data[i + 2];
              count++;
            }
          }
          return rgb.map((v) => v / count) as [number, number, number];
        });
        return { stdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), colours: colours.size, samples };
      },
      Buffer.from(png).toString("base64"),
      points,
    );
  } finally {
    await blank.close();
  }
}
/**
 * The highlight is yellow whatever the light: faces in shade (the sun follows the clock) and translucent yellow over
 * dark ground are dim, so judge the hue, not the brightness.
 */
const isYellowish = ([r, g, b]: [number, number, number]) => r > 1.5 * b + 10 && g > 1.5 * b + 10;

async function screenshot(name: string): Promise<Uint8Array> {
  await mkdir(ARTIFACTS, { recursive: true });
  const png = await page.screenshot({ type: "png" });
  await writeFile(join(ARTIFACTS, `viewer-${name}.png`), png);
  return png;
}

function pointInRing([x, y]: [number, number], ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Vertex centroid of the outer ring, if it lies on the building (not in a courtyard or an L's notch). */
function roofPoint(b: DemoBuilding): [number, number] | undefined {
  const outer = b.rings[0].slice(0, -1);
  const c: [number, number] = [
    outer.reduce((s, p) => s + p[0], 0) / outer.length,
    outer.reduce((s, p) => s + p[1], 0) / outer.length,
  ];
  if (!pointInRing(c, b.rings[0]) || b.rings.slice(1).some((hole) => pointInRing(c, hole))) return undefined;
  return c;
}

function heightMetres(text: string): number {
  expect(text).toMatch(/^-?\d+(\.\d+)? m$/);
  return Number.parseFloat(text);
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-");
  ({ session, page, dataDir, pageUrl } = ctx);
  buildings = (await readDemoBuildings(dataDir)).features.map((f) => {
    const p = f.properties as Props;
    return {
      id: String(p.id),
      name: String(p.name),
      height: Number(p.height),
      rings: (f.geometry as GeoJSON.Polygon).coordinates as Ring[],
    };
  });
  await openViewer();
  await waitForTiles();
});

afterAll(async () => {
  await ctx?.close();
});

describe("viewer on the demo city", () => {
  it("lists the catalog's layer in the layer tree, shown", async () => {
    const layers = (await (await fetch(new URL("api/layers", pageUrl))).json()) as {
      id: string;
      name: string;
    }[];
    const demoLayer = layers.find((l) => l.id === LAYER_ID);
    expect(demoLayer).toBeDefined();
    const row = await page.$eval(`li[data-layer-id="${LAYER_ID}"]`, (li) => ({
      name: li.querySelector(".layer-name")?.textContent,
      checked: (li.querySelector(".layer-toggle") as HTMLInputElement).checked,
      opacity: (li.querySelector(".layer-opacity") as HTMLInputElement).value,
    }));
    expect(row).toEqual({ name: demoLayer!.name, checked: true, opacity: "100" });
  });

  it("shows a clicked building's name and height in the properties panel", async () => {
    const found = await page.evaluate(() => window.cimViewer.findFeatureOnScreen());
    expect(found, "no building found on screen").not.toBeNull();
    const picked = found!.properties;
    await clickAndWaitForPanel(found!.x, found!.y);

    const rows = await panelRows();
    expect(rows.name.value).toBe(picked.name);
    expect(rows.name.value).toMatch(/[\u4e00-\u9fff]/);
    expect(rows.name.label).toBe("名称");
    expect(heightMetres(rows.height.value)).toBeCloseTo(Number(picked.height), 2);
    expect(rows.height.label).toBe("高度");
    // Same building in the generated source data.
    const source = buildings.find((b) => b.id === picked.id);
    expect(source, `picked id ${String(picked.id)} is not in the demo data`).toBeDefined();
    expect(rows.name.value).toBe(source!.name);
    expect(heightMetres(rows.height.value)).toBeCloseTo(source!.height, 2);
    expect(await page.$eval("#props-panel .feature-title", (el) => el.textContent)).toBe(source!.name);

    const stats = await imageStats(await screenshot("selected"));
    expect(stats.stdDev, "screenshot looks blank").toBeGreaterThan(12);
    expect(stats.colours).toBeGreaterThan(200);
  });

  it("draws low-rise buildings where the source data puts them", async () => {
    const sorted = [...buildings].sort((a, b) => a.height - b.height);
    const lowRise = sorted.slice(0, Math.floor(sorted.length / 2));
    const targets = lowRise.flatMap((b) => {
      const p = roofPoint(b);
      return p ? [{ id: b.id, lon: p[0], lat: p[1], h: Math.max(0, b.height - 0.3) }] : [];
    });
    const onScreen = await page.evaluate(
      (ts: { id: string; lon: number; lat: number; h: number }[]) =>
        ts.flatMap((t) => {
          const s = window.cimViewer.screenPosition(t.lon, t.lat, t.h);
          return s ? [{ id: t.id, ...s }] : [];
        }),
      targets,
    );
    expect(onScreen.length, "no low-rise building of the demo projects onto the canvas").toBeGreaterThan(0);

    // A building is hit when its roof centre and points around it pick that very building.
    const hit = await page.evaluate((cands: { id: string; x: number; y: number }[]) => {
      const seen: string[] = [];
      for (const c of cands.slice(0, 60)) {
        const at = (dx: number, dy: number) => window.cimViewer.featureAt(c.x + dx, c.y + dy)?.id;
        const centre = at(0, 0);
        seen.push(`${c.id}->${String(centre)}`);
        if (
          centre === c.id &&
          at(-2, 0) === c.id &&
          at(2, 0) === c.id &&
          at(0, -2) === c.id &&
          at(0, 2) === c.id
        )
          return { target: c, seen };
      }
      return { target: null, seen };
    }, onScreen);
    expect(
      hit.target,
      `no low-rise building drawn at its data position; picks: ${hit.seen.join(" ")}`,
    ).not.toBeNull();

    const target = hit.target!;
    await clickAndWaitForPanel(target.x, target.y);
    const rows = await panelRows();
    const source = buildings.find((b) => b.id === target.id)!;
    expect(rows.id.value).toBe(source.id);
    expect(rows.name.value).toBe(source.name);
    expect(heightMetres(rows.height.value)).toBeCloseTo(source.height, 2);
  });

  it("shows the pointer's longitude and latitude in the status bar", async () => {
    const found = await page.evaluate(() => window.cimViewer.findFeatureOnScreen());
    expect(found).not.toBeNull();
    await page.mouse.move(found!.x - 20, found!.y - 20);
    await page.mouse.move(found!.x, found!.y, { steps: 4 });
    await page.waitForFunction(
      () => document.querySelector('#status-bar [data-field="lon"] .status-value')?.textContent !== "—",
      { timeout: 20_000 },
    );
    const read = (field: string) =>
      page.$eval(`#status-bar [data-field="${field}"] .status-value`, (el) => el.textContent ?? "");
    const lon = Number.parseFloat(await read("lon"));
    const lat = Number.parseFloat(await read("lat"));
    const height = Number.parseFloat(await read("height"));
    const [west, south, east, north, , maxH] = (
      (await (await fetch(new URL("api/layers", pageUrl))).json()) as { id: string; bbox: number[] }[]
    ).find((l) => l.id === LAYER_ID)!.bbox;
    expect(lon).toBeGreaterThan(west - 0.001);
    expect(lon).toBeLessThan(east + 0.001);
    expect(lat).toBeGreaterThan(south - 0.001);
    expect(lat).toBeLessThan(north + 0.001);
    expect(height).toBeGreaterThan(-5);
    expect(height).toBeLessThan(maxH + 5);
  });

  it("clears the selection when empty ground is clicked", async () => {
    if ((await page.$eval("#props-panel", (el) => (el as HTMLElement).dataset.selected)) !== "true") {
      const found = await page.evaluate(() => window.cimViewer.findFeatureOnScreen());
      expect(found).not.toBeNull();
      await clickAndWaitForPanel(found!.x, found!.y);
    }
    const empty = await page.evaluate(() => {
      const canvas = document.querySelector("#cesium canvas") as HTMLCanvasElement;
      const r = canvas.getBoundingClientRect();
      for (let y = r.bottom - 60; y > r.top + 60; y -= 30) {
        for (let x = r.left + r.width / 2; x > r.left + 30; x -= 40) {
          if (document.elementFromPoint(x, y) === canvas && !window.cimViewer.featureAt(x, y))
            return { x, y };
        }
      }
      return null;
    });
    expect(empty).not.toBeNull();
    await page.mouse.click(empty!.x, empty!.y);
    await page.waitForSelector('#props-panel[data-selected="false"]', { timeout: 20_000 });
    expect(await page.$$("#props-panel .prop-row")).toHaveLength(0);
  });

  it("fades, hides and flies back to the layer from the layer tree", async () => {
    const found = await page.evaluate(() => window.cimViewer.findFeatureOnScreen());
    expect(found).not.toBeNull();
    const { x, y } = found!;
    const id = found!.properties.id;
    await clickAndWaitForPanel(x, y);
    await settle();
    const opaque = await imageStats(await page.screenshot({ type: "png" }), [{ x, y }]);
    expect(isYellowish(opaque.samples[0]), `selected building not highlighted: ${opaque.samples[0]}`).toBe(
      true,
    );

    // Opacity: a real click in the middle of the slider.
    const row = `li[data-layer-id="${LAYER_ID}"]`;
    const slider = (await page.$(`${row} .layer-opacity`))!;
    const box = (await slider.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const percent = await page.$eval(`${row} .layer-opacity-value`, (el) =>
      Number.parseInt(el.textContent ?? "", 10),
    );
    expect(percent).toBeGreaterThanOrEqual(35);
    expect(percent).toBeLessThanOrEqual(65);
    await settle();
    const faded = await imageStats(await screenshot("faded"), [{ x, y }]);
    // Still highlighted after the style change, but blended with what lies behind it (the dark ground or,
    // through a translucent facade, another building), so the pixel's colour has changed. The highlight
    // stays 85% opaque, so only 15% of the background shows: on a face the sun leaves in shade (the
    // lighting follows the time of day) that is a change of only a few levels, hence the low threshold.
    expect(isYellowish(faded.samples[0]), `highlight lost after opacity change: ${faded.samples[0]}`).toBe(
      true,
    );
    const [r0, g0, b0] = opaque.samples[0];
    const [r1, g1, b1] = faded.samples[0];
    expect(
      Math.hypot(r1 - r0, g1 - g0, b1 - b0),
      `no blending: ${opaque.samples[0]} -> ${faded.samples[0]}`,
    ).toBeGreaterThan(4);
    await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2);
    expect(await page.$eval(`${row} .layer-opacity-value`, (el) => el.textContent)).toBe("100%");

    // Hiding the layer clears the selection and nothing is pickable there any more.
    await page.click(`${row} .layer-toggle`);
    await page.waitForSelector('#props-panel[data-selected="false"]', { timeout: 10_000 });
    await settle(300);
    expect(await page.evaluate((px, py) => window.cimViewer.featureAt(px, py), x, y)).toBeNull();
    await page.click(`${row} .layer-toggle`);
    await settle();
    expect((await page.evaluate((px, py) => window.cimViewer.featureAt(px, py), x, y))?.id).toBe(id);

    // "Fly to" frames the layer the same way every time: after dragging the map away, it brings the camera back.
    const cameraAt = () =>
      page.evaluate(() => {
        const viewer = window.cimViewer.viewer as unknown as {
          camera: { positionWC: Record<"x" | "y" | "z", number> };
        };
        const c = viewer.camera.positionWC;
        return [c.x, c.y, c.z];
      });
    await page.click(`${row} .layer-fly`);
    await settle(2500);
    const framed = await cameraAt();
    await page.mouse.move(512, 420);
    await page.mouse.down();
    await page.mouse.move(380, 330, { steps: 8 });
    await page.mouse.up();
    await settle();
    const dragged = await cameraAt();
    const away = Math.hypot(dragged[0] - framed[0], dragged[1] - framed[1], dragged[2] - framed[2]);
    expect(away).toBeGreaterThan(10);
    await page.click(`${row} .layer-fly`);
    await settle(2500);
    const back = await cameraAt();
    // The drag's inertia can still nudge the camera as the flight starts, so ask for "brought back", not "to the cm".
    expect(Math.hypot(back[0] - framed[0], back[1] - framed[1], back[2] - framed[2])).toBeLessThan(away / 2);
    expect(await page.evaluate(() => window.cimViewer.tilesLoaded())).toBe(true);
  });

  it("made no request to any host but the server", () => {
    const urls = session.requests.map((r) => r.url);
    expect(urls.some((u) => u.endsWith("/api/layers"))).toBe(true);
    expect(urls.some((u) => u.includes(`/tiles/${LAYER_ID}/`) && u.endsWith(".glb"))).toBe(true);
    expect(session.externalRequests(pageUrl)).toEqual([]);
  });

  it("switches the UI to English and remembers the choice", async () => {
    expect(await page.$eval("#layer-panel .panel-title", (el) => el.textContent)).toBe("图层");
    await page.click("#lang-toggle");
    await page.waitForFunction(
      () => document.querySelector("#layer-panel .panel-title")?.textContent === "Layers",
      { timeout: 10_000 },
    );
    expect(await page.$eval("html", (el) => el.lang)).toBe("en");
    expect(await page.$eval("#lang-toggle", (el) => el.textContent)).toBe("中文");

    const found = await page.evaluate(() => window.cimViewer.findFeatureOnScreen());
    expect(found).not.toBeNull();
    await clickAndWaitForPanel(found!.x, found!.y);
    const rows = await panelRows();
    expect(rows.height.label).toBe("Height");
    expect(rows.name.value).toBe(found!.properties.name);
    await screenshot("english");

    // Reload without ?lang: the choice persists.
    await openViewer();
    expect(await page.$eval("#layer-panel .panel-title", (el) => el.textContent)).toBe("Layers");
    // And ?lang wins over the stored choice.
    await openViewer("?lang=zh");
    expect(await page.$eval("#layer-panel .panel-title", (el) => el.textContent)).toBe("图层");
    expect(session.externalRequests(pageUrl)).toEqual([]);
  });
});
