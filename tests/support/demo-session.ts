import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { inject } from "vitest";
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

/** `simulate`: run the demo's telemetry simulator (default off, so tests see a quiet demo). */
export async function startDemoSession(
  tempPrefix: string,
  opts: { simulate?: boolean } = {},
): Promise<DemoSession> {
  const dataDir = await mkdtemp(join(tmpdir(), tempPrefix));
  await copyDemoTemplate(dataDir);
  const demo = await startDemo({ port: 0, dataDir, logger: false, simulate: opts.simulate ?? false });
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

/**
 * A JSON request to the session's server with the admin token (what a test does through the API); throws with the
 * method, path, status and body when it fails. An empty body gives undefined.
 */
export async function demoApi<T>(
  session: DemoSession,
  path: string,
  init?: { method?: string; body?: unknown },
): Promise<T> {
  const res = await fetch(new URL(path, session.pageUrl), {
    method: init?.method ?? "GET",
    headers: { "content-type": "application/json", authorization: `Bearer ${session.demo.adminToken}` },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Opens the Cesium viewer and waits for its test hook, its catalog and an optional readiness condition. */
export async function openViewerPage(page: Page, url: string, readyWhen?: () => boolean): Promise<void> {
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.cimViewer !== undefined, { timeout: 60_000 });
  await page.evaluate(() => window.cimViewer!.ready);
  if (readyWhen) await page.waitForFunction(readyWhen, { timeout: 30_000 });
}

const TEMPLATE_PARTS = ["demo", "video"];

/**
 * Fills `dataDir` with the generated demo data (tiles, video; not the database) from the run's template,
 * generating the template first if no suite has: startDemo then finds its data and skips generation.
 * Workers run suites in parallel, so the first one takes a lock (an atomic mkdir) and the others wait.
 */
async function copyDemoTemplate(dataDir: string): Promise<void> {
  const root = inject("demoTemplateDir");
  const ready = join(root, "ready");
  if (!existsSync(ready)) await buildTemplate(root, ready);
  for (const part of TEMPLATE_PARTS) await cp(join(ready, part), join(dataDir, part), { recursive: true });
}

async function buildTemplate(root: string, ready: string): Promise<void> {
  try {
    await mkdir(join(root, "lock"));
  } catch {
    // Another worker is generating it.
    const until = Date.now() + 600_000;
    while (!existsSync(ready)) {
      if (existsSync(join(root, "failed")))
        throw new Error("generating the demo template failed in another suite");
      if (Date.now() > until) throw new Error(`demo template ${ready} did not appear within 10 min`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return;
  }
  const partial = join(root, "partial");
  try {
    const demo = await startDemo({ port: 0, dataDir: partial, logger: false, simulate: false });
    await demo.close();
  } catch (err) {
    await writeFile(join(root, "failed"), String(err));
    throw err;
  }
  await rm(join(partial, "pglite"), { recursive: true, force: true });
  await rename(partial, ready);
}
