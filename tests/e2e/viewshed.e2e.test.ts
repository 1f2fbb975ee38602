import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { booleanIntersects, distance, lineString, point, pointToPolygonDistance, polygon } from "@turf/turf";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDemoBuildings } from "../../cli/demo.ts";
import { DEMO_CENTRE, demoBimSite } from "../../ingest/synthetic/demo-city.ts";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { geodeticToEcef } from "../support/tileset-checks/geodesy.ts";
import { settle, waitForTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const RADIUS = 150;

interface Hook {
  ready: Promise<void>;
  screenPosition(lon: number, lat: number, height: number): { x: number; y: number } | null;
  featureAt(x: number, y: number): Record<string, unknown> | null;
  planning(): { mode: string; viewshed: { visibleShare: number; cells: number } | null };
  viewer: { camera: { setView(o: unknown): void }; scene: { requestRender(): void } };
}
declare const window: { cimViewer: Hook };
declare const innerWidth: number;
declare const innerHeight: number;

type LonLat = [number, number];
const metresToLonLat = (origin: LonLat, east: number, north: number): LonLat => [
  origin[0] + east / (111_320 * Math.cos((origin[1] * Math.PI) / 180)),
  origin[1] + north / 110_940,
];

let s: DemoSession;
let footprints: GeoJSON.Feature<GeoJSON.Polygon>[];
let bimBlock: GeoJSON.Feature<GeoJSON.Polygon>;

beforeAll(async () => {
  s = await startDemoSession("cim-e2e-viewshed-");
  footprints = (await readDemoBuildings(s.dataDir)).features as GeoJSON.Feature<GeoJSON.Polygon>[];
  const site = demoBimSite();
  const c: LonLat = [site.lon, site.lat];
  const [w, d] = [site.widthM / 2, site.depthM / 2];
  bimBlock = polygon([
    [
      metresToLonLat(c, -w, -d),
      metresToLonLat(c, w, -d),
      metresToLonLat(c, w, d),
      metresToLonLat(c, -w, d),
      metresToLonLat(c, -w, -d),
    ],
  ]);
  await openViewerPage(s.page, s.pageUrl);
  await waitForTiles(s.page);
}, 240_000);

afterAll(async () => {
  await s?.close();
});

async function rgbAt(
  png: Uint8Array,
  points: { x: number; y: number }[],
): Promise<[number, number, number][]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return points.map(({ x, y }) => {
    // Average a 3x3 block: the depth map's texels make edges a little ragged.
    const sum = [0, 0, 0];
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const i = ((Math.round(y) + dy) * info.width + Math.round(x) + dx) * info.channels;
        for (let k = 0; k < 3; k++) sum[k] += data[i + k];
      }
    return sum.map((v) => v / 9) as [number, number, number];
  });
}

describe("viewshed drawn from the GPU's depth map", () => {
  it("tints ground the eye sees green and ground behind buildings red, as the footprints say, and only within the radius", async () => {
    const page = s.page;
    // The observer stands at a street crossing of the demo grid (160 x 130 m blocks, 24 m streets, crossings
    // every 184 x 154 m from the centre), the one nearest the centre whose disc keeps clear of the BIM block.
    const site = demoBimSite();
    const crossings: LonLat[] = [];
    for (let i = -3; i <= 3; i++)
      for (let j = -2; j <= 2; j++)
        crossings.push(metresToLonLat([DEMO_CENTRE.lon, DEMO_CENTRE.lat], i * 184, j * 154));
    const centre = point([DEMO_CENTRE.lon, DEMO_CENTRE.lat]);
    const observer = crossings
      .filter((c) => distance(point(c), point([site.lon, site.lat]), { units: "meters" }) > RADIUS + 120)
      .sort((a, b) => distance(point(a), centre) - distance(point(b), centre))[0];
    expect(
      footprints.every((f) => pointToPolygonDistance(point(observer), f, { units: "meters" }) > 8),
      "the crossing is not open ground",
    ).toBe(true);
    await page.evaluate(
      (d) => {
        window.cimViewer.viewer.camera.setView({
          destination: { x: d[0], y: d[1], z: d[2] },
          orientation: { heading: 0, pitch: -Math.PI / 2, roll: 0 },
        });
        window.cimViewer.viewer.scene.requestRender();
      },
      geodeticToEcef((observer[0] * Math.PI) / 180, (observer[1] * Math.PI) / 180, 600),
    );
    await settle(page);
    const before = await page.screenshot({ type: "png" });
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, "viewshed-before.png"), before);

    await page.click("#planning-toggle");
    await page.click("#planning-panel .planning-viewshed");
    await page.waitForFunction(() => window.cimViewer.planning().mode === "viewshed", { timeout: 5000 });
    await page.click("#planning-toggle");
    const at = (await page.evaluate((lo, la) => window.cimViewer.screenPosition(lo, la, 0), ...observer))!;
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction(() => window.cimViewer.planning().viewshed !== null, { timeout: 120_000 });
    await settle(page, 1500, 500);
    const after = await page.screenshot({ type: "png" });
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, "viewshed-gpu.png"), after);

    // Ground samples every 12 m, classified from the footprints alone: hidden when the sight line from the eye
    // (1.6 m) crosses a building (all demo buildings are taller than the eye); seen when it passes 4 m clear of
    // every building. Points near a footprint (a leaning facade may cover them on screen), near the observer's
    // marker, or whose sight line crosses the BIM block (its building is not in the footprints) are left out.
    const seen: LonLat[] = [];
    const hidden: LonLat[] = [];
    const outside: LonLat[] = [];
    for (let e = -RADIUS * 1.3; e <= RADIUS * 1.3; e += 10)
      for (let n = -RADIUS * 1.3; n <= RADIUS * 1.3; n += 10) {
        const p = metresToLonLat(observer, e, n);
        const r = Math.hypot(e, n);
        if (r < 25 || (r > RADIUS * 0.93 && r < RADIUS * 1.12)) continue;
        if (footprints.some((f) => pointToPolygonDistance(point(p), f, { units: "meters" }) < 3)) continue;
        if (r > RADIUS) {
          outside.push(p);
          continue;
        }
        const sight = lineString([observer, p]);
        if (booleanIntersects(sight, bimBlock)) continue;
        if (footprints.some((f) => booleanIntersects(sight, f))) hidden.push(p);
        else if (footprints.every((f) => pointToPolygonDistance(point(p), f, { units: "meters" }) > 4))
          seen.push(p);
      }
    // Where the ground point shows on screen, if it does: not under a panel, not behind a (leaning) building.
    const project = async (pts: LonLat[]) =>
      (
        await page.evaluate(
          (list) =>
            list.map(([lo, la]) => {
              const at = window.cimViewer.screenPosition(lo, la, 0);
              if (!at || at.x < 4 || at.y < 4 || at.x > innerWidth - 4 || at.y > innerHeight - 4) return null;
              if (document.elementFromPoint(at.x, at.y)?.tagName !== "CANVAS") return null;
              return window.cimViewer.featureAt(at.x, at.y) === null ? at : null;
            }),
          pts,
        )
      ).filter((xy): xy is { x: number; y: number } => xy !== null);
    const [seenXy, hiddenXy, outsideXy] = await Promise.all([
      project(seen),
      project(hidden),
      project(outside),
    ]);
    expect(seenXy.length, "too few open-ground samples").toBeGreaterThan(40);
    expect(hiddenXy.length, "too few samples behind buildings").toBeGreaterThan(15);
    expect(outsideXy.length).toBeGreaterThan(20);

    const green = ([r, g]: number[]) => g > r + 25;
    const red = ([r, g]: number[]) => r > g + 25;
    const seenRgb = await rgbAt(after, seenXy);
    const hiddenRgb = await rgbAt(after, hiddenXy);
    const share = (rgb: number[][], f: (c: number[]) => boolean) => rgb.filter(f).length / rgb.length;
    console.log(
      `viewshed samples: seen ${seenXy.length} (${share(seenRgb, green).toFixed(2)} green), hidden ${hiddenXy.length} (${share(hiddenRgb, red).toFixed(2)} red)`,
    );
    expect(share(seenRgb, green)).toBeGreaterThan(0.9);
    expect(share(hiddenRgb, red)).toBeGreaterThan(0.9);

    // Beyond the radius the scene is as it was before the analysis.
    const [outBefore, outAfter] = await Promise.all([rgbAt(before, outsideXy), rgbAt(after, outsideXy)]);
    const unchanged = outBefore.filter((c, i) => c.every((v, k) => Math.abs(v - outAfter[i][k]) < 12)).length;
    expect(unchanged / outsideXy.length).toBeGreaterThan(0.9);

    // Clearing removes the tint.
    await page.click("#planning-toggle");
    await page.click("#planning-panel .planning-visibility-clear");
    await page.click("#planning-toggle");
    await settle(page, 800, 300);
    const cleared = await rgbAt(await page.screenshot({ type: "png" }), seenXy);
    expect(share(cleared, green)).toBeLessThan(0.1);
  });
});
