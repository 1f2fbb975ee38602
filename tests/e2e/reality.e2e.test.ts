import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { runCli } from "../support/run-cli.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { settle } from "../support/viewer-page.ts";

/*
 * Oblique photography flattening as a user does it: a textured reality mesh goes through the real
 * `cim ingest mesh` and the real catalog, the viewer shows it, a polygon is drawn with the mouse over a
 * "building" of the mesh and given a height, and the surface read back (straight down, and under the
 * mouse in the status bar) is flat inside and untouched just outside the drawn edge; a second polygon
 * in clip mode shows the globe through the mesh.
 */

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
/** The mesh's local origin: just east of the demo district (its east edge is about 736 m from the centre). */
const ORIGIN = { lon: 118.299, lat: 33.9545 };
const LAYER = "reality-test";
const VIEW = { width: 1024, height: 900 };

/** Ground of the mesh: a gentle undulation between 4.5 and 7.5 m above the ellipsoid. */
const groundAt = (x: number, y: number): number => 6 + 1.5 * Math.sin(x / 35) * Math.cos(y / 45);
/** Box buildings in local metres (x east, y north), part of the one surface as in a photo mesh. */
const BUILDINGS = [
  { x0: 60, y0: 50, x1: 92, y1: 78, height: 24 },
  { x0: 120, y0: 40, x1: 150, y1: 60, height: 14 },
  { x0: 40, y0: 120, x1: 70, y1: 160, height: 32 },
];
const SIZE = 200;
const STEP = 2;

function meshHeightAt(x: number, y: number): number {
  const b = BUILDINGS.find((b) => x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1);
  return groundAt(x, y) + (b ? b.height : 0);
}

/** reality.obj + .mtl + .jpg: a height field on a 2 m grid, so walls are a grid step wide, like a photo mesh's. */
async function writeRealityObj(dir: string): Promise<string> {
  const n = SIZE / STEP;
  const size = 512;
  const px = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const checker = ((x >> 4) + (y >> 4)) % 2 ? 50 : 0;
      px[o] = 90 + checker + Math.round((x * 80) / size);
      px[o + 1] = 110 + checker;
      px[o + 2] = 70 + Math.round((y * 100) / size);
    }
  const jpeg = await sharp(px, { raw: { width: size, height: size, channels: 3 } })
    .jpeg()
    .toBuffer();
  await writeFile(join(dir, "reality.jpg"), jpeg);
  await writeFile(join(dir, "reality.mtl"), "newmtl photo\nKd 1 1 1\nmap_Kd reality.jpg\n");
  const lines = ["mtllib reality.mtl", "o reality"];
  for (let j = 0; j <= n; j++)
    for (let i = 0; i <= n; i++) {
      const x = i * STEP;
      const y = j * STEP;
      lines.push(`v ${x} ${y} ${meshHeightAt(x, y).toFixed(3)}`, `vt ${x / SIZE} ${y / SIZE}`);
    }
  lines.push("usemtl photo");
  const id = (i: number, j: number) => j * (n + 1) + i + 1;
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const [a, b, c, d] = [id(i, j), id(i + 1, j), id(i + 1, j + 1), id(i, j + 1)];
      lines.push(`f ${a}/${a} ${b}/${b} ${c}/${c}`, `f ${a}/${a} ${c}/${c} ${d}/${d}`);
    }
  const file = join(dir, "reality.obj");
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

/** Local metres to degrees (ellipsoidal radii of curvature at the origin: millimetres over 200 m). */
function toLonLat(x: number, y: number, origin = ORIGIN): { lon: number; lat: number } {
  const a = 6378137;
  const e2 = 0.0066943800229;
  const phi = (origin.lat * Math.PI) / 180;
  const w = 1 - e2 * Math.sin(phi) ** 2;
  const m = (a * (1 - e2)) / w ** 1.5;
  const nu = a / Math.sqrt(w);
  return {
    lon: origin.lon + (x / (nu * Math.cos(phi))) * (180 / Math.PI),
    lat: origin.lat + (y / m) * (180 / Math.PI),
  };
}

const OSGB_LAYER = "osgb-real";
/** The tile's vertices lie about 435 m up and 160 m west / 200 m south of its origin. */
const OSGB_ORIGIN = { lon: 118.3005, lat: 33.9555 };
let bbox: number[] = [];

let ctx: DemoSession | undefined;
const session = () => ctx as DemoSession;

async function register(path: string, id: string): Promise<void> {
  const res = await fetch(new URL("api/layers", session().pageUrl), {
    method: "POST",
    headers: { authorization: `Bearer ${session().demo.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ path, id }),
  });
  expect(res.status, await res.text()).toBeLessThan(300);
}

/** The real OSGB tile from ../shared/data, ingested as a user would and registered beside the mesh. */
async function ingestOsgb(): Promise<void> {
  const out = join(session().dataDir, OSGB_LAYER);
  const r = await runCli([
    "ingest",
    "osgb",
    sharedPath("osgb/test.osgb"),
    "--crs",
    "ENU",
    "--origin",
    `${OSGB_ORIGIN.lon},${OSGB_ORIGIN.lat},-430`,
    "--out",
    out,
  ]);
  expect(r.code, r.stderr).toBe(0);
  bbox = JSON.parse(await readFile(join(out, "layer.json"), "utf8")).bbox;
  await register(out, OSGB_LAYER);
}

interface Sample {
  height: number;
  onMesh: boolean;
}

/** The reality mesh (or the globe through it) straight down at local metres (x, y). */
function sampleAt(page: Page, x: number, y: number, origin = ORIGIN): Promise<Sample | null> {
  const p = toLonLat(x, y, origin);
  return page.evaluate((lon, lat) => window.cimViewer!.realitySampleAt!(lon, lat), p.lon, p.lat);
}

async function screenAt(page: Page, x: number, y: number, h: number): Promise<{ x: number; y: number }> {
  const p = toLonLat(x, y);
  const s = await page.evaluate(
    (lon, lat, hh) => window.cimViewer!.screenPosition(lon, lat, hh),
    p.lon,
    p.lat,
    h,
  );
  expect(s, `(${x}, ${y}, ${h}) is on screen`).not.toBeNull();
  return s as { x: number; y: number };
}

/** What the status bar says the height under the real mouse is, once it reads out this point (metres). */
async function statusHeightUnderMouse(page: Page, x: number, y: number, h: number): Promise<number> {
  // The bar reads the depth of the last frame drawn for the screen: draw one after the samples above
  // (Cesium's pick passes leave their own depth behind).
  await settle(page, 300);
  const at = await screenAt(page, x, y, h);
  const p = toLonLat(x, y);
  // A second move to the same point: the bar picks once per animation frame after a move.
  await page.mouse.move(at.x + 4, at.y + 4);
  await page.mouse.move(at.x, at.y, { steps: 2 });
  const handle = await page.waitForFunction(
    (lon, lat) => {
      const read = (field: string) =>
        document.querySelector(`#status-bar [data-field="${field}"] .status-value`)?.textContent ?? "";
      const num = (text: string) => Number(text.match(/-?\d+(\.\d+)?/)?.[0] ?? Number.NaN);
      // Within about a metre of the point: the bar shows this point, not the previous one.
      if (Math.abs(num(read("lon")) - lon) > 1e-5 || Math.abs(num(read("lat")) - lat) > 1e-5) return null;
      return num(read("height"));
    },
    { timeout: 15_000, polling: 200 },
    p.lon,
    p.lat,
  );
  return (await handle.jsonValue()) as number;
}

/** Waits until the flatten tool's copies have their tiles and the view is drawn. */
async function settleReality(page: Page): Promise<void> {
  await settle(page, 800);
  await page.waitForFunction(
    () => {
      window.cimViewer!.viewer.scene.requestRender();
      return window.cimViewer!.reality!().tilesLoaded;
    },
    { timeout: 120_000, polling: 500 },
  );
  await settle(page, 500);
}

/** Draws a rectangle (local metres) with the real mouse: a click per corner, Enter to finish. */
async function drawRectangle(page: Page, [x0, y0, x1, y1]: number[], count: number): Promise<void> {
  await page.click(".reality-draw");
  await page.waitForFunction(() => window.cimViewer!.reality!().drawing);
  for (const [x, y] of [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ]) {
    // The drawing tool clicks on the globe (height 0 here), under the mesh.
    const at = await screenAt(page, x, y, 0);
    await page.mouse.click(at.x, at.y);
  }
  await page.waitForFunction(() => window.cimViewer!.reality!().drawnPoints === 4, { timeout: 15_000 });
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    (n) => window.cimViewer!.reality!().polygons.length === n,
    { timeout: 60_000 },
    count,
  );
  await settleReality(page);
}

/** Standard deviation of the luminance in a screen rectangle: a textured mesh is far from flat colour. */
async function luminanceSpread(
  png: Buffer,
  box: { left: number; top: number; width: number; height: number },
) {
  const stats = await sharp(png).extract(box).greyscale().stats();
  return stats.channels[0].stdev;
}

function screenBox(points: { x: number; y: number }[]) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const left = Math.round(Math.max(0, Math.min(...xs)));
  const top = Math.round(Math.max(0, Math.min(...ys)));
  return {
    left,
    top,
    width: Math.round(Math.min(VIEW.width, Math.max(...xs)) - left),
    height: Math.round(Math.min(VIEW.height, Math.max(...ys)) - top),
  };
}

describe("reality mesh flatten and clip in the viewer", () => {
  beforeAll(async () => {
    // The demo's telemetry simulator is not under test here and loads a busy machine.
    process.env.CIM_SIMULATE = "0";
    ctx = await startDemoSession("cim-reality-e2e-");
    const obj = await writeRealityObj(session().dataDir);
    const out = join(session().dataDir, LAYER);
    const r = await runCli([
      "ingest",
      "mesh",
      obj,
      "--out",
      out,
      "--origin",
      `${ORIGIN.lon},${ORIGIN.lat},0`,
      // Several tiles, so the polygons cross tile borders as on a real city model.
      "--max-triangles-per-tile",
      "8000",
    ]);
    expect(r.code, r.stderr).toBe(0);
    await register(out, LAYER);
    if (existsSync(sharedPath("osgb/test.osgb"))) await ingestOsgb();
    await mkdir(ARTIFACTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await ctx?.close();
  });

  it("flattens a drawn polygon to its height up to the drawn edge, clips another, and restores on delete", async () => {
    const page = session().page;
    // The demo's BIM and pipe tools fill the left column too: a laptop-sized screen, not a small one.
    await page.setViewport({ width: VIEW.width, height: VIEW.height });
    await openViewerPage(page, session().pageUrl);
    await page.waitForSelector(`li[data-layer-id="${LAYER}"][data-state="ready"]`, { timeout: 120_000 });
    // The tool's panel is there because a reality-mesh layer is.
    await page.waitForSelector("#reality-panel:not([hidden]) .reality-draw");
    expect(await page.evaluate(() => window.cimViewer!.reality!().layers)).toContain(LAYER);
    await page.click(`li[data-layer-id="${LAYER}"] .layer-fly`);
    await settleReality(page);

    const before = Buffer.from(await page.screenshot({ type: "png" }));
    await writeFile(join(ARTIFACTS, "reality-before.png"), before);
    const corners = await Promise.all(
      [
        [20, 20],
        [180, 20],
        [180, 180],
        [20, 180],
      ].map(([x, y]) => screenAt(page, x, y, 6)),
    );
    // The mesh is drawn: its texture varies across its screen area (a blank or flat canvas does not).
    expect(await luminanceSpread(before, screenBox(corners))).toBeGreaterThan(15);

    // Picking hits the mesh where it is: the first building's roof and the ground beside it.
    const roof = { x: 76, y: 64 };
    const roofHeight = meshHeightAt(roof.x, roof.y);
    const roofSample = await sampleAt(page, roof.x, roof.y);
    expect(roofSample?.onMesh).toBe(true);
    expect(roofSample?.height).toBeCloseTo(roofHeight, 1);
    expect((await sampleAt(page, 100, 100))?.height).toBeCloseTo(groundAt(100, 100), 1);
    const roofUnderMouse = await statusHeightUnderMouse(page, roof.x, roof.y, roofHeight);
    expect(Math.abs(roofUnderMouse - roofHeight)).toBeLessThan(0.5);

    // A polygon around the first building, 8 m of ground around it: the automatic height is the
    // lowest mesh point inside (the ground), sampled on a grid, so within a few centimetres of it.
    const flatRect = [52, 42, 100, 86];
    await drawRectangle(page, flatRect, 1);
    let state = await page.evaluate(() => window.cimViewer!.reality!());
    expect(state.polygons[0].mode).toBe("flatten");
    let lowest = Number.POSITIVE_INFINITY;
    for (let x = flatRect[0]; x <= flatRect[2]; x += 0.5)
      for (let y = flatRect[1]; y <= flatRect[3]; y += 0.5) lowest = Math.min(lowest, meshHeightAt(x, y));
    expect(state.polygons[0].height).toBeGreaterThanOrEqual(lowest - 0.05);
    expect(state.polygons[0].height).toBeLessThan(lowest + 0.3);
    expect(state.flatCopies).toBe(1);

    // The user types a height for the polygon.
    const FLAT = 4;
    const heightInput = '.reality-item[data-polygon-id="1"] .reality-item-height';
    await page.click(heightInput);
    await page.keyboard.down("Control");
    await page.keyboard.press("a");
    await page.keyboard.up("Control");
    await page.keyboard.type(String(FLAT));
    await page.keyboard.press("Tab");
    await page.waitForFunction((h) => window.cimViewer!.reality!().polygons[0]?.height === h, {}, FLAT);
    await settleReality(page);
    const flattened = Buffer.from(await page.screenshot({ type: "png" }));
    await writeFile(join(ARTIFACTS, "reality-flatten.png"), flattened);

    // Flat inside, to the millimetres of float32 (tolerance 5 cm): on the roof, and half a metre inside each edge.
    const inside = [roof, { x: 52.5, y: 64 }, { x: 99.5, y: 64 }, { x: 76, y: 42.5 }, { x: 76, y: 85.5 }];
    for (const p of inside) {
      const s = await sampleAt(page, p.x, p.y);
      expect(s?.onMesh, `inside at (${p.x}, ${p.y})`).toBe(true);
      expect(Math.abs((s?.height ?? Number.NaN) - FLAT), `inside at (${p.x}, ${p.y})`).toBeLessThan(0.05);
    }
    // Half a metre outside each edge, the mesh is as captured (no slope spilling over the edge).
    const outside = [
      { x: 51.5, y: 64 },
      { x: 100.5, y: 64 },
      { x: 76, y: 41.5 },
      { x: 76, y: 86.5 },
    ];
    for (const p of outside) {
      const s = await sampleAt(page, p.x, p.y);
      expect(s?.onMesh, `outside at (${p.x}, ${p.y})`).toBe(true);
      expect(
        Math.abs((s?.height ?? Number.NaN) - meshHeightAt(p.x, p.y)),
        `outside at (${p.x}, ${p.y})`,
      ).toBeLessThan(0.05);
    }
    // Where the roof was, the mouse now reads the flat height.
    expect(Math.abs((await statusHeightUnderMouse(page, roof.x, roof.y, FLAT)) - FLAT)).toBeLessThan(0.5);
    // The building's pixels changed: it is gone from the picture.
    expect(await changedPixels(before, flattened)).toBeGreaterThan(2000);

    // Clip mode around the second building: the mesh is cut away, the globe (height 0) shows through.
    await page.select("#reality-panel .reality-mode", "clip");
    await drawRectangle(page, [114, 34, 156, 66], 2);
    state = await page.evaluate(() => window.cimViewer!.reality!());
    expect(state.polygons.map((p) => p.mode)).toEqual(["flatten", "clip"]);
    const through = await sampleAt(page, 135, 50);
    expect(through?.onMesh).toBe(false);
    expect(Math.abs(through?.height ?? Number.NaN)).toBeLessThan(0.5);
    const besideClip = await sampleAt(page, 157, 50);
    expect(besideClip?.onMesh).toBe(true);
    expect(besideClip?.height).toBeCloseTo(meshHeightAt(157, 50), 1);
    // Both polygons act at once: the first is still flat.
    expect((await sampleAt(page, roof.x, roof.y))?.height).toBeCloseTo(FLAT, 1);
    await writeFile(join(ARTIFACTS, "reality-clip.png"), Buffer.from(await page.screenshot({ type: "png" })));

    // Deleting the flatten polygon brings the building back; its flattened copy is dropped.
    await page.click('.reality-item[data-polygon-id="1"] .reality-item-delete');
    await page.waitForFunction(() => window.cimViewer!.reality!().polygons.length === 1);
    await settleReality(page);
    expect((await sampleAt(page, roof.x, roof.y))?.height).toBeCloseTo(roofHeight, 1);
    expect((await page.evaluate(() => window.cimViewer!.reality!())).flatCopies).toBe(0);
    expect((await sampleAt(page, 135, 50))?.onMesh).toBe(false);

    const shaderErrors = session().session.pageErrors.filter((e) => /shader|glsl|webgl/i.test(e));
    expect(shaderErrors).toEqual([]);
  }, 600_000);

  describeWithSharedData("a real ContextCapture OSGB tile", () => {
    it("shows in the viewer and picking hits it", async () => {
      const page = session().page;
      await openViewerPage(page, session().pageUrl);
      await page.waitForSelector(`li[data-layer-id="${OSGB_LAYER}"][data-state="ready"]`, {
        timeout: 120_000,
      });
      await page.click(`li[data-layer-id="${OSGB_LAYER}"] .layer-fly`);
      await settleReality(page);
      const shot = Buffer.from(await page.screenshot({ type: "png" }));
      await writeFile(join(ARTIFACTS, "reality-osgb.png"), shot);

      const [west, south, east, north, minH, maxH] = bbox;
      const mid = (minH + maxH) / 2;
      const inner = await page.evaluate(
        (pts) => pts.map(([lon, lat, h]) => window.cimViewer!.screenPosition(lon, lat, h)),
        [
          [west + (east - west) * 0.3, south + (north - south) * 0.3, mid],
          [west + (east - west) * 0.7, south + (north - south) * 0.3, mid],
          [west + (east - west) * 0.7, south + (north - south) * 0.7, mid],
          [west + (east - west) * 0.3, south + (north - south) * 0.7, mid],
        ],
      );
      expect(inner.every((c) => c !== null)).toBe(true);
      // Its photo texture varies across the tile's screen area.
      expect(await luminanceSpread(shot, screenBox(inner as { x: number; y: number }[]))).toBeGreaterThan(10);

      // Straight down over the tile, the ray hits the mesh within its height range.
      const hits: Sample[] = [];
      for (const fx of [0.3, 0.5, 0.7])
        for (const fy of [0.3, 0.5, 0.7]) {
          const s = await page.evaluate(
            (lon, lat) => window.cimViewer!.realitySampleAt!(lon, lat),
            west + (east - west) * fx,
            south + (north - south) * fy,
          );
          if (s?.onMesh) hits.push(s);
        }
      expect(hits.length).toBeGreaterThan(3);
      for (const s of hits) {
        expect(s.height).toBeGreaterThan(minH - 0.5);
        expect(s.height).toBeLessThan(maxH + 0.5);
      }
    }, 300_000);
  });
});

/** Pixels whose colour differs clearly between two screenshots of the same view. */
async function changedPixels(a: Buffer, b: Buffer): Promise<number> {
  const [ra, rb] = await Promise.all([a, b].map((p) => sharp(p).removeAlpha().raw().toBuffer()));
  let changed = 0;
  for (let i = 0; i < ra.length; i += 3)
    if (Math.abs(ra[i] - rb[i]) + Math.abs(ra[i + 1] - rb[i + 1]) + Math.abs(ra[i + 2] - rb[i + 2]) > 60)
      changed++;
  return changed;
}
