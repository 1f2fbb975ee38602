import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DemoSession, openViewerPage, startDemoSession } from "../support/demo-session.ts";
import { runCli } from "../support/run-cli.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { settle } from "../support/viewer-page.ts";

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts");
let ctx: DemoSession | undefined;

/** Pixels whose colour differs clearly between two screenshots of the same view. */
async function changedPixels(a: Buffer, b: Buffer): Promise<number> {
  const [ra, rb] = await Promise.all([a, b].map((p) => sharp(p).removeAlpha().raw().toBuffer()));
  let changed = 0;
  for (let i = 0; i < ra.length; i += 3)
    if (Math.abs(ra[i] - rb[i]) + Math.abs(ra[i + 1] - rb[i + 1]) + Math.abs(ra[i + 2] - rb[i + 2]) > 60)
      changed++;
  return changed;
}

describeWithSharedData("point cloud layer in the viewer", () => {
  beforeAll(async () => {
    ctx = await startDemoSession("cim-pointcloud-e2e-");
    const out = join(ctx.dataDir, "autzen");
    const r = await runCli(["ingest", "las", sharedPath("las/autzen_trim.las"), "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const res = await fetch(new URL("api/layers", ctx.pageUrl), {
      method: "POST",
      headers: { authorization: `Bearer ${ctx.demo.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ path: out, id: "autzen" }),
    });
    expect(res.status, await res.text()).toBeLessThan(300);
    await mkdir(ARTIFACTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await ctx?.close();
  });

  it("shows autzen coloured by RGB, classification and height", async () => {
    const page = (ctx as DemoSession).page;
    await openViewerPage(page, (ctx as DemoSession).pageUrl);
    await page.waitForSelector('li[data-layer-id="autzen"][data-state="ready"]', { timeout: 120_000 });
    await page.click('li[data-layer-id="autzen"] .layer-fly');
    await settle(page, 2500);
    const shots: Record<string, Buffer> = {};
    for (const mode of ["rgb", "classification", "height"]) {
      await page.select('#pointcloud-panel [data-layer-id="autzen"] .pointcloud-mode', mode);
      await settle(page, 800);
      shots[mode] = Buffer.from(await page.screenshot({ type: "png" }));
      await writeFile(join(ARTIFACTS, `pointcloud-${mode}.png`), shots[mode]);
    }
    // Each mode paints the same points differently: thousands of point pixels change colour from mode to mode.
    expect(await changedPixels(shots.rgb, shots.classification)).toBeGreaterThan(2000);
    expect(await changedPixels(shots.classification, shots.height)).toBeGreaterThan(2000);
    const errors = (ctx as DemoSession).session.pageErrors.filter((e) => /shader|glsl|custom/i.test(e));
    expect(errors).toEqual([]);
  }, 300_000);
});
