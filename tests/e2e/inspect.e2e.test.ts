import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_BIM_LAYER_ID } from "../../cli/demo.ts";
import type { BrowserSession } from "../support/browser.ts";
import { type DemoSession, startDemoSession } from "../support/demo-session.ts";

// Close-inspection page (three.js + 3d-tiles-renderer) on the demo BIM layer, driven by the real mouse.
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");

type Props = Record<string, unknown>;
interface Hook {
  ready: Promise<void>;
  tilesLoaded(): boolean;
  screenPositionOf(predicate: (p: Props) => boolean): { x: number; y: number; properties: Props } | null;
  featureAt(x: number, y: number): Props | null;
  selectedProperties(): Props | null;
}
declare const window: { cimInspect: Hook };

let demo: DemoSession["demo"];
let session: BrowserSession;
let page: Page;
let ctx: DemoSession | undefined;
let serverUrl: string;

async function panelValue(key: string): Promise<string | null> {
  return page.$eval(
    "#props-panel",
    (panel, k) => panel.querySelector(`.prop-row[data-key="${k}"] .prop-value`)?.textContent?.trim() ?? null,
    key,
  );
}

/** Mean RGB in a 7x7 box around each point of a PNG, decoded in a blank tab (no decoder package). */
async function sampleColours(png: Uint8Array, points: { x: number; y: number }[]): Promise<number[][]> {
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
        return pts.map(({ x, y }) => {
          const { data } = ctx.getImageData(Math.round(x) - 3, Math.round(y) - 3, 7, 7);
          const rgb = [0, 0, 0];
          for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) rgb[c] += data[i + c];
          return rgb.map((v) => v / (data.length / 4));
        });
      },
      Buffer.from(png).toString("base64"),
      points,
    );
  } finally {
    await blank.close();
  }
}

async function screenshot(name: string): Promise<Uint8Array> {
  await mkdir(ARTIFACTS, { recursive: true });
  const png = await page.screenshot({ type: "png" });
  await writeFile(join(ARTIFACTS, `inspect-${name}.png`), png);
  return png;
}

async function waitForTiles(): Promise<void> {
  await page.waitForFunction(() => window.cimInspect.tilesLoaded(), { timeout: 120_000, polling: 250 });
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-inspect-e2e-");
  ({ demo, session, page } = ctx);
  serverUrl = demo.url.replace(/\/$/, "");
});

afterAll(async () => {
  await ctx?.close();
});

describe("close-inspection view (three.js)", () => {
  let picked: { x: number; y: number; properties: Props };

  it("streams the BIM layer and frames the building", async () => {
    await page.goto(`${serverUrl}/inspect/?layer=${DEMO_BIM_LAYER_ID}`, { waitUntil: "load" });
    await page.waitForFunction(() => window.cimInspect !== undefined, { timeout: 60_000 });
    await page.evaluate(() => window.cimInspect.ready);
    await waitForTiles();

    // Chinese by default, with the shared panel and a way back to the Cesium scene.
    expect(await page.$eval("html", (el) => el.lang)).toBe("zh-CN");
    expect(await page.$eval("#back-link", (el) => el.textContent)).toContain("返回三维场景");
    expect(await page.$eval("#back-link", (el) => (el as HTMLAnchorElement).href)).toBe(`${serverUrl}/`);
    expect(await page.$eval("#layer-name", (el) => el.textContent)).toContain("宿迁科创中心");
    expect(await page.$eval("#props-body", (el) => el.textContent)).toContain("单击构件查看属性");

    const wall = await page.evaluate(() =>
      window.cimInspect.screenPositionOf((p) => p.IfcClass === "IfcWall" && typeof p.GlobalId === "string"),
    );
    expect(wall, "no wall found on screen").not.toBeNull();
    picked = wall!;
    await screenshot("loaded");
  });

  it("picks a wall with the real mouse and shows its metadata in the shared properties panel", async () => {
    await page.mouse.click(picked.x, picked.y);
    await page.waitForSelector('#props-panel[data-selected="true"] .prop-row', { timeout: 30_000 });

    const globalId = await panelValue("GlobalId");
    const ifcClass = await panelValue("IfcClass");
    expect(ifcClass).toBe("IfcWall");
    expect(globalId).toMatch(/^[0-9A-Za-z_$]{22}$/);
    expect(globalId).toBe(picked.properties.GlobalId);
    expect(await page.evaluate(() => window.cimInspect.selectedProperties()?.GlobalId)).toBe(globalId);
    // Property-set values come through EXT_structural_metadata too (sanitized id as the row key).
    expect(await panelValue("Pset_WallCommon_IsExternal")).not.toBeNull();

    // The same element as the Cesium viewer and the BIM API know it (same GlobalId, class, name).
    const res = await fetch(`${serverUrl}/api/bim/${DEMO_BIM_LAYER_ID}/elements/${globalId}`);
    expect(res.status).toBe(200);
    const element = (await res.json()) as { globalId: string; ifcClass: string; name: string };
    expect(element.globalId).toBe(globalId);
    expect(element.ifcClass).toBe("IfcWall");
    expect(await panelValue("Name")).toBe(element.name);

    // The picked element is highlighted where it was clicked.
    await page.waitForFunction(() => window.cimInspect.tilesLoaded(), { timeout: 30_000, polling: 100 });
    const png = await screenshot("picked");
    const [[r, g, b]] = await sampleColours(png, [picked]);
    expect(r > b + 50 && g > b + 30, `highlight colour at the click, got rgb(${r}, ${g}, ${b})`).toBe(true);
  });

  it("switches to English through the shared i18n and clears the selection on empty space", async () => {
    await page.click("#lang-toggle");
    await page.waitForFunction(() => document.documentElement.lang === "en");
    expect(await page.$eval("#back-link", (el) => el.textContent)).toContain("Back to the scene");
    expect(await page.$eval("#props-panel .panel-title", (el) => el.textContent)).toBe("Properties");
    expect(await panelValue("IfcClass")).toBe("IfcWall");

    // Top-left of the free canvas, just under the title bar: background, no element.
    const empty = await page.evaluate(() => {
      const bar = document.querySelector(".inspect-bar")!.getBoundingClientRect();
      return { x: bar.left + 10, y: bar.bottom + 30 };
    });
    expect(await page.evaluate((p) => window.cimInspect.featureAt(p.x, p.y), empty)).toBeNull();
    await page.mouse.click(empty.x, empty.y);
    await page.waitForSelector('#props-panel[data-selected="false"]', { timeout: 10_000 });
    expect(await page.$eval("#props-body", (el) => el.textContent)).toContain("Click an element");
  });

  it("made no request beyond the server", () => {
    expect(session.externalRequests(serverUrl)).toEqual([]);
    const paths = session.requests.map((r) => new URL(r.url).pathname);
    expect(paths).toContain(`/tiles/${DEMO_BIM_LAYER_ID}/tileset.json`);
    expect(paths.some((p) => p.startsWith(`/tiles/${DEMO_BIM_LAYER_ID}/`) && p.endsWith(".glb"))).toBe(true);
    expect(session.pageErrors).toEqual([]);
  });
});
