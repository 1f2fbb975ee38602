import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, VIEWER_DIST } from "./paths.ts";

/** Builds the viewer with Vite when no build exists yet, so `npm start` works straight after `npm ci`. */
export async function ensureViewerBuilt(log: (line: string) => void = () => {}): Promise<string> {
  if (existsSync(join(VIEWER_DIST, "index.html"))) return VIEWER_DIST;
  log("building the viewer (first start only)...");
  const { build } = await import("vite");
  await build({ configFile: join(PROJECT_ROOT, "vite.config.ts"), logLevel: "warn" });
  return VIEWER_DIST;
}
