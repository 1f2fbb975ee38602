import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { startDemo } from "../../cli/demo.ts";
import { type BrowserSession, openBrowser } from "./browser.ts";

/** The demo city served from a fresh data folder, with a headless Chromium to look at it. */
export interface DemoSession {
  demo: Awaited<ReturnType<typeof startDemo>>;
  session: BrowserSession;
  page: Page;
  dataDir: string;
  /** Server root with a trailing slash, e.g. http://127.0.0.1:41234/ */
  pageUrl: string;
  close(): Promise<void>;
}

export async function startDemoSession(tempPrefix: string): Promise<DemoSession> {
  const dataDir = await mkdtemp(join(tmpdir(), tempPrefix));
  const demo = await startDemo({ port: 0, dataDir, logger: false });
  const session = await openBrowser({ width: 1024, height: 700 });
  return {
    demo,
    session,
    page: session.page,
    dataDir,
    pageUrl: `${demo.url.replace(/\/$/, "")}/`,
    async close() {
      if (session.pageErrors.length) console.warn(`page errors:\n${session.pageErrors.join("\n")}`);
      await session.close();
      await demo.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the Cesium viewer and waits for its test hook, its catalog and an optional readiness condition. */
export async function openViewerPage(page: Page, url: string, readyWhen?: () => boolean): Promise<void> {
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.cimViewer !== undefined, { timeout: 60_000 });
  await page.evaluate(() => window.cimViewer!.ready);
  if (readyWhen) await page.waitForFunction(readyWhen, { timeout: 30_000 });
}
