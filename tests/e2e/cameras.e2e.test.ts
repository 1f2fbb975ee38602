import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { booleanIntersects, lineString, point, pointToPolygonDistance } from "@turf/turf";
import { Cartesian3, Cartesian4, Matrix4 } from "cesium";
import type { Page } from "puppeteer-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CAMERA_VIDEO_URL, readDemoBuildings } from "../../cli/demo.ts";
import { DEMO_CENTRE, demoBimSite } from "../../ingest/synthetic/demo-city.ts";
import { type Camera, defaultVfov } from "../../models/cameras.ts";
import { viewTest } from "../../tiles-server/cameras/frustum.ts";
import { cameraProjection, cameraToWorld } from "../../viewer/src/cameras/camera-pose.ts";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle, waitForTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");

// Metres per degree at the demo district (33.96° N).
const M_PER_DEG_LAT = 110_940;
const M_PER_DEG_LON = 111_320 * Math.cos((DEMO_CENTRE.lat * Math.PI) / 180);
/** A ground point (ellipsoid height 0, like the demo's streets) `east`/`north` metres from the demo centre. */
const ground = (east: number, north: number) => ({
  lon: DEMO_CENTRE.lon + east / M_PER_DEG_LON,
  lat: DEMO_CENTRE.lat + north / M_PER_DEG_LAT,
  height: 0,
});

// On a pole at the crossing in the demo's centre, 25 m up, looking north along the street and down 35°:
// the axis meets the street 36 m ahead; the frustum's footprint on it runs from 19 m to 82 m ahead.
const CAMERA = {
  id: "e2e-crossing-north",
  name: "路口北向摄像头",
  ...ground(0, 0),
  height: 25,
  heading: 0,
  pitch: -35,
  hfov: 60,
  range: 150,
  streamUrl: DEMO_CAMERA_VIDEO_URL,
  status: "online",
};
// Elsewhere, with a fault, so the layer has more than one camera and a second colour.
const OTHER = {
  id: "e2e-far-fault",
  name: "故障摄像头",
  ...ground(-368, 154),
  height: 12,
  heading: 90,
  pitch: -20,
  streamUrl: DEMO_CAMERA_VIDEO_URL,
  status: "fault",
};

/**
 * Street points inside the footprint (the video must appear there) and outside it (must not change), all in
 * the free middle of the screen when the view frames the camera (the side panels cover the canvas' edges).
 */
const INSIDE = [ground(0, 35), ground(0, 45), ground(0, 60), ground(0, 70), ground(-8, 40), ground(8, 50)];
const OUTSIDE = [ground(0, -20), ground(35, 0), ground(-35, 0), ground(0, 110), ground(-20, 8)];

interface Hook {
  viewer: { scene: { requestRender(): void } };
  cameras(): {
    show: boolean;
    count: number;
    frustumMode: string;
    frustums: string[];
    open: string | null;
    projection: { cameraId: string; active: boolean; frames: number } | null;
  } | null;
  cameraIconOnScreen(id: string): { x: number; y: number } | null;
  cameraFrame(id: string): Promise<boolean>;
  reloadCameras(): Promise<void>;
  featureAt(x: number, y: number): Record<string, unknown> | null;
  screenPosition(lon: number, lat: number, height: number): { x: number; y: number } | null;
  showNearestCameras(lon: number, lat: number): Promise<void>;
}
declare const window: { cimViewer: Hook };

let ctx: DemoSession | undefined;
let page: Page;

async function register(camera: object): Promise<Camera> {
  const res = await fetch(new URL("api/cameras", ctx!.pageUrl), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ctx!.demo.adminToken}` },
    body: JSON.stringify(camera),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Camera;
}

async function screenshot(name: string): Promise<Buffer> {
  await mkdir(ARTIFACTS, { recursive: true });
  const png = Buffer.from(await page.screenshot({ type: "png" }));
  await writeFile(join(ARTIFACTS, `cameras-${name}.png`), png);
  return png;
}

/** Viewport points where the ground positions are drawn, all of them on the bare canvas (no panel over them). */
async function onCanvas(points: { lon: number; lat: number; height: number }[]) {
  return page.evaluate((pts) => {
    const canvas = window.cimViewer.viewer as unknown as { scene: { canvas: HTMLCanvasElement } };
    return pts.map((p) => {
      const s = window.cimViewer.screenPosition(p.lon, p.lat, p.height);
      const free = s !== null && document.elementFromPoint(s.x, s.y) === canvas.scene.canvas;
      return free ? s : null;
    });
  }, points);
}

/** Mean absolute RGB difference between two screenshots over a 9×9 patch around each point. */
async function patchDifferences(a: Buffer, b: Buffer, points: { x: number; y: number }[]): Promise<number[]> {
  const [ra, rb] = await Promise.all(
    [a, b].map((png) => sharp(png).raw().toBuffer({ resolveWithObject: true })),
  );
  const { width, channels } = ra.info;
  const dpr = width / page.viewport()!.width;
  return points.map(({ x, y }) => {
    let sum = 0;
    let n = 0;
    for (let dy = -4; dy <= 4; dy++)
      for (let dx = -4; dx <= 4; dx++) {
        const i = (Math.round((y + dy) * dpr) * width + Math.round((x + dx) * dpr)) * channels;
        for (let c = 0; c < 3; c++) sum += Math.abs(ra.data[i + c] - rb.data[i + c]);
        n += 3;
      }
    return sum / n;
  });
}

const cameraState = () => page.evaluate(() => window.cimViewer.cameras());

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-cameras-");
  page = ctx.page;
  // Registered before the page opens: the layer reads the registry as it starts.
  await register(CAMERA);
  await register(OTHER);
  await openViewerPage(page, ctx.pageUrl);
  await waitForTiles(page);
});

afterAll(async () => {
  await ctx?.close();
});

describe("the viewer's camera pose", () => {
  it("projects exactly the points the server says a camera sees", () => {
    // Pseudo-random but fixed: poses in every direction, points all around them.
    let seed = 7;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    let seen = 0;
    let checked = 0;
    for (let c = 0; c < 20; c++) {
      const hfov = 20 + rand() * 100;
      const pose = {
        ...ground(rand() * 400 - 200, rand() * 400 - 200),
        height: 5 + rand() * 40,
        heading: rand() * 360,
        pitch: -80 + rand() * 100,
        hfov,
        vfov: defaultVfov(hfov),
        range: 50 + rand() * 150,
      };
      const worldToEye = Matrix4.inverseTransformation(cameraToWorld(pose), new Matrix4());
      const projection = cameraProjection(pose);
      for (let i = 0; i < 200; i++) {
        // Half anywhere around, half aimed near the field of view so both answers are common.
        const rad = Math.PI / 180;
        const d = rand() * pose.range * 1.2;
        const bearing = (pose.heading + (rand() - 0.5) * pose.hfov * 1.3) * rad;
        const elevation = (pose.pitch + (rand() - 0.5) * pose.vfov * 1.3) * rad;
        const point =
          i % 2 === 0
            ? {
                lon: pose.lon + (rand() - 0.5) * 0.004,
                lat: pose.lat + (rand() - 0.5) * 0.004,
                height: rand() * 80,
              }
            : {
                lon: pose.lon + (d * Math.cos(elevation) * Math.sin(bearing)) / M_PER_DEG_LON,
                lat: pose.lat + (d * Math.cos(elevation) * Math.cos(bearing)) / M_PER_DEG_LAT,
                height: pose.height + d * Math.sin(elevation),
              };
        const server = viewTest(pose, point);
        const world = Cartesian3.fromDegrees(point.lon, point.lat, point.height);
        const eye = Matrix4.multiplyByPoint(worldToEye, world, new Cartesian3());
        const clip = Matrix4.multiplyByVector(
          projection,
          new Cartesian4(eye.x, eye.y, eye.z, 1),
          new Cartesian4(),
        );
        const ndc = [clip.x / clip.w, clip.y / clip.w];
        // Points within a hair of the frustum's sides are left out: either answer is right there.
        const margin = Math.min(Math.abs(Math.abs(ndc[0]) - 1), Math.abs(Math.abs(ndc[1]) - 1));
        if (clip.w > 0 && margin < 1e-6) continue;
        const projected =
          clip.w > 0 &&
          Math.abs(ndc[0]) <= 1 &&
          Math.abs(ndc[1]) <= 1 &&
          Cartesian3.magnitude(eye) <= pose.range;
        expect(projected, `${JSON.stringify(pose)} ${JSON.stringify(point)}`).toBe(server.sees);
        checked++;
        if (server.sees) seen++;
      }
    }
    // Enough of both answers to mean something.
    expect(checked).toBeGreaterThan(3900);
    expect(seen).toBeGreaterThan(800);
  });
});

describe("cameras layer, video popup and video fusion", () => {
  it("shows the registered cameras and every frustum when asked", async () => {
    const state = await cameraState();
    // The demo may register cameras of its own: ours are there, whatever else is.
    expect(state?.count).toBeGreaterThanOrEqual(2);
    expect(state).toMatchObject({ show: true, frustumMode: "focus", frustums: [] });
    await page.click(".camera-frustum-toggle");
    const all = await cameraState();
    expect(all?.frustumMode).toBe("all");
    expect(all?.frustums).toEqual(expect.arrayContaining([CAMERA.id, OTHER.id]));
    expect(await page.$eval("#camera-panel .layer-name", (e) => e.textContent)).toBe("监控摄像头");
    expect(await page.evaluate((id) => window.cimViewer.cameraFrame(id), CAMERA.id)).toBe(true);
    await settle(page);
  });

  let before: Buffer;

  it("opens the camera's video popup on a click on its icon, and the video plays", async () => {
    before = await screenshot("before");
    const icon = await page.evaluate((id) => window.cimViewer.cameraIconOnScreen(id), CAMERA.id);
    expect(icon).not.toBeNull();
    const clicked = Date.now();
    await page.mouse.click(icon!.x, icon!.y);
    await page.waitForFunction(
      (id) =>
        document.querySelector<HTMLElement>(`.camera-popup[data-camera-id="${id}"]`)?.dataset.status ===
        "playing",
      { timeout: 60_000, polling: 100 },
      CAMERA.id,
    );
    console.log(`camera popup playing ${Date.now() - clicked} ms after the click on its icon`);
    const popup = await page.$eval(".camera-popup", (el) => ({
      title: el.querySelector(".video-popup-title")?.textContent,
      status: el.querySelector(".camera-status")?.textContent,
      project: el.querySelector(".camera-project")?.textContent,
    }));
    expect(popup).toEqual({ title: CAMERA.name, status: "在线", project: "视频融合" });
    // Online since it was registered a moment ago: 100 % of today's known time.
    await page.waitForFunction(
      () => /今日完好率 100\.0%/.test(document.querySelector(".camera-availability")?.textContent ?? ""),
      { timeout: 20_000 },
    );
    expect((await cameraState())?.open).toBe(CAMERA.id);

    const t0 = await page.$eval(".camera-popup video", (v) => (v as HTMLVideoElement).currentTime);
    await page.waitForFunction(
      (start) => {
        const v = document.querySelector<HTMLVideoElement>(".camera-popup video")!;
        // Looping: a wrap-around also proves it advanced.
        return Math.abs(v.currentTime - start) > 1;
      },
      { timeout: 30_000, polling: 100 },
      t0,
    );
    await screenshot("popup");
  });

  it("projects the video onto the street inside the frustum only", async () => {
    await page.click(".camera-project");
    await page.waitForFunction(
      () => {
        const p = window.cimViewer.cameras()?.projection;
        return p?.active === true && p.frames > 5;
      },
      { timeout: 60_000, polling: 200 },
    );
    expect(await page.$eval(".camera-project", (b) => b.getAttribute("aria-pressed"))).toBe("true");
    await settle(page);
    const after = await screenshot("projected");

    const inside = await onCanvas(INSIDE);
    const outside = await onCanvas(OUTSIDE);
    expect(
      inside.every((p) => p !== null),
      JSON.stringify(inside),
    ).toBe(true);
    expect(
      outside.every((p) => p !== null),
      JSON.stringify(outside),
    ).toBe(true);
    const inDiff = await patchDifferences(before, after, inside as { x: number; y: number }[]);
    const outDiff = await patchDifferences(before, after, outside as { x: number; y: number }[]);
    console.log(
      `projection pixel change inside ${inDiff.map((d) => d.toFixed(1))}, outside ${outDiff.map((d) => d.toFixed(1))}`,
    );
    // The clip's sky, asphalt and facades replace the dark street: a change at every point inside (small
    // where the clip's grey asphalt lands on the dark ground), large on average...
    for (const d of inDiff) expect(d).toBeGreaterThan(5);
    expect(inDiff.reduce((a, b) => a + b, 0) / inDiff.length).toBeGreaterThan(40);
    // ...and nothing outside but rendering noise.
    for (const d of outDiff) expect(d).toBeLessThan(4);

    // The projection follows the video: new frames keep reaching the GPU while it plays. How many per second
    // depends on how fast the scene renders (software WebGL here), so only the rate is reported.
    const rate = await page.evaluate(async () => {
      const frames = () => window.cimViewer.cameras()?.projection?.frames ?? 0;
      const f0 = frames();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 3000));
      return ((frames() - f0) * 1000) / (performance.now() - t0);
    });
    console.log(`projected video frames uploaded: ${rate.toFixed(1)} per second`);
    const frames = (await cameraState())?.projection?.frames ?? 0;
    await page.waitForFunction(
      (n) => (window.cimViewer.cameras()?.projection?.frames ?? 0) >= n + 2,
      { timeout: 60_000, polling: 200 },
      frames,
    );
  });

  it("stops projecting when the popup closes", async () => {
    await page.click(".camera-popup .video-popup-close");
    await page.waitForFunction(() => document.querySelector(".camera-popup") === null, { timeout: 30_000 });
    const state = await cameraState();
    expect(state?.projection).toBeNull();
    expect(state?.open).toBeNull();
    await settle(page);
    const back = await screenshot("closed");
    const inside = (await onCanvas(INSIDE)) as { x: number; y: number }[];
    for (const d of await patchDifferences(before, back, inside)) expect(d).toBeLessThan(4);
  });

  it("does not paint the ground a building hides from the camera", async () => {
    // A low camera at a street crossing of the demo grid (crossings every 184 x 154 m from the centre), looking
    // up the street north and across the block to its north-east: the buildings hide the ground behind them.
    const site = demoBimSite();
    const crossings: { east: number; north: number }[] = [];
    for (const i of [1, -1, 2, -2])
      for (const j of [0, -1, 1]) crossings.push({ east: i * 184, north: j * 154 });
    const far = crossings.find(({ east, north }) => {
      const c = ground(east, north);
      return Math.hypot((c.lon - site.lon) * M_PER_DEG_LON, (c.lat - site.lat) * M_PER_DEG_LAT) > 450;
    })!;
    const pose = {
      id: "e2e-occluded",
      name: "遮挡测试摄像头",
      ...ground(far.east, far.north),
      height: 6,
      heading: 20,
      pitch: -5,
      hfov: 60,
      vfov: 34,
      range: 300,
      streamUrl: DEMO_CAMERA_VIDEO_URL,
      status: "online",
    };
    await register(pose);
    await page.evaluate(() => window.cimViewer.reloadCameras());
    // Every frustum drawn in both pictures, so that opening this camera adds no lines of its own.
    if ((await cameraState())?.frustumMode !== "all") await page.click(".camera-frustum-toggle");
    expect(await page.evaluate((id) => window.cimViewer.cameraFrame(id), pose.id)).toBe(true);
    await settle(page);
    const clear = await screenshot("occlusion-before");

    // Ground points the server's frustum test says the camera would see if nothing stood in the way, classified
    // from the demo footprints: hidden when the sight line crosses a building (every demo building is taller
    // than the 6 m lens), else in view. Points within 3 m of a footprint are left out.
    const footprints = (await readDemoBuildings(ctx!.dataDir)).features as GeoJSON.Feature<GeoJSON.Polygon>[];
    const lens: [number, number] = [pose.lon, pose.lat];
    const seen: { lon: number; lat: number; height: number }[] = [];
    const hidden: { lon: number; lat: number; height: number }[] = [];
    for (let e = -300; e <= 300; e += 8)
      for (let n = 0; n <= 300; n += 8) {
        const p = ground(far.east + e, far.north + n);
        if (!viewTest(pose, p).sees) continue;
        const at = point([p.lon, p.lat]);
        const gap = Math.min(...footprints.map((f) => pointToPolygonDistance(at, f, { units: "meters" })));
        if (gap < 3) continue;
        const sight = lineString([lens, [p.lon, p.lat]]);
        if (footprints.some((f) => booleanIntersects(sight, f))) hidden.push(p);
        else seen.push(p);
      }

    const icon = await page.evaluate((id) => window.cimViewer.cameraIconOnScreen(id), pose.id);
    expect(icon).not.toBeNull();
    await page.mouse.click(icon!.x, icon!.y);
    await page.waitForSelector(`.camera-popup[data-camera-id="${pose.id}"] .camera-project`, {
      timeout: 30_000,
    });
    await page.click(".camera-project");
    await page.waitForFunction(
      () => {
        const p = window.cimViewer.cameras()?.projection;
        return p?.active === true && p.frames > 5;
      },
      { timeout: 60_000, polling: 200 },
    );
    await settle(page);
    const projected = await screenshot("occlusion-projected");

    // Only points whose ground shows on screen (no panel, popup or building drawn over them).
    const visibleOnScreen = async (pts: { lon: number; lat: number; height: number }[]) =>
      (
        await page.evaluate((list) => {
          return list.map((p) => {
            const s = window.cimViewer.screenPosition(p.lon, p.lat, 0);
            if (!s || document.elementFromPoint(s.x, s.y)?.tagName !== "CANVAS") return null;
            return window.cimViewer.featureAt(s.x, s.y) === null ? s : null;
          });
        }, pts)
      ).filter((s): s is { x: number; y: number } => s !== null);
    const [seenXy, hiddenXy] = [await visibleOnScreen(seen), await visibleOnScreen(hidden)];
    const seenDiff = await patchDifferences(clear, projected, seenXy);
    const hiddenDiff = await patchDifferences(clear, projected, hiddenXy);
    const changed = seenDiff.filter((d) => d > 5).length / seenDiff.length;
    const untouched = hiddenDiff.filter((d) => d < 4).length / hiddenDiff.length;
    console.log(
      `occlusion: ${seenXy.length} ground points in view (${changed.toFixed(2)} painted), ${hiddenXy.length} behind buildings (${untouched.toFixed(2)} untouched)`,
    );
    expect(seenXy.length, "too few ground points in the camera's view").toBeGreaterThan(10);
    expect(hiddenXy.length, "too few ground points behind buildings").toBeGreaterThan(10);
    expect(changed).toBeGreaterThan(0.8);
    expect(untouched).toBeGreaterThan(0.9);

    await page.click(".camera-popup .video-popup-close");
    await page.waitForFunction(() => document.querySelector(".camera-popup") === null, { timeout: 30_000 });
  });

  it("lists the nearest cameras of a point with whether each sees it, and plays one", async () => {
    const target = INSIDE[1];
    await page.evaluate(({ lon, lat }) => window.cimViewer.showNearestCameras(lon, lat), target);
    const items = await page.$$eval("#nearest-cameras-test .nearest-camera", (lis) =>
      lis.map((li) => ({
        id: (li as HTMLElement).dataset.cameraId,
        sees: (li as HTMLElement).dataset.sees,
        name: li.querySelector(".nearest-camera-name")?.textContent,
        distance: li.querySelector(".nearest-camera-distance")?.textContent,
        flag: li.querySelector(".nearest-camera-sees")?.textContent,
      })),
    );
    const ours = items.find((i) => i.id === CAMERA.id);
    // 45 m north of the camera's foot, on its axis: inside its view.
    expect(ours).toEqual({ id: CAMERA.id, sees: "true", name: CAMERA.name, distance: "45 m", flag: "可见" });
    // The fault camera 400 m west looks east along another street: within 500 m but not at this point.
    expect(items.find((i) => i.id === OTHER.id)).toMatchObject({ sees: "false", flag: "不可见" });
    expect(items[0].sees).toBe("true");
    await screenshot("nearest");

    await page.click(
      `#nearest-cameras-test .nearest-camera[data-camera-id="${CAMERA.id}"] .nearest-camera-play`,
    );
    await page.waitForFunction(
      (id) =>
        document.querySelector<HTMLElement>(`.camera-popup[data-camera-id="${id}"]`)?.dataset.status ===
        "playing",
      { timeout: 60_000, polling: 100 },
      CAMERA.id,
    );
  });

  it("made no request beyond this machine", () => {
    expect(ctx!.session.externalRequests(ctx!.pageUrl)).toEqual([]);
  });
});
