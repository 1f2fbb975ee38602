import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  booleanIntersects,
  booleanPointInPolygon,
  point,
  polygon,
  distance as turfDistance,
} from "@turf/turf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_LAYER_ID, readDemoBuildings } from "../../cli/demo.ts";
import { DEMO_CENTRE, demoBimSite } from "../../ingest/synthetic/demo-city.ts";
import { type DemoSession, demoApi, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle, waitForTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");

interface Point {
  x: number;
  y: number;
}
interface GroundPoint {
  lon: number;
  lat: number;
  height: number;
}
interface PlanningState {
  mode: string;
  error: string | null;
  measurements: { kind: string; value: number; secondary?: number; points: GroundPoint[] }[];
  heightLimit: {
    ring: [number, number][];
    limit: number;
    inArea: number;
    rows: { id: string; height: number; excess: number }[];
  } | null;
  sunlight: {
    point: GroundPoint;
    sunHours: number;
    slots: { time: string; sunny: boolean; elevation: number; shadedBy?: string }[];
  } | null;
}
interface Extra {
  lineOfSight: { visible: boolean; blockedBy: string | null } | null;
  viewshed: { visibleShare: number; cells: number } | null;
  skyline: { points: { azimuth: number; elevation: number }[] } | null;
  swipe: { enabled: boolean; position: number; sides: Record<string, string> };
}
interface Hook {
  ready: Promise<void>;
  screenPosition(lon: number, lat: number, height: number): Point | null;
  planning(): PlanningState & Extra;
  planningBuildingColor(id: string): string | null;
  iot(): { paintedAssets: Record<string, string> } | null;
  viewer: {
    camera: { setView(o: unknown): void };
  };
}
declare const window: { cimViewer: Hook; innerWidth: number };

/** Metres east/north of the demo centre to lon/lat (the demo generator's own formula). */
const lonLat = (x: number, y: number): [number, number] => [
  DEMO_CENTRE.lon + x / (111_320 * Math.cos((DEMO_CENTRE.lat * Math.PI) / 180)),
  DEMO_CENTRE.lat + y / 110_940,
];

/** WGS84 geodetic to Earth-centred coordinates (what Cesium's Cartesian3.fromDegrees gives). */
function ecef(lon: number, lat: number, h: number): { x: number; y: number; z: number } {
  const a = 6378137;
  const e2 = 6.69437999014e-3;
  const phi = (lat * Math.PI) / 180;
  const lam = (lon * Math.PI) / 180;
  const n = a / Math.sqrt(1 - e2 * Math.sin(phi) ** 2);
  return {
    x: (n + h) * Math.cos(phi) * Math.cos(lam),
    y: (n + h) * Math.cos(phi) * Math.sin(lam),
    z: (n * (1 - e2) + h) * Math.sin(phi),
  };
}

describe("planning analysis tools (browser)", () => {
  let s: DemoSession;
  let buildings: GeoJSON.FeatureCollection;

  const page = () => s.page;
  const state = () => page().evaluate(() => window.cimViewer.planning());

  async function screenshot(name: string): Promise<void> {
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, `planning-${name}.png`), await page().screenshot());
  }

  async function onScreen([lon, lat]: [number, number]): Promise<Point> {
    const p = await page().evaluate((lo, la) => window.cimViewer.screenPosition(lo, la, 0), lon, lat);
    expect(p, `${lon},${lat} is not on screen`).not.toBeNull();
    const onCanvas = await page().evaluate(
      (x, y) => document.elementFromPoint(x, y)?.tagName === "CANVAS",
      p!.x,
      p!.y,
    );
    const cover = await page().evaluate(
      (x, y) => document.elementFromPoint(x, y)?.outerHTML.slice(0, 120),
      p!.x,
      p!.y,
    );
    expect(onCanvas, `${lon},${lat} is under ${cover}`).toBe(true);
    return p!;
  }

  /** Clicks ground points; the last one with a double click, which ends a line or polygon. */
  async function clickPoints(points: [number, number][], finish: boolean): Promise<void> {
    for (const [i, pt] of points.entries()) {
      const p = await onScreen(pt);
      const last = i === points.length - 1;
      await page().mouse.click(p.x, p.y, { count: last && finish ? 2 : 1 });
      await new Promise((r) => setTimeout(r, 250));
    }
    // A point may fall on a CCTV camera icon, whose own click handler opens a video popup over the panel
    // even while drawing: close it as a user would.
    for (const close of await page().$$(".video-popup-close")) await close.click();
  }

  /** Looks straight down on a point from a height, so nothing stands between the camera and the ground there. */
  async function lookDownAt([lon, lat]: [number, number], height: number): Promise<void> {
    const destination = ecef(lon, lat, height);
    await page().evaluate((d) => {
      const v = window.cimViewer.viewer as unknown as {
        camera: { setView(o: unknown): void };
        scene: { requestRender(): void };
      };
      v.camera.setView({ destination: d, orientation: { heading: 0, pitch: -Math.PI / 2, roll: 0 } });
      v.scene.requestRender();
    }, destination);
    await settle(page());
  }

  /** An oblique view from the north-west onto a ground point. */
  async function lookObliqueAt([lon, lat]: [number, number]): Promise<void> {
    const [x, y] = [-110, 200];
    const from: [number, number] = [lon + x / (111_320 * Math.cos((lat * Math.PI) / 180)), lat + y / 110_940];
    const heading = Math.atan2(-x, -y);
    await page().evaluate(
      (d, hd) => {
        const v = window.cimViewer.viewer as unknown as {
          camera: { setView(o: unknown): void };
          scene: { requestRender(): void };
        };
        v.camera.setView({ destination: d, orientation: { heading: hd, pitch: -0.55, roll: 0 } });
        v.scene.requestRender();
      },
      ecef(from[0], from[1], 220),
      heading,
    );
    await settle(page(), 1500);
  }

  async function togglePanel(): Promise<void> {
    await page().click("#planning-toggle");
  }

  async function showPanel(): Promise<void> {
    if (await page().$eval("#planning-panel", (e) => (e as HTMLElement).hidden)) await togglePanel();
  }

  beforeAll(async () => {
    s = await startDemoSession("cim-planning-");
    buildings = await readDemoBuildings(s.dataDir);
    await openViewerPage(page(), s.pageUrl);
    await waitForTiles(page());
  }, 240_000);

  afterAll(async () => {
    await s?.close();
  });

  it("height limit over a mouse-drawn area lists what turf finds on the demo footprints", async () => {
    await showPanel();
    await page().waitForSelector("#planning-panel .planning-limit-draw", { visible: true });
    const limitInput = await page().$("#planning-panel .planning-limit");
    await limitInput!.click({ count: 3 });
    await limitInput!.type("45");
    await page().keyboard.press("Tab");
    await page().click("#planning-panel .planning-limit-draw");
    await page().waitForFunction(() => window.cimViewer.planning().mode === "height-limit", {
      timeout: 5000,
    });
    // The panel would cover part of the area: hide it while drawing (the drawing goes on).
    await togglePanel();
    const area: [number, number][] = [
      lonLat(-300, -200),
      lonLat(260, -230),
      lonLat(330, 120),
      lonLat(20, 240),
      lonLat(-280, 150),
    ];
    await clickPoints(area, true);
    await page().waitForFunction(() => window.cimViewer.planning().heightLimit !== null, {
      timeout: 120_000,
    });
    const result = (await state()).heightLimit!;
    expect(result.limit).toBe(45);
    expect(result.ring).toHaveLength(5);

    // The same rule in turf on the source footprints: footprint intersects the drawn area, height above limit.
    const drawn = polygon([[...result.ring, result.ring[0]]]);
    const inArea = buildings.features.filter((f) =>
      booleanIntersects(f as GeoJSON.Feature<GeoJSON.Polygon>, drawn),
    );
    const expected = inArea
      .filter((f) => Number(f.properties!.height) > 45)
      .map((f) => ({ id: String(f.properties!.id), excess: Number(f.properties!.height) - 45 }))
      .sort((a, b) => a.id.localeCompare(b.id));
    expect(expected.length).toBeGreaterThan(3);
    expect(result.inArea).toBe(inArea.length);
    const got = [...result.rows].sort((a, b) => a.id.localeCompare(b.id));
    expect(got.map((r) => r.id)).toEqual(expected.map((e) => e.id));
    for (const [i, r] of got.entries()) expect(r.excess).toBeCloseTo(expected[i].excess, 2);
    // Listed highest excess first.
    const excesses = result.rows.map((r) => r.excess);
    expect(excesses).toEqual([...excesses].sort((a, b) => b - a));

    await togglePanel();
    const rows = await page().$$eval("#planning-panel .planning-limit-row", (els) =>
      els.map((e) => (e as HTMLElement).dataset.id),
    );
    expect(rows).toEqual(result.rows.map((r) => r.id));
    // Over-limit buildings are painted red, the others keep the plain white model colour.
    await settle(page());
    const top = result.rows[0].id;
    await page().waitForFunction(
      (id) => window.cimViewer.planningBuildingColor(id) !== null,
      { timeout: 30_000 },
      top,
    );
    const red = await page().evaluate((id) => window.cimViewer.planningBuildingColor(id), top);
    expect(red).toMatch(/^rgba?\(255,\s*42,\s*42/);
    const under = inArea.find((f) => Number(f.properties!.height) <= 45);
    if (under) {
      const c = await page().evaluate(
        (id) => window.cimViewer.planningBuildingColor(id),
        String(under.properties!.id),
      );
      if (c !== null) expect(c).toMatch(/^rgba?\(255,\s*255,\s*255/);
    }
    await togglePanel();
    await settle(page());
    await screenshot("height-limit");

    // Exports: the listed buildings as CSV (one row each) and the view as a PNG.
    await togglePanel();
    const downloads = await mkdtemp(join(tmpdir(), "cim-planning-dl-"));
    const cdp = await page().createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
    await page().click("#planning-panel .planning-export-csv");
    const csv = await waitForFile(join(downloads, "height-limit.csv"));
    const lines = csv
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .trim()
      .split(/\r\n/);
    expect(lines[0]).toBe("id,name,height_m,limit_m,excess_m");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(result.rows.map((r) => r.id));
    await page().click("#planning-panel .planning-export-geojson");
    const geojson = JSON.parse((await waitForFile(join(downloads, "height-limit.geojson"))).toString("utf8"));
    expect(geojson.features[0].geometry.type).toBe("Polygon");
    expect(geojson.features).toHaveLength(result.rows.length + 1);
    await page().click("#planning-panel .planning-export-png");
    const png = await waitForFile(join(downloads, "cim-snapshot.png"));
    await writeFile(join(ARTIFACTS, "planning-export.png"), png);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    // A rendered city, not a blank canvas: a blank 1024x700 PNG compresses to a few kilobytes.
    expect(png.length).toBeGreaterThan(50_000);
    await rm(downloads, { recursive: true, force: true });
  }, 300_000);

  it("shows a building's alarm colour again when the height-limit result over it is cleared", async () => {
    const limit = (await state()).heightLimit;
    expect(limit, "the previous case's height-limit result").not.toBeNull();
    const drawn = polygon([[...limit!.ring, limit!.ring[0]]]);
    const colour = (id: string) => page().evaluate((x) => window.cimViewer.planningBuildingColor(x), id);
    let target: GeoJSON.Feature<GeoJSON.Polygon> | undefined;
    for (const f of buildings.features as GeoJSON.Feature<GeoJSON.Polygon>[])
      if (
        Number(f.properties!.height) <= limit!.limit &&
        booleanIntersects(f, drawn) &&
        (await colour(String(f.properties!.id))) !== null
      ) {
        target = f;
        break;
      }
    expect(target, "no loaded building under the limit in the area").toBeDefined();
    const id = String(target!.properties!.id);
    const ring = target!.geometry.coordinates[0];
    const api = (path: string, body: unknown) => demoApi(s, path, { method: "POST", body });
    // A smoke detector in that building reports smoke: a red alarm that paints the building.
    await api("api/devices", {
      id: "e2e-planning-smoke",
      type: "smoke",
      name: "控高测试烟感",
      lon: ring.reduce((a, p) => a + p[0], 0) / ring.length,
      lat: ring.reduce((a, p) => a + p[1], 0) / ring.length,
      height: 3,
      layerId: DEMO_LAYER_ID,
      featureId: id,
    });
    await api("api/telemetry", {
      readings: [{ deviceId: "e2e-planning-smoke", ts: Date.now(), values: { smoke: 0.5 } }],
    });
    await page().waitForFunction(
      (key) => window.cimViewer.iot()?.paintedAssets[key] === "red",
      { timeout: 30_000 },
      `${DEMO_LAYER_ID}/${id}`,
    );
    // The analysis result is on top while it is shown: the building keeps the result's plain white.
    await settle(page());
    expect(await colour(id)).toMatch(/^rgba?\(255,\s*255,\s*255/);

    await showPanel();
    await page().click("#planning-panel .planning-limit-clear");
    expect((await state()).heightLimit).toBeNull();
    await page().waitForFunction(
      (x) => {
        const m = /rgba?\(([^)]+)\)/.exec(window.cimViewer.planningBuildingColor(x) ?? "");
        if (!m) return false;
        const [r, g, b] = m[1].split(",").map(Number);
        return r > 200 && g < 90 && b < 90;
      },
      { timeout: 30_000, polling: 250 },
      id,
    );
    await togglePanel();
  });

  it("sunlight: just north of a tall building is shaded at winter-solstice noon, open ground is sunny", async () => {
    await showPanel();
    const feats = buildings.features as GeoJSON.Feature<GeoJSON.Polygon>[];
    const height = (f: GeoJSON.Feature) => Number(f.properties!.height);
    let tower: GeoJSON.Feature<GeoJSON.Polygon> | undefined;
    let north: [number, number] | undefined;
    for (const f of [...feats].sort((a, b) => height(b) - height(a))) {
      const ring = f.geometry.coordinates[0];
      const maxLat = Math.max(...ring.map((p) => p[1]));
      const edge = ring.filter((p) => Math.abs(p[1] - maxLat) < 1e-7);
      const lon = edge.reduce((sum, p) => sum + p[0], 0) / edge.length;
      const candidate: [number, number] = [lon, maxLat + 4 / 110_940];
      if (feats.some((g) => booleanPointInPolygon(point(candidate), g))) continue;
      tower = f;
      north = candidate;
      break;
    }
    expect(tower, "no tall building with open ground north of it").toBeDefined();
    expect(height(tower!)).toBeGreaterThan(60);
    const minLat = Math.min(...feats.flatMap((f) => f.geometry.coordinates[0].map((p) => p[1])));
    const open: [number, number] = [DEMO_CENTRE.lon, minLat - 80 / 110_940];

    await page().$eval("#planning-panel .planning-sun-date", (el) => {
      (el as HTMLInputElement).value = "2026-12-21";
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });

    const sunAt = async (where: [number, number]) => {
      await lookDownAt(where, 300);
      await page().click("#planning-panel .planning-sun-pick");
      await page().waitForFunction(() => window.cimViewer.planning().mode === "sunlight", { timeout: 5000 });
      await togglePanel();
      const before = (await state()).sunlight;
      await clickPoints([where], false);
      await page().waitForFunction(
        (b) => {
          const r = window.cimViewer.planning().sunlight;
          return r !== null && JSON.stringify(r.point) !== b;
        },
        { timeout: 120_000 },
        JSON.stringify(before?.point ?? null),
      );
      await togglePanel();
      return (await state()).sunlight!;
    };

    await page().click("#planning-panel .planning-limit-clear");
    await page().waitForFunction(() => window.cimViewer.planning().heightLimit === null, { timeout: 5000 });
    const shaded = await sunAt(north!);
    expect(turfDistance(point([shaded.point.lon, shaded.point.lat]), point(north!)) * 1000).toBeLessThan(1.5);
    const noon = shaded.slots.find((slot) => slot.time === "12:00")!;
    expect(noon.elevation).toBeGreaterThan(25);
    expect(noon.elevation).toBeLessThan(40);
    expect(noon.sunny).toBe(false);
    expect(noon.shadedBy).toBe(String(tower!.properties!.id));
    expect(
      await page().$eval("#planning-panel .planning-sun-slot[data-time='12:00']", (e) => e.className),
    ).toContain("shaded");

    const sunny = await sunAt(open);
    expect(sunny.slots).toHaveLength(32);
    expect(sunny.slots.find((slot) => slot.time === "12:00")!.sunny).toBe(true);
    // South of the whole district nothing stands between the point and the winter sun all day.
    expect(sunny.slots.every((slot) => slot.sunny)).toBe(true);
    expect(sunny.sunHours).toBe(8);
    expect(await page().$eval("#planning-panel .planning-sun-result", (e) => e.textContent)).toContain("8");

    // The shaded point again, seen from the south-east with Cesium's shadows at noon.
    await sunAt(north!);
    await page().evaluate(() => {
      const el = document.querySelector<HTMLElement>("#planning-panel .planning-sun-slot[data-time='12:00']");
      el?.click();
    });
    await togglePanel();
    await lookObliqueAt(north!);
    await screenshot("sunlight");
    await togglePanel();
  }, 400_000);

  it("measures a known distance on open ground", async () => {
    await showPanel();
    // Open ground south of the district, 300 m apart east-west in the generator's metric grid.
    const feats = buildings.features as GeoJSON.Feature<GeoJSON.Polygon>[];
    const minLat = Math.min(...feats.flatMap((f) => f.geometry.coordinates[0].map((p) => p[1])));
    const y = (minLat - DEMO_CENTRE.lat) * 110_940 - 60;
    const a = lonLat(-150, y);
    const b = lonLat(150, y);
    await lookDownAt(lonLat(0, y), 900);
    await page().click("#planning-panel .planning-measure-distance");
    await page().waitForFunction(() => window.cimViewer.planning().mode === "measure-distance", {
      timeout: 5000,
    });
    await togglePanel();
    await clickPoints([a, b], true);
    await page().waitForFunction(() => window.cimViewer.planning().measurements.length === 1, {
      timeout: 30_000,
    });
    const m = (await state()).measurements[0];
    const expected = turfDistance(point(a), point(b)) * 1000;
    expect(Math.abs(expected - 300)).toBeLessThan(1);
    // One CSS pixel is about a metre from 900 m up: each click lands within half of one.
    expect(Math.abs(m.secondary! - expected)).toBeLessThan(2);
    expect(Math.abs(m.value - expected)).toBeLessThan(2);
    await settle(page());
    await screenshot("measure");
    await togglePanel();
    expect(await page().$eval("#planning-panel .planning-measurements li", (e) => e.textContent)).toContain(
      String(m.value),
    );
  }, 200_000);

  it("line of sight through a tower is blocked; viewshed, skyline and swipe give results", async () => {
    await showPanel();
    const feats = buildings.features as GeoJSON.Feature<GeoJSON.Polygon>[];
    const height = (f: GeoJSON.Feature) => Number(f.properties!.height);
    const free = (p: [number, number]) => !feats.some((g) => booleanPointInPolygon(point(p), g));
    let pair:
      | { tower: GeoJSON.Feature<GeoJSON.Polygon>; n: [number, number]; s: [number, number] }
      | undefined;
    for (const f of [...feats].sort((a, b) => height(b) - height(a))) {
      const ring = f.geometry.coordinates[0];
      const lats = ring.map((p) => p[1]);
      const lon = ring.reduce((sum, p) => sum + p[0], 0) / ring.length;
      const n: [number, number] = [lon, Math.max(...lats) + 10 / 110_940];
      const south: [number, number] = [lon, Math.min(...lats) - 10 / 110_940];
      if (free(n) && free(south) && booleanPointInPolygon(point([lon, (n[1] + south[1]) / 2]), f)) {
        pair = { tower: f, n, s: south };
        break;
      }
    }
    expect(pair, "no tower with open ground on both sides").toBeDefined();
    const centre: [number, number] = [pair!.n[0], (pair!.n[1] + pair!.s[1]) / 2];
    await lookDownAt(centre, 1500);
    await page().click("#planning-panel .planning-los");
    await page().waitForFunction(() => window.cimViewer.planning().mode === "line-of-sight", {
      timeout: 5000,
    });
    await togglePanel();
    await clickPoints([pair!.n, pair!.s], false);
    await page().waitForFunction(() => window.cimViewer.planning().lineOfSight !== null, { timeout: 60_000 });
    const los = (await state()).lineOfSight!;
    expect(los.visible).toBe(false);
    expect(los.blockedBy).toBe(String(pair!.tower.properties!.id));
    await togglePanel();
    expect(
      await page().$eval("#planning-panel .planning-los-result", (e) => (e as HTMLElement).dataset.visible),
    ).toBe("false");

    // Viewshed from open ground south of the district: the first buildings hide part of the disc.
    const minLat = Math.min(...feats.flatMap((f) => f.geometry.coordinates[0].map((p) => p[1])));
    const observer: [number, number] = [DEMO_CENTRE.lon, minLat - 60 / 110_940];
    await lookDownAt(observer, 700);
    await page().click("#planning-panel .planning-viewshed");
    await page().waitForFunction(() => window.cimViewer.planning().mode === "viewshed", { timeout: 5000 });
    await togglePanel();
    await clickPoints([observer], false);
    await page().waitForFunction(() => window.cimViewer.planning().viewshed !== null, { timeout: 120_000 });
    const vs = (await state()).viewshed!;
    expect(vs.cells).toBe(2700);
    expect(vs.visibleShare).toBeGreaterThan(0.3);
    expect(vs.visibleShare).toBeLessThan(1);
    await settle(page());
    await screenshot("viewshed");
    await togglePanel();
    await page().click("#planning-panel .planning-visibility-clear");

    // Skyline from 20 m above that point, looking north at the district: buildings to the north, open sky south.
    await page().evaluate(
      (d) => {
        const v = window.cimViewer.viewer as unknown as {
          camera: { setView(o: unknown): void };
          scene: { requestRender(): void };
        };
        v.camera.setView({ destination: d, orientation: { heading: 0, pitch: -0.1, roll: 0 } });
        v.scene.requestRender();
      },
      ecef(observer[0], observer[1], 20),
    );
    await settle(page());
    await page().click("#planning-panel .planning-skyline");
    await page().waitForFunction(() => window.cimViewer.planning().skyline !== null, { timeout: 60_000 });
    const sky = (await state()).skyline!;
    expect(sky.points).toHaveLength(360);
    const northMax = Math.max(
      ...sky.points.filter((p) => p.azimuth >= 315 || p.azimuth < 45).map((p) => p.elevation),
    );
    const southMax = Math.max(
      ...sky.points.filter((p) => p.azimuth >= 135 && p.azimuth < 225).map((p) => p.elevation),
    );
    expect(northMax).toBeGreaterThan(5);
    expect(southMax).toBe(0);
    await page().waitForSelector(".planning-skyline-popup svg", { timeout: 20_000 });
    await settle(page());
    await screenshot("skyline");
    await page().click(".planning-skyline-close");

    // Swipe: the BIM scheme only right of the divider; drag the divider with the mouse.
    await page().click("#planning-panel .planning-swipe-toggle");
    await page().waitForFunction(() => window.cimViewer.planning().swipe.enabled, { timeout: 5000 });
    const swipe = (await state()).swipe;
    expect(swipe.sides["demo-bim"]).toBe("right");
    expect(swipe.sides["demo-buildings"]).toBe("both");
    await togglePanel();
    // Look at the vacant plot where the BIM scheme stands, so the divider cuts through it.
    const site = demoBimSite();
    await lookObliqueAt([site.lon, site.lat]);
    const bar = await page().$(".planning-swipe-divider");
    const box = (await bar!.boundingBox())!;
    await page().mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page().mouse.down();
    const onSite = (await page().evaluate(
      (lo, la) => window.cimViewer.screenPosition(lo, la, 0),
      site.lon,
      site.lat,
    ))!;
    // Through the building, right of where the divider starts (the middle), so the drag really moves it.
    const site2 = { x: Math.round(onSite.x + 60) };
    await page().mouse.move(site2.x, box.y + box.height / 2, { steps: 5 });
    await page().mouse.up();
    const moved = (await state()).swipe.position;
    const width = await page().evaluate(() => window.innerWidth);
    expect(Math.abs(moved - site2.x / width)).toBeLessThan(0.02);
    await settle(page());
    await screenshot("swipe");
    await togglePanel();
    await page().click("#planning-panel .planning-swipe-toggle");
  }, 400_000);

  it("line of sight across the demo BIM building is blocked by one of its elements", async () => {
    await showPanel();
    // The building's footprint from its element index (the union of the elements' boxes).
    const res = await fetch(new URL("api/bim/demo-bim/elements?limit=1000", s.pageUrl));
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { globalId: string; bbox: number[] }[] };
    expect(items.length).toBeGreaterThan(10);
    const west = Math.min(...items.map((e) => e.bbox[0]));
    const south = Math.min(...items.map((e) => e.bbox[1]));
    const east = Math.max(...items.map((e) => e.bbox[2]));
    const north = Math.max(...items.map((e) => e.bbox[3]));
    // Open ground 10 m north and south of it, on its middle meridian (no white model stands there).
    const lon = (west + east) / 2;
    const n: [number, number] = [lon, north + 10 / 110_940];
    const so: [number, number] = [lon, south - 10 / 110_940];
    const feats = buildings.features as GeoJSON.Feature<GeoJSON.Polygon>[];
    for (const p of [n, so])
      expect(
        feats.some((g) => booleanPointInPolygon(point(p), g)),
        `${p} is on a white model`,
      ).toBe(false);
    await lookDownAt([lon, (north + south) / 2], 1500);
    await page().click("#planning-panel .planning-los");
    await page().waitForFunction(() => window.cimViewer.planning().mode === "line-of-sight", {
      timeout: 5000,
    });
    await togglePanel();
    await clickPoints([n, so], false);
    // This sight line's result (from the first point), not an earlier one.
    await page().waitForFunction(
      (lat) => {
        const los = window.cimViewer.planning().lineOfSight as { from?: GroundPoint } | null;
        return los?.from !== undefined && Math.abs(los.from.lat - lat) < 1e-4;
      },
      { timeout: 60_000 },
      n[1],
    );
    const st = await state();
    expect(st.error).toBeNull();
    const los = st.lineOfSight!;
    expect(los.visible).toBe(false);
    expect(items.map((e) => e.globalId)).toContain(los.blockedBy);
    await togglePanel();
    expect(
      await page().$eval("#planning-panel .planning-los-result", (e) => (e as HTMLElement).dataset.visible),
    ).toBe("false");
  }, 200_000);
});

async function waitForFile(path: string, timeoutMs = 20_000): Promise<Buffer> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const data = await readFile(path);
      if (data.length > 0) return data;
    } catch {
      // Not written yet.
    }
    if (Date.now() > until) throw new Error(`${path} was not downloaded`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
