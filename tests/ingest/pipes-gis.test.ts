import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger, NodeIO } from "@gltf-transform/core";
import iconv from "iconv-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCjjTables } from "../../ingest/pipes/cjj/read-cjj.ts";
import { GisImportError, readGisNetwork } from "../../ingest/pipes/gis/read-gis.ts";
import { PIPE_CLASS_RGB } from "../../ingest/pipes/tiles/pipe-colors.ts";
import { type NetworkIndex, NetworkIndexSchema, type PipeClass } from "../../models/pipes.ts";
import { runCli } from "../support/run-cli.ts";
import {
  type ShapefileFields,
  writeLineShapefile,
  writePointShapefile,
} from "../support/shapefile-writer.ts";
import { checkTileset, type TilesetReport } from "../support/tileset-checks.ts";

/*
 * A hand-built network in Wuhan, CGCS2000 3° Gauss-Krüger CM 114E (EPSG:4547; x = easting ≈ 528 770 m,
 * y = northing ≈ 3 386 666 m):
 *   给水 JS1 (tee) – JS2 (valve) – JS3 (bend, reached over a kink) – JS4 (hydrant; that line drawn backwards),
 *   雨水 YS1 (manhole) = box culvert = YS2 (manhole) – YS3 (outfall),
 *   电信 ducts: two lines without 起点号/终点号 whose touching ends (5 cm apart) snap to one new junction,
 *   燃气: one 3D line whose Z values are its pipe-top elevations, ends snapped to new junctions.
 * The same network is written as one mixed GeoJSON and as a line + a point Shapefile with GBK attributes.
 */

const CRS = "EPSG:4547";
const E0 = 528770.24;
const N0 = 3386666.25;
const at = (de: number, dn: number, z?: number): number[] =>
  z === undefined ? [E0 + de, N0 + dn] : [E0 + de, N0 + dn, z];

type Props = Record<string, string | number>;
const POINTS: { xy: number[]; props: Props }[] = [
  { xy: at(0, 0), props: { 物探点号: "JS1", 地面高程: 21.35, 埋深: 1.2, 特征: "三通", 管类: "给水" } },
  { xy: at(50, 0), props: { 物探点号: "JS2", 地面高程: 21.4, 埋深: 1.1, 附属物: "阀门", 管类: "给水" } },
  { xy: at(100, 0), props: { 物探点号: "JS3", 地面高程: 21.52, 埋深: 1.15, 特征: "弯头", 管类: "给水" } },
  {
    xy: at(100, 50),
    props: {
      物探点号: "JS4",
      地面高程: 21.6,
      埋深: 1.05,
      附属物: "消防栓",
      管类: "给水",
      备注: "地上式，SS100",
    },
  },
  {
    xy: at(0, 20),
    props: { 物探点号: "YS1", 地面高程: 21.2, 埋深: 1.8, 井底深: 2.1, 附属物: "检查井", 管类: "雨水" },
  },
  {
    xy: at(60, 20),
    props: { 物探点号: "YS2", 地面高程: 21.1, 埋深: 2, 井底深: 2.3, 附属物: "检查井", 管类: "雨水" },
  },
  { xy: at(140, 20), props: { 物探点号: "YS3", 地面高程: 19.5, 埋深: 1.5, 附属物: "排放口", 管类: "雨水" } },
];

const LINES: { path: number[][]; props: Props }[] = [
  {
    path: [at(0, 0), at(50, 0)],
    props: {
      起点号: "JS1",
      终点号: "JS2",
      起点埋深: 1.2,
      终点埋深: 1.1,
      管径: "DN300",
      材质: "球墨铸铁",
      权属单位: "武汉市水务集团",
      管类: "给水",
    },
  },
  {
    path: [at(50, 0), at(75, 3), at(100, 0)],
    props: {
      起点号: "JS2",
      终点号: "JS3",
      起点埋深: 1.1,
      终点埋深: 1.15,
      管径: "DN300",
      材质: "球墨铸铁",
      管类: "给水",
    },
  },
  {
    // Drawn from JS4 to JS3 although the attributes say JS3 → JS4.
    path: [at(100, 50), at(100, 0)],
    props: {
      起点号: "JS3",
      终点号: "JS4",
      起点埋深: 1.15,
      终点埋深: 1.05,
      管径: "DN150",
      材质: "PE",
      管类: "给水",
    },
  },
  {
    path: [at(0, 20), at(60, 20)],
    props: {
      起点号: "YS1",
      终点号: "YS2",
      起点埋深: 1.8,
      终点埋深: 2,
      断面尺寸: "1000x800",
      材质: "钢筋混凝土",
      权属单位: "武汉市水务局",
      管类: "雨水",
    },
  },
  {
    path: [at(60, 20), at(140, 20)],
    props: {
      起点号: "YS2",
      终点号: "YS3",
      起点埋深: 2,
      终点埋深: 1.5,
      管径: "400",
      材质: "PVC",
      管类: "雨水",
    },
  },
  {
    path: [at(10, -10), at(40, -10)],
    props: {
      断面尺寸: "300x200",
      起点高程: 20.5,
      终点高程: 20.4,
      材质: "PVC",
      管类: "电信",
      权属单位: "中国电信",
    },
  },
  {
    path: [at(40.03, -10.04), at(80, -10)],
    props: {
      断面尺寸: "300x200",
      起点高程: 20.4,
      终点高程: 20.3,
      材质: "PVC",
      管类: "电信",
      权属单位: "中国电信",
    },
  },
  {
    path: [at(0, -20, 20.1), at(30, -20, 20.05), at(60, -20, 20)],
    props: { 管径: "DN100", 材质: "钢", 管类: "燃气", 权属单位: "武汉天然气公司" },
  },
];

const FLAT_Z = 0;

const POINT_FIELDS: ShapefileFields = {
  物探点号: { type: "C", length: 16 },
  地面高程: { type: "N", length: 10, decimals: 2 },
  埋深: { type: "N", length: 8, decimals: 2 },
  井底深: { type: "N", length: 8, decimals: 2 },
  特征: { type: "C", length: 20 },
  附属物: { type: "C", length: 20 },
  管类: { type: "C", length: 10 },
  备注: { type: "C", length: 40 },
};
const LINE_FIELDS: ShapefileFields = {
  起点号: { type: "C", length: 16 },
  终点号: { type: "C", length: 16 },
  起点埋深: { type: "N", length: 8, decimals: 2 },
  终点埋深: { type: "N", length: 8, decimals: 2 },
  起点高程: { type: "N", length: 10, decimals: 2 },
  终点高程: { type: "N", length: 10, decimals: 2 },
  管径: { type: "C", length: 10 },
  断面尺寸: { type: "C", length: 16 },
  材质: { type: "C", length: 20 },
  权属单位: { type: "C", length: 40 },
  管类: { type: "C", length: 10 },
};
const PRJ_4547 = `PROJCS["CGCS2000_3_Degree_GK_CM_114E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",114.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`;

function featureCollection(features: unknown[], crs = CRS): string {
  return JSON.stringify({
    type: "FeatureCollection",
    crs: { type: "name", properties: { name: `urn:ogc:def:crs:${crs.replace(":", "::")}` } },
    features,
  });
}
const pointFeature = (xy: number[], props: Props) => ({
  type: "Feature",
  geometry: { type: "Point", coordinates: xy },
  properties: props,
});
const lineFeature = (path: number[][], props: Props) => ({
  type: "Feature",
  geometry: { type: "LineString", coordinates: path },
  properties: props,
});

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "cim-pipes-gis-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function ingest(args: string[]) {
  return runCli(["ingest", "pipes", ...args]);
}

async function networkJson(out: string): Promise<NetworkIndex> {
  return NetworkIndexSchema.parse(JSON.parse(await readFile(join(out, "network.json"), "utf8")));
}

/** sRGB 0-255 → linear, as glTF base colour factors store it. */
function linear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** Base colour of every feature, read from the GLB primitives that draw it (feature id → property table row). */
async function featureColours(out: string, report: TilesetReport): Promise<Map<string, number[]>> {
  const io = new NodeIO().setLogger(new Logger(Logger.Verbosity.SILENT));
  const colours = new Map<string, number[]>();
  for (const tile of new Set(report.features.map((f) => f.tile))) {
    const doc = await io.readBinary(new Uint8Array(await readFile(join(out, tile))));
    const rows = report.features.filter((f) => f.tile === tile);
    for (const mesh of doc.getRoot().listMeshes()) {
      for (const prim of mesh.listPrimitives()) {
        const colour = prim.getMaterial()?.getBaseColorFactor() ?? [1, 1, 1, 1];
        const ids = prim.getAttribute("_FEATURE_ID_0")?.getArray() ?? [];
        for (const fid of new Set(ids)) {
          const row = rows.find((r) => r.featureId === fid);
          if (row) colours.set(`${row.properties.feature}:${row.properties.id}`, [...colour]);
        }
      }
    }
  }
  return colours;
}

/** Assertions shared by the GeoJSON and the Shapefile ingest of the same network. */
function expectNetwork(label: string, out: () => string) {
  let report: TilesetReport;
  let index: NetworkIndex;
  beforeAll(async () => {
    report = await checkTileset(join(out(), "tileset.json"));
    index = await networkJson(out());
  }, 240_000);

  it(`${label}: passes the tileset checks with every link and node symbol`, () => {
    expect(report.errors).toEqual([]);
    // 8 links; wells YS1, YS2 as cylinders, valve JS2, hydrant JS4, outfall YS3 as symbols (junctions: none).
    expect(report.features.filter((f) => f.properties.feature === "link")).toHaveLength(8);
    expect(
      report.features
        .filter((f) => f.properties.feature === "node")
        .map((f) => f.properties.id)
        .sort(),
    ).toEqual(["JS2", "JS4", "YS1", "YS2", "YS3"]);
  });

  it(`${label}: topology from 起点号/终点号, and snapped line ends joined by new junctions`, () => {
    // 7 point features + J1..J5 (telecom: 3 ends, the touching pair is one node; gas: 2 ends).
    expect(index.nodes.map((n) => n.id).sort()).toEqual(
      ["J1", "J2", "J3", "J4", "J5", "JS1", "JS2", "JS3", "JS4", "YS1", "YS2", "YS3"].sort(),
    );
    const ends = index.links.map((l) => `${l.from}>${l.to}`).sort();
    expect(ends).toEqual(
      ["JS1>JS2", "JS2>JS3", "JS3>JS4", "YS1>YS2", "YS2>YS3", "J1>J2", "J2>J3", "J4>J5"].sort(),
    );
    const telecom = index.links.filter((l) => l.pipeClass === "TX");
    expect(telecom).toHaveLength(2);
    expect(telecom[0].to).toBe(telecom[1].from);
    expect(index.nodes.find((n) => n.id === "YS3")?.kind).toBe("outfall");
    expect(index.nodes.find((n) => n.id === "JS2")?.kind).toBe("valve");
    // JS3 → JS4 was drawn from JS4: the stored path starts at JS3 (100 m east) and ends 50 m north of it.
    const js34 = index.links.find((l) => l.from === "JS3")!;
    const js3 = index.nodes.find((n) => n.id === "JS3")!;
    const js4 = index.nodes.find((n) => n.id === "JS4")!;
    expect(js34.path[0][0]).toBeCloseTo(js3.lon, 9);
    expect(js34.path[js34.path.length - 1][1]).toBeCloseTo(js4.lat, 9);
    // The kinked line keeps its middle vertex.
    expect(index.links.find((l) => l.from === "JS2")!.path).toHaveLength(3);
  });

  it(`${label}: pipe axis heights follow the depth convention of each class`, () => {
    const link = (from: string) => index.links.find((l) => l.from === from)!;
    // 给水 (depth to the pipe top): axis = ground − depth − D/2.
    expect(link("JS1").path[0][2]).toBeCloseTo(21.35 - 1.2 - 0.15, 6);
    expect(link("JS1").path[1][2]).toBeCloseTo(21.4 - 1.1 - 0.15, 6);
    expect(link("JS3").path[1][2]).toBeCloseTo(21.6 - 1.05 - 0.075, 6);
    // 雨水 (depth to the invert): axis = ground − depth + H/2.
    expect(link("YS1").path[0][2]).toBeCloseTo(21.2 - 1.8 + 0.4, 6);
    expect(link("YS2").path[1][2]).toBeCloseTo(19.5 - 1.5 + 0.2, 6);
    expect(link("YS1").fromInvert).toBeCloseTo(19.4, 6);
    // 电信 (起点高程 is the duct top): axis = elevation − H/2.
    const tx = index.links.filter((l) => l.pipeClass === "TX").sort((a, b) => a.path[0][0] - b.path[0][0]);
    expect(tx[0].path[0][2]).toBeCloseTo(20.5 - 0.1, 6);
    expect(tx[1].path[1][2]).toBeCloseTo(20.3 - 0.1, 6);
    // 燃气 from Z (pipe top): axis = z − D/2.
    const gas = index.links.find((l) => l.pipeClass === "RQ")!;
    expect(gas.path[0][2]).toBeCloseTo(20.1 - 0.05, 6);
    expect(gas.path[gas.path.length - 1][2]).toBeCloseTo(20 - 0.05, 6);
    // Wells reach from ground − 井底深 up.
    expect(index.nodes.find((n) => n.id === "YS1")?.invertElevation).toBeCloseTo(21.2 - 2.1, 6);
  });

  it(`${label}: class colours after CJJ 61 and Chinese attributes as in the source`, async () => {
    const colours = await featureColours(out(), report);
    const expectClass = (key: string, cls: PipeClass) => {
      const c = colours.get(key);
      expect(c, key).toBeDefined();
      expect(c!.slice(0, 3).map((v) => Math.round(v * 1000) / 1000)).toEqual(
        PIPE_CLASS_RGB[cls].map((v) => Math.round(linear(v) * 1000) / 1000),
      );
    };
    const linkId = (from: string) => index.links.find((l) => l.from === from)!.id;
    expectClass(`link:${linkId("JS1")}`, "JS");
    expectClass(`link:${linkId("YS1")}`, "YS");
    expectClass(`link:${index.links.find((l) => l.pipeClass === "TX")!.id}`, "TX");
    expectClass(`link:${index.links.find((l) => l.pipeClass === "RQ")!.id}`, "RQ");
    // 给水 blue, 雨水 brown, 燃气 pink.
    const js = colours.get(`link:${linkId("JS1")}`)!;
    expect(js[2]).toBeGreaterThan(js[0]);

    // Property ids are identifiers; the schema keeps each source attribute name (Chinese) as the property name.
    const tileset = JSON.parse(await readFile(join(out(), "tileset.json"), "utf8"));
    const schema = tileset.schema.classes.pipe_feature.properties as Record<string, { name?: string }>;
    const named = (props: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(props).map(([k, v]) => [schema[k]?.name ?? k, v]));
    const js12 = report.features.find((f) => f.properties.feature === "link" && f.properties.from === "JS1")!;
    expect(named(js12.properties)).toMatchObject({
      起点号: "JS1",
      终点号: "JS2",
      材质: "球墨铸铁",
      权属单位: "武汉市水务集团",
      管类: "给水",
      管径: "DN300",
      diameter: 0.3,
      pipeClass: "JS",
    });
    const hydrant = report.features.find((f) => f.properties.id === "JS4")!;
    expect(named(hydrant.properties)).toMatchObject({
      附属物: "消防栓",
      备注: "地上式，SS100",
      kind: "hydrant",
    });
    const gas = report.features.find((f) => f.properties.pipeClass === "RQ")!;
    expect(named(gas.properties).权属单位).toBe("武汉天然气公司");
  });
}

describe("cim ingest pipes --format geojson", () => {
  const out = () => join(work, "geojson-out");
  beforeAll(async () => {
    const file = join(work, "管网.geojson");
    await writeFile(
      file,
      featureCollection([
        ...LINES.map((l) => lineFeature(l.path, l.props)),
        ...POINTS.map((p) => pointFeature(p.xy, p.props)),
      ]),
    );
    const r = await ingest([file, "--format", "geojson", "--out", out()]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nodes read\s+12/);
    expect(r.stdout).toMatch(/links read\s+8/);
    expect(r.stdout).toMatch(/issues\s+0/);
  }, 240_000);
  expectNetwork("GeoJSON", out);

  it("the depth convention is configurable per class through the mapping", async () => {
    const inputs = [join(work, "管网.geojson")];
    const base = await readGisNetwork({ inputs, format: "geojson" });
    const topped = await readGisNetwork({ inputs, format: "geojson", mapping: { depths: { YS: "top" } } });
    const ys12 = (net: typeof base) => net.links.find((l) => l.from === "YS1")!;
    expect(ys12(base).fromInvert).toBeCloseTo(21.2 - 1.8, 6);
    // 雨水 measured to the top now: the 0.8 m high box culvert's bottom is 0.8 m lower.
    expect(ys12(topped).fromInvert).toBeCloseTo(21.2 - 1.8 - 0.8, 6);
    expect(topped.links.find((l) => l.from === "JS1")!.fromInvert).toBeCloseTo(21.35 - 1.2 - 0.3, 6);
  });
});

describe("cim ingest pipes --format shp (GBK attributes, .prj, PolyLineZ)", () => {
  const out = () => join(work, "shp-out");
  beforeAll(async () => {
    const dir = join(work, "shp");
    await mkdir(dir);
    // A 3D line layer: lines without heights carry Z = 0, which the reader must treat as "no Z".
    await writeLineShapefile(
      join(dir, "管线"),
      LINES.map((l) => ({
        parts: [l.path.map((p) => (p.length === 3 ? p : [...p, FLAT_Z]))],
        attributes: l.props,
      })),
      LINE_FIELDS,
      { encoding: "gbk", prj: PRJ_4547 },
    );
    await writePointShapefile(
      join(dir, "管线点"),
      POINTS.map((p) => ({ point: p.xy, attributes: p.props })),
      POINT_FIELDS,
      { encoding: "gbk", prj: PRJ_4547 },
    );
    const r = await ingest([
      join(dir, "管线.shp"),
      join(dir, "管线点.shp"),
      "--format",
      "shp",
      "--out",
      out(),
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nodes read\s+12/);
    expect(r.stdout).toMatch(/links read\s+8/);
  }, 240_000);
  expectNetwork("Shapefile", out);

  it("reads the GBK .dbf without a .cpg (field names and values)", async () => {
    const net = await readGisNetwork({
      inputs: [join(work, "shp", "管线.shp"), join(work, "shp", "管线点.shp")],
      format: "shp",
    });
    expect(net.crs).toContain("CGCS2000_3_Degree_GK_CM_114E");
    expect(net.issues.map((i) => [i.file, i.severity, i.problem])).toEqual(
      ["管线.shp", "管线点.shp"].map((f) => [
        join(work, "shp", f),
        "warning",
        "attributes read as GBK (GB18030): no .cpg and the .dbf bytes are not valid UTF-8",
      ]),
    );
    const ys1 = net.nodes.find((n) => n.id === "YS1")!;
    expect(ys1.attributes).toMatchObject({ 物探点号: "YS1", 附属物: "检查井", 地面高程: 21.2, 井底深: 2.1 });
  });
});

describe("bad features", () => {
  const points = () => join(work, "bad", "points.geojson");
  const lines = () => join(work, "bad", "lines.geojson");
  beforeAll(async () => {
    await mkdir(join(work, "bad"));
    await writeFile(points(), featureCollection(POINTS.map((p) => pointFeature(p.xy, p.props))));
    const good = LINES.slice(0, 5).map((l) => lineFeature(l.path, l.props));
    await writeFile(
      lines(),
      featureCollection([
        ...good, // rows 0-4
        lineFeature([at(0, 0), at(20, 20)], { 起点号: "JS1", 终点号: "JS9", 管径: "DN100", 管类: "给水" }), // 5
        lineFeature([at(0, 0), at(0, 0.01)], { 起点号: "JS1", 终点号: "JS1", 管径: "DN100", 管类: "给水" }), // 6
        lineFeature([at(0, 0), at(50, 0)], { 起点号: "JS1", 终点号: "JS2", 管径: "DN300", 管类: "给水" }), // 7
        lineFeature([at(0, 0), at(100, 0.5), at(100, 0)], {
          起点号: "JS1",
          终点号: "JS3",
          起点埋深: -1.2,
          管径: "",
          管类: "给水",
        }), // 8
        {
          type: "Feature",
          geometry: { type: "Polygon", coordinates: [[at(0, 0), at(1, 0), at(1, 1), at(0, 0)]] },
          properties: { 管类: "给水" },
        }, // 9
        lineFeature([at(0, 20), at(60, 20)], { 起点号: "YS1", 终点号: "YS2", 管径: "D3O0", 管类: "雨水" }), // 10
      ]),
    );
  });

  it("reports each problem with file, row (feature index) and column, and skips the bad features", async () => {
    const net = await readGisNetwork({ inputs: [lines(), points()], format: "geojson" });
    const problems = net.issues.map((i) => [
      i.file === lines() ? "lines" : i.file,
      i.row,
      i.column,
      i.severity,
    ]);
    expect(problems).toEqual([
      ["lines", 5, "终点号", "error"],
      ["lines", 6, null, "error"],
      ["lines", 7, null, "error"],
      ["lines", 8, "管径", "warning"],
      ["lines", 8, "起点埋深", "error"],
      ["lines", 9, null, "error"],
      ["lines", 10, null, "error"],
    ]);
    const text = net.issues.map((i) => i.problem);
    expect(text).toEqual([
      expect.stringContaining('unknown end point id "JS9"'),
      expect.stringContaining("zero-length segment"),
      expect.stringContaining("duplicate segment"),
      expect.stringContaining("missing diameter"),
      expect.stringContaining("negative start depth -1.2"),
      expect.stringContaining("Polygon geometry in a line layer"),
      expect.stringContaining("duplicate segment"),
    ]);
    // Kept: the 5 good lines and the one with a negative depth (value ignored) and no size.
    expect(net.links).toHaveLength(6);
  });

  it("the CLI skips them, prints them with row and column, and --strict fails with no output", async () => {
    const out = join(work, "bad-out");
    const r = await ingest([lines(), points(), "--format", "geojson", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/links read\s+6/);
    expect(r.stdout).toContain(`error: ${lines()}:5 [终点号]: unknown end point id "JS9"`);
    expect(r.stdout).toContain(`error: ${lines()}:8 [起点埋深]: negative start depth -1.2`);
    expect((await checkTileset(join(out, "tileset.json"))).errors).toEqual([]);

    const strictOut = join(work, "bad-strict");
    const s = await ingest([lines(), points(), "--format", "geojson", "--out", strictOut, "--strict"]);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toContain(`${lines()}, row 5, column 终点号: unknown end point id "JS9"`);
    expect(s.stderr).toContain(`${lines()}, row 9: Polygon geometry in a line layer`);
    expect(existsSync(strictOut)).toBe(false);
    await expect(
      readGisNetwork({ inputs: [lines(), points()], format: "geojson", strict: true }),
    ).rejects.toThrow(GisImportError);
  }, 240_000);
});

describe("--mapping, --class and file-name classes", () => {
  it("maps renamed headers (GeoJSON) through a mapping file; a bad mapping file is a clear error", async () => {
    const dir = join(work, "mapping");
    await mkdir(dir);
    const file = join(dir, "export.geojson");
    await writeFile(
      file,
      featureCollection([
        pointFeature(at(0, 0), { PointNo: "W-1", GroundZ: 21.35, Depth: 1.2, Fitting: "Tee" }),
        pointFeature(at(50, 0), { PointNo: "W-2", GroundZ: 21.4, Depth: 1.1, Fitting: "Valve" }),
        lineFeature([at(0, 0), at(50, 0)], {
          FromID: "W-1",
          ToID: "W-2",
          Size: "DN300",
          Net: "W",
          Mat: "PE",
        }),
      ]),
    );
    const mappingFile = join(dir, "mapping.json");
    await writeFile(
      mappingFile,
      JSON.stringify({
        points: { PointNo: "物探点号", GroundZ: "地面高程", Depth: "埋深", Fitting: "appurtenance" },
        lines: { FromID: "起点号", ToID: "终点号", Size: "管径", Net: "管类", Mat: "材质" },
        classes: { W: "JS" },
        kinds: { Valve: "valve", Tee: "junction" },
      }),
    );
    const out = join(dir, "out");
    const r = await ingest([file, "--format", "geojson", "--mapping", mappingFile, "--out", out]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const index = await networkJson(out);
    expect(index.nodes.map((n) => [n.id, n.kind, n.pipeClass])).toEqual([
      ["W-1", "junction", "JS"],
      ["W-2", "valve", "JS"],
    ]);
    expect(index.links).toHaveLength(1);
    expect(index.links[0]).toMatchObject({ from: "W-1", to: "W-2", material: "PE", pipeClass: "JS" });
    expect(index.links[0].section).toEqual({ shape: "circular", diameter: 0.3 });
    expect(index.links[0].path[0][2]).toBeCloseTo(21.35 - 1.2 - 0.15, 6);
    expect(index.links[0].attributes).toEqual({
      FromID: "W-1",
      ToID: "W-2",
      Size: "DN300",
      Net: "W",
      Mat: "PE",
    });

    // Three bad mapping files, run side by side: an unknown target field, broken JSON, an unknown class.
    const badField = join(dir, "bad-field.json");
    const badJson = join(dir, "bad-json.json");
    const badClass = join(dir, "bad-class.json");
    await writeFile(badField, JSON.stringify({ lines: { Size: "管道大小" } }));
    await writeFile(badJson, '{ "lines": { "Size": "管径", } }');
    await writeFile(badClass, JSON.stringify({ classes: { W: "WATER" } }));
    const [f, j, c] = await Promise.all(
      [badField, badJson, badClass].map((m, i) =>
        ingest([file, "--format", "geojson", "--mapping", m, "--out", join(dir, `bad-out-${i}`)]),
      ),
    );
    for (const r of [f, j, c]) expect(r.code).not.toBe(0);
    expect(f.stderr).toContain(`${badField}: invalid mapping: "Size" → "管道大小" is not a lines field`);
    expect(j.stderr).toContain(`${badJson}: mapping is not valid JSON`);
    expect(c.stderr).toContain(`${badClass}: invalid mapping at classes.W`);
    for (let i = 0; i < 3; i++) expect(existsSync(join(dir, `bad-out-${i}`))).toBe(false);
  }, 240_000);

  it("CJJ tables with renamed headers through --mapping", async () => {
    const dir = join(work, "cjj-mapping");
    await mkdir(dir);
    const [x0, y0] = [N0.toFixed(3), E0.toFixed(3)];
    const [x1, y1] = [N0.toFixed(3), (E0 + 50).toFixed(3)];
    await writeFile(
      join(dir, "pts.csv"),
      `No,North,East,Ground,Depth,Well\nR1,${x0},${y0},21.20,1.80,2.10\nR2,${x1},${y1},21.10,2.00,2.30\n`,
    );
    await writeFile(join(dir, "segs.csv"), "From,To,D,Class\nR1,R2,400,rain\n");
    const mappingFile = join(dir, "m.json");
    await writeFile(
      mappingFile,
      JSON.stringify({
        points: { No: "物探点号", North: "X", East: "Y", Ground: "地面高程", Depth: "埋深", Well: "井底深" },
        lines: { From: "起点号", To: "终点号", D: "管径", Class: "管类" },
        classes: { rain: "YS" },
      }),
    );
    const out = join(dir, "out");
    const r = await ingest([
      join(dir, "pts.csv"),
      join(dir, "segs.csv"),
      "--format",
      "cjj",
      "--crs",
      CRS,
      "--mapping",
      mappingFile,
      "--out",
      out,
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const index = await networkJson(out);
    expect(index.links.map((l) => [l.from, l.to, l.pipeClass])).toEqual([["R1", "R2", "YS"]]);
    // Drainage: depth to the invert, so the axis is ground − depth + D/2.
    expect(index.links[0].path[0][2]).toBeCloseTo(21.2 - 1.8 + 0.2, 6);
    expect(index.nodes.find((n) => n.id === "R1")?.invertElevation).toBeCloseTo(21.2 - 2.1, 6);
  }, 240_000);

  it("CJJ tables read the shared elevation headers too (管底高程 as is, 高程 by the class convention)", async () => {
    const dir = join(work, "cjj-elevations");
    await mkdir(dir);
    const x = (dn: number) => (N0 + dn).toFixed(3);
    const y = (de: number) => (E0 + de).toFixed(3);
    await writeFile(
      join(dir, "points.csv"),
      `物探点号,X,Y,地面高程\nYS1,${x(0)},${y(0)},21.2\nYS2,${x(0)},${y(50)},21.1\n` +
        `JS1,${x(10)},${y(0)},21.3\nJS2,${x(10)},${y(50)},21.3\n`,
    );
    await writeFile(
      join(dir, "lines.csv"),
      "起点号,终点号,管径,起点管底高程,终点管底高程,起点高程,终点高程\n" +
        "YS1,YS2,400,19.40,19.30,,\nJS1,JS2,DN200,,,20.10,20.00\n",
    );
    const net = await readCjjTables({
      points: join(dir, "points.csv"),
      lines: join(dir, "lines.csv"),
      crs: CRS,
    });
    const link = (from: string) => net.links.find((l) => l.from === from)!;
    expect([link("YS1").fromInvert, link("YS1").toInvert]).toEqual([19.4, 19.3]);
    // 给水: 起点高程 is the pipe top, so the invert is 0.2 m (DN200) lower.
    expect(link("JS1").fromInvert).toBeCloseTo(19.9, 6);
    expect(link("JS1").toInvert).toBeCloseTo(19.8, 6);
  });

  it("takes the class from the file name, else --class; lines alone make their named end points", async () => {
    const dir = join(work, "classes");
    await mkdir(dir);
    const js = join(dir, "JS_lines.geojson");
    const plain = join(dir, "lines.geojson");
    const content = featureCollection([
      lineFeature([at(0, 0), at(50, 0)], { 起点号: "A", 终点号: "B", 管径: "DN200" }),
      lineFeature([at(50, 0), at(50, 40)], { 起点号: "B", 终点号: "C", 管径: "DN200" }),
    ]);
    await writeFile(js, content);
    await writeFile(plain, content);
    const byName = await readGisNetwork({ inputs: [js], format: "geojson" });
    expect(byName.links.map((l) => [l.from, l.to, l.pipeClass, l.kind])).toEqual([
      ["A", "B", "JS", "pipe"],
      ["B", "C", "JS", "pipe"],
    ]);
    expect(byName.nodes.map((n) => n.id)).toEqual(["A", "B", "C"]);
    expect(byName.issues).toEqual([]);
    const byOption = await readGisNetwork({ inputs: [plain], format: "geojson", pipeClass: "WS" });
    expect(byOption.links.map((l) => [l.pipeClass, l.kind])).toEqual([
      ["WS", "conduit"],
      ["WS", "conduit"],
    ]);
    const unknown = await readGisNetwork({ inputs: [plain], format: "geojson" });
    expect(unknown.links.every((l) => l.pipeClass === "UNKNOWN")).toBe(true);
    expect(unknown.issues).toEqual([
      expect.objectContaining({ severity: "warning", problem: expect.stringContaining("set to UNKNOWN") }),
    ]);
    const r = await ingest([plain, "--format", "geojson", "--class", "污水", "--out", join(dir, "out")]);
    expect(r.stderr).not.toMatch(/error/i);
    expect((await networkJson(join(dir, "out"))).links.every((l) => l.pipeClass === "WS")).toBe(true);
  }, 240_000);

  it("detects swapped X/Y from the CRS extent", async () => {
    const file = join(work, "swapped.geojson");
    const swap = (p: number[]) => [p[1], p[0]];
    await writeFile(
      file,
      featureCollection([
        lineFeature([swap(at(0, 0)), swap(at(50, 0))], { 起点号: "JS1", 终点号: "JS2", 管径: "DN300" }),
        pointFeature(swap(at(0, 0)), { 物探点号: "JS1" }),
        pointFeature(swap(at(50, 0)), { 物探点号: "JS2" }),
      ]),
    );
    const net = await readGisNetwork({ inputs: [file], format: "geojson" });
    expect(net.issues.map((i) => i.problem)).toEqual([expect.stringContaining("X/Y look swapped")]);
    expect(net.nodes.find((n) => n.id === "JS2")).toMatchObject({ x: E0 + 50, y: N0 });
  });
});

describe("encodings and snapping details", () => {
  it("reads a GBK GeoJSON (not valid UTF-8) and says so", async () => {
    const file = join(work, "gbk.geojson");
    const text = featureCollection([
      lineFeature([at(0, 0), at(50, 0)], { 起点号: "JS1", 终点号: "JS2", 管径: "DN300", 材质: "球墨铸铁" }),
      pointFeature(at(0, 0), { 物探点号: "JS1", 附属物: "阀门" }),
      pointFeature(at(50, 0), { 物探点号: "JS2", 附属物: "消防栓" }),
    ]);
    await writeFile(file, iconv.encode(text, "gbk"));
    const net = await readGisNetwork({ inputs: [file], format: "geojson" });
    expect(net.issues).toEqual([
      expect.objectContaining({ severity: "warning", problem: expect.stringContaining("GBK") }),
    ]);
    expect(net.links[0]).toMatchObject({ from: "JS1", to: "JS2", material: "球墨铸铁" });
    expect(net.nodes.map((n) => n.kind)).toEqual(["valve", "hydrant"]);
  });

  it("reads GeoJSON text sequences; projected coordinates without a CRS need --crs", async () => {
    const file = join(work, "network.geojsonl");
    const features = [
      ...LINES.map((l) => lineFeature(l.path, l.props)),
      ...POINTS.map((p) => pointFeature(p.xy, p.props)),
    ];
    await writeFile(file, features.map((f) => `\u001e${JSON.stringify(f)}\n`).join(""));
    await expect(readGisNetwork({ inputs: [file], format: "geojson" })).rejects.toThrow(
      `${file}: no "crs" member and the coordinates are not longitudes/latitudes: give --crs (e.g. EPSG:4547)`,
    );
    const net = await readGisNetwork({ inputs: [file], format: "geojson", crs: CRS });
    expect(net.issues).toEqual([]);
    expect(net.nodes).toHaveLength(12);
    expect(net.links.map((l) => `${l.from}>${l.to}`).sort()).toEqual(
      ["JS1>JS2", "JS2>JS3", "JS3>JS4", "YS1>YS2", "YS2>YS3", "J1>J2", "J2>J3", "J4>J5"].sort(),
    );
    await expect(readGisNetwork({ inputs: [file], format: "shp", crs: CRS })).rejects.toThrow(
      `${file}: --format shp reads .shp files`,
    );
  });

  it("snaps ends only within a utility and splits disjoint MultiLineStrings", async () => {
    const file = join(work, "snap.geojson");
    await writeFile(
      file,
      featureCollection([
        pointFeature(at(0, 0), { 物探点号: "JS1", 管类: "给水", 附属物: "阀门" }),
        // Ends 6 cm from the valve: the water line joins it, the telecom duct does not.
        lineFeature([at(0.06, 0), at(30, 0)], { 管类: "给水", 管径: "DN100" }),
        lineFeature([at(0, 0.06), at(0, 30)], { 管类: "通信", 断面尺寸: "100x100" }),
        // Ends 20 cm apart: beyond the 10 cm tolerance, two junctions.
        lineFeature([at(30.2, 0), at(60, 0)], { 管类: "给水", 管径: "DN100" }),
        {
          type: "Feature",
          geometry: {
            type: "MultiLineString",
            coordinates: [
              [at(0, 50), at(10, 50)],
              [at(10, 50), at(20, 50)],
              [at(40, 50), at(50, 50)],
            ],
          },
          properties: { 管类: "电力", 断面尺寸: "500x300" },
        },
      ]),
    );
    const net = await readGisNetwork({ inputs: [file], format: "geojson" });
    const ends = net.links.map((l) => [l.pipeClass, l.from, l.to, l.vertices.length]);
    expect(ends).toEqual([
      ["JS", "JS1", "J1", 0],
      ["TX", "J2", "J3", 0],
      ["JS", "J4", "J5", 0],
      // The first two parts continue one another: one link through their shared vertex.
      ["DL", "J6", "J7", 1],
      ["DL", "J8", "J9", 0],
    ]);
    expect(net.links.filter((l) => l.pipeClass === "DL").map((l) => l.id)).toEqual(["J6-J7/1", "J8-J9/2"]);
    expect(net.issues).toEqual([
      expect.objectContaining({
        row: 4,
        severity: "warning",
        problem: expect.stringContaining("2 disjoint parts"),
      }),
    ]);
  });
});
