import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ingestIfc } from "../../ingest/ifc/ingest-ifc.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { checkTileset } from "../support/tileset-checks.ts";

/**
 * Small files and small machines mesh on the calling thread, large files on many cores in worker threads: both
 * paths must write the same layer. (The in-process path is the default on this test machine; the worker path is
 * asked for explicitly.)
 */
describeWithSharedData("IFC extraction: calling thread and worker threads", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "cim-ifc-paths-"));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("AC20-FZK-Haus gives the same elements, properties and tiles either way", async () => {
    const input = sharedPath("ifc/AC20-FZK-Haus.ifc");
    const inProcess = await ingestIfc({ input, out: join(work, "in-process"), workers: 0 });
    const threaded = await ingestIfc({ input, out: join(work, "workers"), workers: 2 });
    expect(threaded.products).toBe(inProcess.products);
    expect(threaded.triangles).toBe(inProcess.triangles);
    expect(threaded.tiles).toBe(inProcess.tiles);
    const elements = async (dir: string) =>
      JSON.parse(await readFile(join(work, dir, "elements.json"), "utf8"));
    expect(await elements("workers")).toEqual(await elements("in-process"));
    const a = await checkTileset(join(work, "in-process", "tileset.json"));
    const b = await checkTileset(join(work, "workers", "tileset.json"));
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    const rows = (r: typeof a) =>
      r.features
        .map((f) => f.properties)
        .sort((x, y) => String(x.GlobalId).localeCompare(String(y.GlobalId)));
    expect(rows(b)).toEqual(rows(a));
  }, 240_000);
});
