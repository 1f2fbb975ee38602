import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserSession } from "../support/browser.ts";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle as settleViewer, waitForTiles as waitForViewerTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const BIM_LAYER = "demo-bim";

type Props = Record<string, unknown>;
interface Point {
  x: number;
  y: number;
}
interface BimState {
  storey: string | null;
  hiddenClasses: string[];
  isolatedClass: string | null;
  ghost: boolean;
  focusGlobalId: string | null;
  exploded: boolean;
  clippingPlanes: number;
  indexState: string;
}

// The page-side helpers are typed loosely on purpose: the test only talks to `window.cimViewer`.
interface Hook {
  ready: Promise<void>;
  tilesLoaded(id?: string): boolean;
  findFeatureOnScreen(predicate?: (p: Props) => boolean): (Point & { properties: Props }) | null;
  featureAt(x: number, y: number): Props | null;
  selectedProperties(): Props | null;
  bim(): BimState | null;
  viewer: { scene: { requestRender(): void } };
}
declare const window: { cimViewer: Hook };

let session: BrowserSession;
let page: Page;
const waitForTiles = () => waitForViewerTiles(page);
const settle = (ms?: number) => settleViewer(page, ms, 200);
let ctx: DemoSession | undefined;
let pageUrl: string;
async function screenshot(name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, `bim-${name}.png`), await page.screenshot({ type: "png" }));
}

const bimState = () => page.evaluate(() => window.cimViewer.bim());
const featureAt = (p: Point) => page.evaluate((x, y) => window.cimViewer.featureAt(x, y), p.x, p.y);

/** A point on screen squarely on an element of this storey. */
async function onStorey(storey: string): Promise<Point & { properties: Props }> {
  const found = await page.evaluate(
    (s) => window.cimViewer.findFeatureOnScreen((p) => p.Storey === s),
    storey,
  );
  expect(found, `no ${storey} element on screen`).not.toBeNull();
  return found!;
}

/** Text of the grouped properties panel: group name -> row label -> value. */
async function panelGroups(): Promise<Record<string, Record<string, string>>> {
  return page.$$eval("#props-panel details.prop-group", (groups) =>
    Object.fromEntries(
      groups.map((g) => [
        (g as HTMLElement).dataset.group ?? "",
        Object.fromEntries(
          [...g.querySelectorAll(".prop-row")].map((row) => [
            row.querySelector(".prop-label")?.textContent ?? "",
            row.querySelector(".prop-value")?.textContent ?? "",
          ]),
        ),
      ]),
    ),
  );
}

/** Clicks a range input at a fraction of its width, as a user would. */
async function clickSlider(selector: string, fraction: number): Promise<void> {
  const el = (await page.$(selector))!;
  await el.scrollIntoView();
  const box = (await el.boundingBox())!;
  await page.mouse.click(box.x + box.width * fraction, box.y + box.height / 2);
}

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-bim-");
  ({ session, page, pageUrl } = ctx);
  await openViewerPage(page, pageUrl, () => window.cimViewer!.bim()?.indexState === "ready");
  await waitForTiles();
});

afterAll(async () => {
  await ctx?.close();
});

describe("BIM inspection in the viewer", () => {
  it("shows the BIM tools with the building's storeys and IFC classes", async () => {
    expect(await page.$eval("#bim-panel", (el) => (el as HTMLElement).hidden)).toBe(false);
    expect(await page.$eval("#bim-panel .panel-title", (el) => el.textContent)).toBe("BIM 工具");
    const storeys = await page.$$eval("#bim-panel .bim-storey", (bs) => bs.map((b) => b.textContent));
    expect(storeys).toEqual(["全部", "一层", "二层", "三层", "四层"]);
    const classes = await page.$$eval("#bim-panel .bim-class", (rows) =>
      rows.map((r) => [(r as HTMLElement).dataset.class, r.querySelector(".bim-class-count")?.textContent]),
    );
    expect(Object.fromEntries(classes)).toEqual({
      IfcDoor: "13",
      IfcSlab: "5",
      IfcSpace: "16",
      IfcWall: "28",
      IfcWindow: "78",
    });
  });

  it("flies to the building and shows a clicked exterior wall grouped by property set", async () => {
    await page.click("#bim-panel .bim-fly");
    await settle(2500);
    const wall = await page.evaluate(() =>
      window.cimViewer.findFeatureOnScreen(
        (p) => p.IfcClass === "IfcWall" && p.Pset_WallCommon_IsExternal === "true",
      ),
    );
    expect(wall, "no exterior wall on screen").not.toBeNull();
    await page.mouse.click(wall!.x, wall!.y);
    await page.waitForSelector('#props-panel details.prop-group[data-group="Pset_WallCommon"]', {
      timeout: 30_000,
    });

    expect(await page.$eval("#props-panel .bim-ifc-class", (el) => el.textContent)).toBe("IfcWall");
    expect(await page.$eval("#props-panel .bim-global-id", (el) => el.textContent)).toBe(
      wall!.properties.GlobalId,
    );
    expect(await page.$eval("#props-panel .feature-title", (el) => el.textContent)).toBe(
      wall!.properties.Name,
    );
    const groups = await panelGroups();
    expect(Object.keys(groups)[0], "attributes come first").toBe("");
    expect(groups[""]["IFC 类"]).toBe("IfcWall");
    expect(groups[""]["楼层"]).toBe(wall!.properties.Storey);
    expect(groups.Pset_WallCommon.IsExternal).toBe("是");
    expect(
      await page.$eval(
        '#props-panel details.prop-group[data-group="Pset_WallCommon"] .prop-group-name',
        (el) => el.textContent,
      ),
    ).toBe("Pset_WallCommon");
    // No empty rows: window/door/slab property sets of the schema are not listed for a wall.
    expect(Object.keys(groups).some((g) => g.startsWith("Pset_Window"))).toBe(false);
    expect(JSON.stringify(groups)).not.toContain("—");
    await settle(300);
    await screenshot("wall-selected");
  });

  it("shows one storey only and keeps the others from being picked", async () => {
    const first = await onStorey("一层");
    const second = await onStorey("二层");
    const third = await onStorey("三层");

    await page.click('#bim-panel .bim-storey[data-storey="二层"]');
    await page.waitForFunction(() => window.cimViewer.bim()?.storey === "二层", { timeout: 10_000 });
    expect(await page.$eval('#bim-panel .bim-storey[data-storey="二层"]', (b) => b.className)).toContain(
      "active",
    );
    await settle();

    expect((await featureAt(first))?.Storey, "一层 element still drawn").not.toBe("一层");
    expect((await featureAt(third))?.Storey, "三层 element still drawn").not.toBe("三层");
    expect((await featureAt(second))?.GlobalId, "二层 element lost").toBe(second.properties.GlobalId);
    await screenshot("storey-filtered");

    await page.click('#bim-panel .bim-storey[data-storey=""]');
    await page.waitForFunction(() => window.cimViewer.bim()?.storey === null, { timeout: 10_000 });
    await settle();
    expect((await featureAt(first))?.GlobalId).toBe(first.properties.GlobalId);
  });

  it("hides and isolates IFC classes", async () => {
    const wall = await page.evaluate(() =>
      window.cimViewer.findFeatureOnScreen((p) => p.IfcClass === "IfcWall"),
    );
    expect(wall, "no wall on screen").not.toBeNull();
    const isWall = async () => (await featureAt(wall!))?.IfcClass === "IfcWall";

    await page.click('#bim-panel .bim-class[data-class="IfcWall"] .bim-class-show');
    await page.waitForFunction(() => window.cimViewer.bim()?.hiddenClasses.includes("IfcWall"), {
      timeout: 10_000,
    });
    await settle();
    expect(await isWall(), "hidden walls still picked").toBe(false);
    await page.click('#bim-panel .bim-class[data-class="IfcWall"] .bim-class-show');
    await settle();
    expect(await isWall()).toBe(true);

    await page.click('#bim-panel .bim-class[data-class="IfcSlab"] .bim-class-isolate');
    await page.waitForFunction(() => window.cimViewer.bim()?.isolatedClass === "IfcSlab", {
      timeout: 10_000,
    });
    await settle();
    expect(await isWall(), "walls drawn while slabs are isolated").toBe(false);
    await page.click('#bim-panel .bim-class[data-class="IfcSlab"] .bim-class-isolate');
    await page.waitForFunction(() => window.cimViewer.bim()?.isolatedClass === null, { timeout: 10_000 });
    await settle();
    expect(await isWall()).toBe(true);
  });

  it("explodes the storeys vertically", async () => {
    const second = await onStorey("二层");
    await page.click("#bim-panel .bim-explode-toggle");
    await page.waitForFunction(() => window.cimViewer.bim()?.exploded === true, { timeout: 10_000 });
    await settle(1500);
    // Lifted by one storey gap (4 m): what was drawn at that pixel is not that element any more.
    expect((await featureAt(second))?.GlobalId).not.toBe(second.properties.GlobalId);
    await screenshot("exploded");

    await page.click("#bim-panel .bim-explode-toggle");
    await page.waitForFunction(() => window.cimViewer.bim()?.exploded === false, { timeout: 10_000 });
    await settle(1500);
    expect((await featureAt(second))?.GlobalId).toBe(second.properties.GlobalId);
  });

  it("cuts the building with a horizontal clipping plane", async () => {
    const first = await onStorey("一层");
    const third = await onStorey("三层");
    await page.select("#bim-panel .bim-plane-axis", "z");
    // About 5-6 m: through 二层, so 三层 and 四层 go.
    await clickSlider("#bim-panel .bim-plane-position", 0.35);
    await page.waitForFunction(() => (window.cimViewer.bim()?.clippingPlanes ?? 0) === 1, {
      timeout: 10_000,
    });
    await settle(1500);
    const height = Number.parseFloat(
      await page.$eval("#bim-panel .bim-plane-value", (el) => el.textContent!),
    );
    expect(height).toBeGreaterThan(4.3);
    expect(height).toBeLessThan(8.3);

    expect((await featureAt(third))?.Storey, "三层 not cut away").not.toBe("三层");
    expect((await featureAt(first))?.GlobalId, "一层 below the cut lost").toBe(first.properties.GlobalId);
    await screenshot("section-cut");

    await page.click("#bim-panel .bim-section-reset");
    await page.waitForFunction(() => window.cimViewer.bim()?.clippingPlanes === 0, { timeout: 10_000 });
    await settle(1500);
    expect((await featureAt(third))?.GlobalId).toBe(third.properties.GlobalId);
  });

  it("finds the main entrance by name, flies to it and selects it", async () => {
    const api = (await (
      await fetch(new URL(`api/bim/${BIM_LAYER}/elements?q=${encodeURIComponent("主入口")}`, pageUrl))
    ).json()) as { items: { globalId: string; ifcClass: string }[] };
    const door = api.items[0];
    expect(door.ifcClass).toBe("IfcDoor");

    await page.click("#bim-panel .bim-search-input", { count: 3 });
    await page.type("#bim-panel .bim-search-input", "主入口");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`#bim-panel .bim-result[data-global-id="${door.globalId}"]`, {
      timeout: 15_000,
    });
    await page.click(`#bim-panel .bim-result[data-global-id="${door.globalId}"]`);
    await page.waitForFunction(
      (id) => document.querySelector("#props-panel .bim-global-id")?.textContent === id,
      { timeout: 30_000 },
      door.globalId,
    );
    expect(await page.$eval("#props-panel .feature-title", (el) => el.textContent)).toBe("主入口");
    expect(await page.$eval("#props-panel .bim-ifc-class", (el) => el.textContent)).toBe("IfcDoor");
    expect((await page.evaluate(() => window.cimViewer.selectedProperties()))?.GlobalId).toBe(door.globalId);
    await settle(1000);
    // The flight ends with the door in view.
    const onScreen = await page.evaluate(
      (id) => window.cimViewer.findFeatureOnScreen((p) => p.GlobalId === id),
      door.globalId,
    );
    expect(onScreen, "the door is not on screen after the flight").not.toBeNull();
    await screenshot("search-door");

    // "Others transparent": the selected door stays opaque, the rest of the building turns see-through.
    await page.click("#bim-panel .bim-ghost-toggle");
    await page.waitForFunction(() => window.cimViewer.bim()?.ghost === true, { timeout: 10_000 });
    expect((await bimState())?.focusGlobalId).toBe(door.globalId);
    await settle();
    await screenshot("ghosted");
    await page.click("#bim-panel .bim-ghost-toggle");
    await page.waitForFunction(() => window.cimViewer.bim()?.ghost === false, { timeout: 10_000 });
  });

  it("switches the BIM tools to English", async () => {
    await page.click("#lang-toggle");
    await page.waitForFunction(
      () => document.querySelector("#bim-panel .panel-title")?.textContent === "BIM tools",
      { timeout: 10_000 },
    );
    expect(await page.$eval('#bim-panel .bim-storey[data-storey=""]', (el) => el.textContent)).toBe("All");
    expect(
      await page.$eval("#props-panel details.prop-group.basic .prop-group-name", (el) => el.textContent),
    ).toBe("Attributes");
    await page.click("#lang-toggle");
  });

  it("made no request to any host but the server", () => {
    const urls = session.requests.map((r) => r.url);
    expect(urls.some((u) => u.includes(`/api/bim/${BIM_LAYER}/storeys`))).toBe(true);
    expect(urls.some((u) => u.includes(`/tiles/${BIM_LAYER}/`) && u.endsWith(".glb"))).toBe(true);
    expect(session.externalRequests(pageUrl)).toEqual([]);
  });
});
