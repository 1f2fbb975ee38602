import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDemoCity } from "../../ingest/synthetic/demo-city.ts";
import { writeSyntheticBuildings } from "../../ingest/synthetic/many-buildings.ts";
import { runCli } from "../support/run-cli.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "cim-cli-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("cim ingest buildings (the real executable)", () => {
  it("converts a file and prints the summary with the measured position error", async () => {
    const input = join(work, "demo.geojson");
    await writeFile(input, JSON.stringify(generateDemoCity().buildings));
    const out = join(work, "demo-tiles");
    const r = await runCli(["ingest", "buildings", input, "--out", out, "--tile-features", "60"]);
    expect(r.stderr).toMatch(/tiles/);
    expect(r.code).toBe(0);
    const count = generateDemoCity().buildings.features.length;
    expect(r.stdout).toMatch(new RegExp(`features written\\s+${count}`));
    expect(r.stdout).toMatch(/skipped\s+0/);
    const mm = Number(/max position error\s+([\d.]+) mm/.exec(r.stdout)?.[1]);
    expect(mm).toBeLessThan(10);
    expect(existsSync(join(out, "tileset.json"))).toBe(true);
  });

  it("exits non-zero naming the file and feature for bad input", async () => {
    const input = join(work, "bad.geojson");
    await writeFile(
      input,
      JSON.stringify({
        type: "FeatureCollection",
        features: [
          { type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [[[0, 0], [1]]] } },
        ],
      }),
    );
    const r = await runCli(["ingest", "buildings", input, "--out", join(work, "bad-out")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cim: error: ${input}: feature 0: ring 0 position 1`);
    expect(existsSync(join(work, "bad-out"))).toBe(false);
  });

  it("rejects a bad flag value before doing any work", async () => {
    const r = await runCli([
      "ingest",
      "buildings",
      "x.geojson",
      "--out",
      join(work, "x"),
      "--floor-height",
      "-3",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--floor-height must be a positive number/);
  });

  describe("a run killed while writing tiles", () => {
    let input: string;
    beforeAll(async () => {
      input = join(work, "many.geojsonl");
      await writeSyntheticBuildings(input, 60_000);
    });

    it("SIGKILL leaves no tileset.json at --out, and the next run cleans up and succeeds", async () => {
      const out = join(work, "killed");
      const r = await runCli(["ingest", "buildings", input, "--out", out], { killWhenStderr: /tiles\s+\[/ });
      expect(r.signal).toBe("SIGKILL");
      expect(existsSync(join(out, "tileset.json"))).toBe(false);
      expect((await readdir(work)).some((n) => n.startsWith("killed.partial-"))).toBe(true);
      const again = await runCli(["ingest", "buildings", input, "--out", out]);
      expect(again.code).toBe(0);
      expect(existsSync(join(out, "tileset.json"))).toBe(true);
      expect((await readdir(work)).filter((n) => n.startsWith("killed.partial-"))).toEqual([]);
    });

    it("SIGTERM removes its partial output before exiting", async () => {
      const out = join(work, "terminated");
      const r = await runCli(["ingest", "buildings", input, "--out", out], {
        killWhenStderr: /tiles\s+\[/,
        signal: "SIGTERM",
      });
      expect(r.code === 0).toBe(false);
      expect(existsSync(join(out, "tileset.json"))).toBe(false);
      expect((await readdir(work)).filter((n) => n.startsWith("terminated."))).toEqual([]);
    });
  });
});
