import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveSourceCrs } from "../../ingest/crs/source-crs.ts";
import { readEpanetInp } from "../../ingest/pipes/epanet/read-epanet-inp.ts";
import { type IngestPipesSummary, ingestPipes } from "../../ingest/pipes/ingest-pipes.ts";
import { readSwmmInp } from "../../ingest/pipes/swmm/read-swmm-inp.ts";
import { PIPE_CLASS_RGB, pipeColor } from "../../ingest/pipes/tiles/pipe-colors.ts";
import { pipeFeatures } from "../../ingest/pipes/tiles/pipe-features.ts";
import { NetworkIndexSchema, PIPE_CLASSES } from "../../models/pipes.ts";
import { runCli } from "../support/run-cli.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { checkTileset, type TilesetReport } from "../support/tileset-checks.ts";

const NET1 = sharedPath("pipes/epanet/Net1.inp");
const NET2 = sharedPath("pipes/epanet/Net2.inp");
const SWMM = sharedPath("pipes/swmm/model_full_features.inp");

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "cim-pipes-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("pipe colours", () => {
  it("has a CJJ 61 colour for every class, node symbols lighter than links", () => {
    for (const c of PIPE_CLASSES) expect(PIPE_CLASS_RGB[c]).toHaveLength(3);
    expect(PIPE_CLASS_RGB.JS).toEqual([0, 112, 192]);
    expect(pipeColor("PS", "well")[0]).toBeGreaterThan(pipeColor("PS")[0]);
    expect(pipeColor("JS", "valve")).not.toEqual(pipeColor("JS", "hydrant"));
  });
});

describeWithSharedData("cim ingest pipes (EPANET Net1)", () => {
  let summary: IngestPipesSummary;
  let report: TilesetReport;
  beforeAll(async () => {
    summary = await ingestPipes({
      inputs: [NET1],
      out: join(work, "net1"),
      format: "epanet",
      origin: { lon: 118.29, lat: 33.96, height: 0 },
      units: "ft",
    });
    report = await checkTileset(join(work, "net1", "tileset.json"));
  }, 120_000);

  it("writes every link and every node symbol, counts equal to the reader's", async () => {
    const net = await readEpanetInp(NET1);
    expect(summary.nodes).toBe(net.nodes.length);
    expect(summary.links).toBe(net.links.length);
    const symbols = net.nodes.filter((n) => n.kind !== "junction").length;
    expect(summary.linkFeatures).toBe(net.links.length);
    expect(summary.nodeFeatures).toBe(symbols);
    expect(report.features.length).toBe(summary.features);
    expect(report.distinctFeatureIds).toBe(summary.features);
  });

  it("passes the tileset checks", () => {
    expect(report.errors).toEqual([]);
  });

  it("keeps typed and source attributes", () => {
    const pipe = report.features.find((f) => f.properties.id === "10" && f.properties.feature === "link");
    expect(pipe).toBeDefined();
    expect(pipe!.properties.diameter).toBeCloseTo(0.4572, 6);
    expect(pipe!.properties.length).toBeCloseTo(3209.544, 6);
    expect(pipe!.properties.kind).toBe("pipe");
    expect(pipe!.properties.pipeClass).toBe("JS");
    expect(pipe!.properties.from).toBe("10");
    expect(pipe!.properties.to).toBe("11");
    expect(pipe!.properties.Roughness).toBe(100);
    const tank = report.features.find((f) => f.properties.id === "2" && f.properties.feature === "node");
    expect(tank?.properties.kind).toBe("tank");
  });

  it("lands at the origin, in feet scaled to metres", () => {
    const [w, s, e, n] = summary.bbox;
    expect(w).toBeGreaterThan(118.29 - 1e-6);
    expect(s).toBeGreaterThan(33.96 - 1e-6);
    // Net1 spans x 10..70, y 10..90 feet: about 20 m x 25 m.
    expect((e - 118.29) * 111_320 * Math.cos((33.96 * Math.PI) / 180)).toBeLessThan(30);
    expect((n - 33.96) * 111_320).toBeLessThan(30);
  });

  it("writes network.json with the whole topology for the server", async () => {
    const index = NetworkIndexSchema.parse(
      JSON.parse(await readFile(join(work, "net1", "network.json"), "utf8")),
    );
    const net = await readEpanetInp(NET1);
    expect(index.nodes.map((n) => n.id).sort()).toEqual(net.nodes.map((n) => n.id).sort());
    expect(index.links.map((l) => l.id).sort()).toEqual(net.links.map((l) => l.id).sort());
    const pipe10 = index.links.find((l) => l.id === "10")!;
    expect([pipe10.from, pipe10.to]).toEqual([
      net.links.find((l) => l.id === "10")!.from,
      net.links.find((l) => l.id === "10")!.to,
    ]);
    expect(pipe10.path.length).toBeGreaterThanOrEqual(2);
    for (const n of index.nodes) {
      expect(Math.abs(n.lon - 118.29)).toBeLessThan(0.05);
      expect(Math.abs(n.lat - 33.96)).toBeLessThan(0.05);
    }
  });

  it("writes layer.json of type pipes", async () => {
    const layer = JSON.parse(await readFile(join(work, "net1", "layer.json"), "utf8"));
    expect(layer.type).toBe("pipes");
    expect(layer.featureCount).toBe(summary.features);
    const tileset = JSON.parse(await readFile(join(work, "net1", "tileset.json"), "utf8"));
    expect(Object.keys(tileset.schema.classes)).toEqual(["pipe_feature"]);
  });
});

describeWithSharedData("cim ingest pipes (EPANET Net2, SWMM)", () => {
  it("Net2 ingests with all its links", async () => {
    const net = await readEpanetInp(NET2);
    const s = await ingestPipes({
      inputs: [NET2],
      out: join(work, "net2"),
      format: "epanet",
      origin: { lon: 121.47, lat: 31.23, height: 0 },
    });
    expect(s.nodes).toBe(net.nodes.length);
    expect(s.links).toBe(net.links.length);
    expect(s.linkFeatures).toBe(net.links.length);
    const report = await checkTileset(join(work, "net2", "tileset.json"));
    expect(report.errors).toEqual([]);
    expect(report.features.length).toBe(s.features);
  }, 120_000);

  it("SWMM conduits lie below ground, wells reach from invert to rim", async () => {
    const net = await readSwmmInp(SWMM);
    const s = await ingestPipes({
      inputs: [SWMM],
      out: join(work, "swmm"),
      format: "swmm",
      origin: { lon: 118.29, lat: 33.96, height: 0 },
      units: "ft",
    });
    expect(s.nodes).toBe(net.nodes.length);
    expect(s.links).toBe(net.links.length);
    const report = await checkTileset(join(work, "swmm", "tileset.json"));
    expect(report.errors).toEqual([]);
    const withGeometry = net.nodes.filter(
      (n) =>
        ((n.kind === "well" || n.kind === "storage") &&
          n.invertElevation !== null &&
          n.groundElevation !== null &&
          n.groundElevation > n.invertElevation) ||
        ["valve", "hydrant", "meter", "outfall", "reservoir", "tank"].includes(n.kind),
    ).length;
    expect(s.features).toBe(withGeometry + net.links.length);
    expect(report.features.length).toBe(s.features);

    // Per conduit: its volume's top is below the ground of both end wells.
    const crs = resolveSourceCrs("ENU", { lon: 118.29, lat: 33.96, height: 0 });
    const { features } = pipeFeatures(net, crs, 0.3048);
    const nodes = new Map(net.nodes.map((n) => [n.id, n]));
    const conduits = features.filter((f) => f.properties.kind === "conduit");
    expect(conduits.length).toBeGreaterThan(0);
    for (const c of conduits) {
      for (const end of [c.properties.from, c.properties.to]) {
        const ground = nodes.get(String(end))!.groundElevation;
        if (ground !== null) expect(c.maxH).toBeLessThan(ground);
      }
    }
    // The root region spans the real heights: down to the lowest invert.
    const tileset = JSON.parse(await readFile(join(work, "swmm", "tileset.json"), "utf8"));
    const lowest = Math.min(...net.nodes.map((n) => n.invertElevation ?? Number.POSITIVE_INFINITY));
    expect(tileset.root.boundingVolume.region[4]).toBeLessThanOrEqual(lowest + 1e-6);
  }, 120_000);

  it("local coordinates without --origin or --crs are refused", async () => {
    await expect(
      ingestPipes({ inputs: [NET1], out: join(work, "no-origin"), format: "epanet" }),
    ).rejects.toThrow(/--origin/);
  });

  it("the CLI prints the summary", async () => {
    const out = join(work, "cli-net1");
    const r = await runCli([
      "ingest",
      "pipes",
      NET1,
      "--out",
      out,
      "--format",
      "epanet",
      "--origin",
      "118.29,33.96",
      "--units",
      "ft",
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const net = await readEpanetInp(NET1);
    expect(r.stdout).toMatch(new RegExp(`nodes read\\s+${net.nodes.length}`));
    expect(r.stdout).toMatch(new RegExp(`links read\\s+${net.links.length}`));
    expect(r.stdout).toMatch(/issues\s+0/);
    expect(r.stdout).toMatch(/tiles\s+\d+/);
  }, 120_000);
});

describe("cim ingest pipes (CJJ 61 tables)", () => {
  const N0 = 3386666.25;
  const E0 = 528770.24;
  const xy = (dn: number, de: number) => [(N0 + dn).toFixed(3), (E0 + de).toFixed(3)];
  const csv = (rows: (string | null)[][]) =>
    `${rows.map((r) => r.map((v) => v ?? "").join(",")).join("\n")}\n`;

  it("CGCS2000 GK tables: drains as boxes and tubes below ground, wells as cylinders", async () => {
    const points = join(work, "YS_管线点.csv");
    const lines = join(work, "YS_管线段.csv");
    await writeFile(
      points,
      csv([
        ["物探点号", "X", "Y", "地面高程", "埋深", "井底深", "特征", "附属物"],
        ["YS1", ...xy(20, 0), "21.20", "1.80", "2.10", null, "检查井"],
        ["YS2", ...xy(20, 60), "21.10", "2.00", "2.30", null, "检查井"],
        ["YS3", ...xy(25, -30), "21.05", "1.00", "1.20", null, "雨水篦"],
      ]),
    );
    await writeFile(
      lines,
      csv([
        ["起点号", "终点号", "起点埋深", "终点埋深", "管径", "断面尺寸", "材质"],
        ["YS3", "YS1", "1.00", "1.80", "300", null, "PVC"],
        ["YS1", "YS2", "1.80", "2.00", null, "1000x800", "钢筋混凝土"],
      ]),
    );
    const s = await ingestPipes({
      inputs: [points, lines],
      out: join(work, "cjj"),
      format: "cjj",
      crs: "EPSG:4547",
    });
    expect(s.links).toBe(2);
    expect(s.linkFeatures).toBe(2);
    const report = await checkTileset(join(work, "cjj", "tileset.json"));
    expect(report.errors).toEqual([]);
    expect(report.features.length).toBe(s.features);
    const box = report.features.find((f) => f.properties.feature === "link" && f.properties.width === 1);
    expect(box?.properties.height).toBeCloseTo(0.8, 6);
    expect(box?.properties.pipeClass).toBe("YS");
    // Everything drawn lies below the 21.1 m ground; the lowest point is a pipe bottom about 2 m down.
    expect(s.bbox[5]).toBeLessThanOrEqual(21.2 + 1e-6);
    expect(s.bbox[4]).toBeLessThan(19.5);
  }, 60_000);
});
