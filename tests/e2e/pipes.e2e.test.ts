import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserSession } from "../support/browser.ts";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { settle as settleViewer, waitForTiles as waitForViewerTiles } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
const PIPES_LAYER = "demo-pipes";

type Props = Record<string, unknown>;
interface Point {
  x: number;
  y: number;
}
interface PipesState {
  underground: boolean;
  translucency: boolean;
  collisionDetection: boolean;
  hiddenClasses: string[];
  flow: boolean;
  target: { id: string; feature: string; pipeClass: string } | null;
  analysis: string;
  highlight: Record<string, string[]>;
}
interface Hook {
  ready: Promise<void>;
  tilesLoaded(id?: string): boolean;
  findFeatureOnScreen(
    predicate?: (p: Props) => boolean,
    options?: { step?: number; margin?: number },
  ): (Point & { properties: Props }) | null;
  pipes(): PipesState | null;
  pipeFeatureColor(id: string): string | null;
  pipesFlyTo(id: string): Promise<boolean>;
  viewer: { scene: { requestRender(): void } };
}
declare const window: { cimViewer: Hook };

interface Isolation {
  link: string;
  valves: string[];
  isolatedLinks: string[];
  counts: { valves: number; isolatedLinks: number; customers: number };
}
interface NetLink {
  id: string;
  kind: string;
  pipeClass: string;
  section: { diameter?: number };
  path: [number, number, number][];
}

let session: BrowserSession;
let page: Page;
const waitForTiles = () => waitForViewerTiles(page);
const settle = (ms?: number) => settleViewer(page, ms, 300);
let ctx: DemoSession | undefined;
let pageUrl: string;

async function screenshot(name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, `pipes-${name}.png`), await page.screenshot({ type: "png" }));
}

const pipesState = () => page.evaluate(() => window.cimViewer.pipes());
const api = async <T>(path: string): Promise<T> => (await (await fetch(new URL(path, pageUrl))).json()) as T;

beforeAll(async () => {
  ctx = await startDemoSession("cim-e2e-pipes-");
  ({ session, page, pageUrl } = ctx);
  await openViewerPage(page, pageUrl, () => window.cimViewer!.pipes() !== null);
  await waitForTiles();
});

afterAll(async () => {
  await ctx?.close();
});

describe("pipeline engineer tools", () => {
  let link: NetLink;
  let isolation: Isolation;

  it("shows the pipe panel with the class legend", async () => {
    // The opening view: the district from afar, where the pipes are drawn as lines (their coarse level of detail).
    await screenshot("far");
    expect(await page.$eval("#pipe-panel", (el) => (el as HTMLElement).hidden)).toBe(false);
    expect(await page.$eval("#pipe-panel .panel-title", (el) => el.textContent)).toBe("管线工具");
    const classes = await page.$$eval("#pipe-panel .pipe-class", (rows) =>
      rows.map((r) => [(r as HTMLElement).dataset.class, r.querySelector(".pipe-class-name")?.textContent]),
    );
    expect(Object.fromEntries(classes)).toMatchObject({ JS: "给水", YS: "雨水", WS: "污水", RQ: "燃气" });
  });

  it("switches on underground mode", async () => {
    await page.click("#pipe-panel .pipe-underground-toggle");
    await page.waitForFunction(() => window.cimViewer.pipes()?.underground === true, { timeout: 10_000 });
    const state = (await pipesState())!;
    expect(state.translucency).toBe(true);
    expect(state.collisionDetection).toBe(false);
  });

  it("selects a 给水 pipe with the mouse and shows its attributes", async () => {
    // A long-ish water main whose burst needs valves closed.
    const net = await api<{ links: NetLink[] }>(`tiles/${PIPES_LAYER}/network.json`);
    const length = (l: NetLink) => {
      const [a, b] = [l.path[0], l.path[l.path.length - 1]];
      return Math.hypot((b[0] - a[0]) * 92_000, (b[1] - a[1]) * 111_000);
    };
    const candidates = net.links.filter((l) => l.pipeClass === "JS" && l.kind === "pipe" && length(l) > 30);
    for (const c of candidates.slice(0, 40)) {
      const iso = await api<Isolation>(`api/pipes/${PIPES_LAYER}/isolate?link=${encodeURIComponent(c.id)}`);
      if (iso.counts.valves >= 2) {
        link = c;
        isolation = iso;
        break;
      }
    }
    expect(link, "no water pipe with valves around it").toBeDefined();

    await page.evaluate((id) => window.cimViewer.pipesFlyTo(id), link.id);
    await settle(1500);
    await screenshot("underground");
    const found = await page.evaluate(
      (id) => window.cimViewer.findFeatureOnScreen((p) => p.id === id, { step: 6, margin: 2 }),
      link.id,
    );
    expect(found, `pipe ${link.id} not on screen`).not.toBeNull();
    await page.mouse.click(found!.x, found!.y);
    await page.waitForFunction(
      (id) => document.querySelector<HTMLElement>("#pipe-panel .pipe-target")?.dataset.id === id,
      { timeout: 15_000 },
      link.id,
    );
    const row = (key: string) =>
      page.$eval(`#props-panel .prop-row[data-key="${key}"] .prop-value`, (el) => el.textContent ?? "");
    expect(await row("pipeClass")).toBe("给水 (JS)");
    expect(await row("diameter")).toBe(`${link.section.diameter} m`);
    expect(
      await page.$eval('#props-panel .prop-row[data-key="pipeClass"] .prop-label', (el) => el.textContent),
    ).toBe("管线类别");
    expect(await row("材质")).toBeTruthy();
  });

  it("runs the burst isolation and lists and highlights the valves to close", async () => {
    await page.click("#pipe-panel .pipe-isolate");
    await page.waitForSelector("#pipe-panel .pipe-valves .pipe-result-item", { timeout: 15_000 });
    const listed = await page.$$eval("#pipe-panel .pipe-valves .pipe-result-item", (bs) =>
      bs.map((b) => (b as HTMLElement).dataset.id),
    );
    expect([...listed].sort()).toEqual([...isolation.valves].sort());
    expect(await page.$eval("#pipe-panel .pipe-valves summary", (el) => el.textContent)).toContain(
      `（${isolation.counts.valves}）`,
    );
    const state = (await pipesState())!;
    expect(state.analysis).toBe("isolate");
    expect([...state.highlight.valve].sort()).toEqual([...isolation.valves].sort());
    await settle();

    // The style paints the valves bright red once it has been applied to the loaded tiles (a frame later on a
    // busy machine): wait for that, then check each loaded valve feature's colour.
    await page
      .waitForFunction(
        (ids) =>
          ids
            .map((id) => window.cimViewer.pipeFeatureColor(id))
            .filter((c): c is string => c !== null)
            .every((c) => {
              const [r, g, b] = c.match(/[\d.]+/g)!.map(Number);
              return r > 200 && g < 80 && b < 80;
            }),
        { timeout: 20_000, polling: 250 },
        isolation.valves,
      )
      .catch(() => undefined);
    const colors = await page.evaluate(
      (ids) => ids.map((id) => window.cimViewer.pipeFeatureColor(id)),
      isolation.valves,
    );
    const red = colors.filter((c): c is string => c !== null).map((c) => c.match(/[\d.]+/g)!.map(Number));
    expect(red.length, "no valve feature loaded").toBeGreaterThan(0);
    for (const [r, g, b] of red) {
      expect(r).toBeGreaterThan(200);
      expect(g).toBeLessThan(80);
      expect(b).toBeLessThan(80);
    }
    const pipeColor = await page.evaluate((id) => window.cimViewer.pipeFeatureColor(id), link.id);
    expect(pipeColor, "the burst pipe is not highlighted").not.toBeNull();
    await screenshot("isolation");

    await page.click(`#pipe-panel .pipe-valves .pipe-result-item[data-id="${isolation.valves[0]}"]`);
    await settle(1500);
    await screenshot("valve");
  });

  it("clears the results", async () => {
    await page.click("#pipe-panel .pipe-clear");
    await page.waitForFunction(() => window.cimViewer.pipes()?.analysis === "idle", { timeout: 10_000 });
    expect(await page.$$("#pipe-panel .pipe-valves")).toHaveLength(0);
    expect((await pipesState())!.highlight).toEqual({});
  });

  it("animates the flow direction with a custom shader", async () => {
    await page.click("#pipe-panel .pipe-flow-toggle");
    await page.waitForFunction(() => window.cimViewer.pipes()?.flow === true, { timeout: 10_000 });
    await settle(1000);
    await screenshot("flow");
    await page.click("#pipe-panel .pipe-flow-toggle");
    await page.waitForFunction(() => window.cimViewer.pipes()?.flow === false, { timeout: 10_000 });
    expect(session.externalRequests(pageUrl)).toEqual([]);
  });
});
