import type { Page } from "puppeteer-core";

/** Resolves when every tileset the Cesium viewer shows has finished loading. */
export async function waitForTiles(page: Page): Promise<void> {
  await page.waitForFunction(() => window.cimViewer!.tilesLoaded(), { timeout: 120_000, polling: 250 });
}

/** Resolves once a camera flight has ended: a busy machine can take longer than any fixed delay. */
export async function waitForCameraStill(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const c = window.cimViewer!.viewer.camera.positionWC;
      const key = `${c.x.toFixed(2)},${c.y.toFixed(2)},${c.z.toFixed(2)}`;
      const w = window as unknown as { lastCameraKey?: string };
      const still = w.lastCameraKey === key;
      w.lastCameraKey = key;
      return still;
    },
    { timeout: 60_000, polling: 400 },
  );
}

/** Lets the viewer render what changed (style, shader, clipping, camera) and finish loading tiles. */
export async function settle(page: Page, ms = 800, after = 200): Promise<void> {
  await page.evaluate(() => window.cimViewer!.viewer.scene.requestRender());
  await new Promise((r) => setTimeout(r, ms));
  await waitForCameraStill(page);
  await waitForTiles(page);
  await page.evaluate(() => window.cimViewer!.viewer.scene.requestRender());
  await new Promise((r) => setTimeout(r, after));
}
