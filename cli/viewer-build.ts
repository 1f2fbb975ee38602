import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, VIEWER_DIST } from "./paths.ts";

/** Pages of the build (vite.config.ts inputs): a build from before a page existed is built again. */
const PAGES = ["index.html", "inspect/index.html", "cockpit.html"];

/** Builds the viewer with Vite when no build exists yet, so `npm start` works straight after `npm ci`. */
export async function ensureViewerBuilt(log: (line: string) => void = () => {}): Promise<string> {
  if (PAGES.every((page) => existsSync(join(VIEWER_DIST, page)))) return VIEWER_DIST;
  log("building the viewer (first start only)...");
  const { build } = await import("vite");
  await build({ configFile: join(PROJECT_ROOT, "vite.config.ts"), logLevel: "warn" });
  return VIEWER_DIST;
}
