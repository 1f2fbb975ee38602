import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import proj4 from "proj4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IngestSummary, ingestBuildings } from "../../ingest/buildings/ingest-buildings.ts";
import { epsgDefinition } from "../../ingest/crs/epsg.ts";
import { generateDemoCity } from "../../ingest/synthetic/demo-city.ts";
import { LayerManifestSchema } from "../../models/layer.ts";
import { writePolygonShapefile } from "../support/shapefile-writer.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { checkTileset, type TilesetReport } from "../support/tileset-checks.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "cim-buildings-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

type TilesetJson = { root: Tile; geometricError: number };
type Tile = { geometricError: number; children?: Tile[]; content?: { uri: string } };

function depth(t: Tile): number {
  return 1 + Math.max(0, ...(t.children ?? []).map(depth));
}

describeWithSharedData("Lujiazui OpenStreetMap footprints", () => {
  const input = sharedPath("city/shanghai-lujiazui/buildings.geojson");
  let summary: IngestSummary;
  let report: TilesetReport;
  let source: GeoJSON.FeatureCollection;

  beforeAll(async () => {
    summary = await ingestBuildings({ input, out: join(work, "lujiazui") });
    report = await checkTileset(join(work, "lujiazui", "tileset.json"));
    source = JSON.parse(await readFile(input, "utf8"));
  });

  it("writes every polygon part and skips the label points, counted", () => {
    const polygons = source.features.filter(
      (f) => f.geometry?.type === "Polygon" || f.geometry?.type === "MultiPolygon",
    );
    expect(summary.featuresRead).toBe(1785);
    expect(summary.featuresWritten).toBe(polygons.length);
    expect(summary.skipped).toEqual({ "no polygon (Point)": 1785 - polygons.length });
  });

  it("passes the tileset checks (glTF validator, bounds, loaders.gl read-back)", () => {
    expect(report.errors).toEqual([]);
    expect(report.features.length).toBe(summary.featuresWritten);
  });

  it("keeps each part as its own feature, parts sharing an OSM id keep that id", () => {
    const polygonIds = source.features
      .filter((f) => f.geometry?.type === "Polygon")
      .map((f) => f.properties?.id);
    const written = report.features.map((f) => f.properties.id);
    expect(written.sort()).toEqual(polygonIds.sort());
    const shared = polygonIds.find((id, i) => polygonIds.indexOf(id) !== i);
    expect(shared).toBeDefined();
    expect(written.filter((id) => id === shared).length).toBeGreaterThan(1);
  });

  it("keeps attributes typed and Chinese text intact", () => {
    const f = report.features.find((x) => x.properties.name === "上海国际会议中心");
    expect(f?.properties).toMatchObject({
      height: 20,
      addr_street: "滨江大道",
      addr_housenumber: "2727",
      name_en: "Shanghai International Convention Center",
      id: 40778072,
    });
    expect(f?.properties["cim_height"]).toBe(20);
    const withHeight = source.features.filter(
      (f) =>
        f.geometry?.type === "Polygon" && typeof f.properties?.height === "number" && f.properties.height > 0,
    );
    expect(summary.heightSources.field).toBe(withHeight.length);
  });

  it("has levels of detail: coarse parents, refined children, errors from the geometry", async () => {
    const tileset: TilesetJson = JSON.parse(await readFile(join(work, "lujiazui", "tileset.json"), "utf8"));
    expect(depth(tileset.root)).toBeGreaterThanOrEqual(2);
    expect(tileset.root.geometricError).toBeGreaterThan(0);
    // The root error is the size of the largest building it leaves to its children: tens of metres, not a guess.
    expect(tileset.root.geometricError).toBeLessThan(2000);
    expect(tileset.geometricError).toBeGreaterThanOrEqual(tileset.root.geometricError);
  });

  it("keeps centimetre precision, measured against proj4", () => {
    expect(summary.positionSamples).toBeGreaterThan(100);
    expect(summary.maxPositionErrorMetres).toBeLessThan(0.01);
  });

  it("writes layer.json the catalog can register", async () => {
    const manifest = LayerManifestSchema.parse(
      JSON.parse(await readFile(join(work, "lujiazui", "layer.json"), "utf8")),
    );
    expect(manifest.featureCount).toBe(summary.featuresWritten);
    expect(manifest.bbox[0]).toBeGreaterThan(121.47);
    expect(manifest.bbox[2]).toBeLessThan(121.53);
  });
});

describe("source formats and coordinate systems", () => {
  const city = generateDemoCity();
  const sample = { ...city.buildings, features: city.buildings.features.slice(0, 40) };

  async function wgs84Reference(): Promise<TilesetReport> {
    const file = join(work, "ref.geojson");
    await writeFile(file, JSON.stringify(sample));
    await ingestBuildings({ input: file, out: join(work, "ref") });
    return checkTileset(join(work, "ref", "tileset.json"));
  }

  it("GeoJSON in CGCS2000 Gauss-Kruger (EPSG:4548) lands where the WGS84 original does", async () => {
    const toGk = proj4("EPSG:4326", epsgDefinition(4548)!);
    const projected = {
      ...sample,
      crs: { type: "name", properties: { name: "urn:ogc:def:crs:EPSG::4548" } },
      features: sample.features.map((f) => ({
        ...f,
        geometry: {
          type: "Polygon",
          coordinates: (f.geometry as GeoJSON.Polygon).coordinates.map((r) => r.map((p) => toGk.forward(p))),
        },
      })),
    };
    const file = join(work, "gk.geojson");
    await writeFile(file, JSON.stringify(projected));
    const s = await ingestBuildings({ input: file, out: join(work, "gk") });
    expect(s.crs).toBe("EPSG:4548");
    const ref = JSON.parse(
      await readFile(join(work, "ref", "layer.json"), "utf8").catch(async () => {
        await wgs84Reference();
        return readFile(join(work, "ref", "layer.json"), "utf8");
      }),
    );
    const gk = JSON.parse(await readFile(join(work, "gk", "layer.json"), "utf8"));
    const metresPerDegree = 111_000;
    for (let i = 0; i < 4; i++)
      expect(Math.abs(gk.bbox[i] - ref.bbox[i]) * metresPerDegree).toBeLessThan(0.01);
    expect(s.maxPositionErrorMetres).toBeLessThan(0.01);
    expect((await checkTileset(join(work, "gk", "tileset.json"))).errors).toEqual([]);
  });

  it("Shapefile with GBK attributes and a .prj (no .cpg) keeps its Chinese names", async () => {
    const stem = join(work, "gbk");
    const toGk = proj4("EPSG:4326", epsgDefinition(4548)!);
    await writePolygonShapefile(
      stem,
      sample.features.slice(0, 10).map((f) => ({
        rings: (f.geometry as GeoJSON.Polygon).coordinates.map((r) => r.map((p) => toGk.forward(p))),
        attributes: {
          NAME: String(f.properties?.name),
          USE: String(f.properties?.use),
          HEIGHT: Number(f.properties?.height),
        },
      })),
      {
        NAME: { type: "C", length: 60 },
        USE: { type: "C", length: 10 },
        HEIGHT: { type: "N", length: 10, decimals: 1 },
      },
      {
        encoding: "gbk",
        prj: `PROJCS["CGCS2000_3_Degree_GK_CM_117E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`,
      },
    );
    const s = await ingestBuildings({
      input: `${stem}.shp`,
      out: join(work, "shp"),
      heights: { heightField: "HEIGHT" },
    });
    expect(s.featuresWritten).toBe(10);
    expect(s.heightSources).toEqual({ field: 10 });
    const report = await checkTileset(join(work, "shp", "tileset.json"));
    expect(report.errors).toEqual([]);
    const names = report.features.map((f) => f.properties.NAME).sort();
    expect(names).toEqual(
      sample.features
        .slice(0, 10)
        .map((f) => f.properties?.name)
        .sort(),
    );
    expect(s.maxPositionErrorMetres).toBeLessThan(0.01);
  });

  it("FlatGeobuf with its CRS in the header", async () => {
    const { geojson } = await import("flatgeobuf");
    const file = join(work, "b.fgb");
    await writeFile(file, geojson.serialize(sample as GeoJSON.FeatureCollection, 4490));
    const s = await ingestBuildings({ input: file, out: join(work, "fgb") });
    expect(s.crs).toBe("EPSG:4490");
    expect(s.featuresWritten).toBe(sample.features.length);
    const report = await checkTileset(join(work, "fgb", "tileset.json"));
    expect(report.errors).toEqual([]);
    expect(report.features.map((f) => f.properties.name).sort()).toEqual(
      sample.features.map((f) => f.properties?.name).sort(),
    );
  });

  it("height falls back to floors x floor height, then the default height", async () => {
    const file = join(work, "heights.geojson");
    const square = [
      [118.29, 33.96],
      [118.2901, 33.96],
      [118.2901, 33.9601],
      [118.29, 33.9601],
      [118.29, 33.96],
    ];
    const feature = (properties: Record<string, unknown>) => ({
      type: "Feature",
      properties,
      geometry: { type: "Polygon", coordinates: [square] },
    });
    await writeFile(
      file,
      JSON.stringify({
        type: "FeatureCollection",
        features: [feature({ n: "a", height: 30 }), feature({ n: "b", floors: 5 }), feature({ n: "c" })],
      }),
    );
    const s = await ingestBuildings({
      input: file,
      out: join(work, "heights"),
      heights: { floorHeight: 3.5, defaultHeight: 7 },
    });
    expect(s.heightSources).toEqual({ field: 1, floors: 1, default: 1 });
    const report = await checkTileset(join(work, "heights", "tileset.json"));
    const byName = Object.fromEntries(report.features.map((f) => [f.properties.n, f.properties.cim_height]));
    expect(byName).toEqual({ a: 30, b: 17.5, c: 7 });
  });

  it("meshopt compression behind a flag still validates and reads back", async () => {
    const file = join(work, "meshopt.geojson");
    await writeFile(file, JSON.stringify(sample));
    const plain = await ingestBuildings({ input: file, out: join(work, "plain") });
    const packed = await ingestBuildings({ input: file, out: join(work, "meshopt"), meshopt: true });
    expect(packed.bytes).toBeLessThan(plain.bytes);
    const report = await checkTileset(join(work, "meshopt", "tileset.json"));
    expect(report.errors).toEqual([]);
    expect(report.features.length).toBe(sample.features.length);
    // A two-building tile: quantization must not touch the feature ids.
    const tiny = join(work, "meshopt-tiny.geojson");
    await writeFile(tiny, JSON.stringify({ ...sample, features: sample.features.slice(0, 2) }));
    await ingestBuildings({ input: tiny, out: join(work, "meshopt-tiny"), meshopt: true });
    expect((await checkTileset(join(work, "meshopt-tiny", "tileset.json"))).errors).toEqual([]);
  });
});

describe("bad input", () => {
  it("names the file and the position of invalid JSON", async () => {
    const file = join(work, "broken.geojson");
    await writeFile(file, '{"type":"FeatureCollection","features":[\n{"type":"Feature",}]}');
    await expect(ingestBuildings({ input: file, out: join(work, "broken") })).rejects.toThrow(
      new RegExp(`${file.replace(/[.]/g, "\\.")}: invalid JSON: .*line 2`),
    );
    expect(existsSync(join(work, "broken"))).toBe(false);
  });

  it("names the feature index of malformed coordinates and publishes nothing", async () => {
    const file = join(work, "badcoords.geojson");
    const good = generateDemoCity().buildings.features.slice(0, 5);
    const bad = {
      type: "Feature",
      properties: {},
      geometry: {
        type: "Polygon",
        coordinates: [
          [
            [1, 2],
            ["x", 3],
          ],
        ],
      },
    };
    await writeFile(file, JSON.stringify({ type: "FeatureCollection", features: [...good, bad] }));
    await expect(ingestBuildings({ input: file, out: join(work, "badcoords") })).rejects.toThrow(
      /badcoords\.geojson: feature 5: ring 0 position 1 is not a pair of numbers/,
    );
    expect(existsSync(join(work, "badcoords", "tileset.json"))).toBe(false);
  });

  it("says --crs when projected coordinates arrive without a CRS", async () => {
    const file = join(work, "nocrs.geojson");
    const ring = [
      [500000, 3760000],
      [500010, 3760000],
      [500010, 3760010],
      [500000, 3760000],
    ];
    await writeFile(
      file,
      JSON.stringify({
        type: "FeatureCollection",
        features: [{ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [ring] } }],
      }),
    );
    await expect(ingestBuildings({ input: file, out: join(work, "nocrs") })).rejects.toThrow(
      /feature 0: .*--crs/,
    );
  });

  it("a failed run leaves an existing layer exactly as it was", async () => {
    const out = join(work, "keep");
    const okFile = join(work, "ok.geojson");
    await writeFile(
      okFile,
      JSON.stringify({
        ...generateDemoCity().buildings,
        features: generateDemoCity().buildings.features.slice(0, 3),
      }),
    );
    await ingestBuildings({ input: okFile, out });
    const before = await readFile(join(out, "tileset.json"), "utf8");
    await expect(ingestBuildings({ input: join(work, "broken.geojson"), out })).rejects.toThrow();
    expect(await readFile(join(out, "tileset.json"), "utf8")).toBe(before);
    expect((await readdir(work)).filter((n) => n.includes(".partial-"))).toEqual([]);
  });

  it("rejects unknown formats and missing files by name", async () => {
    await expect(ingestBuildings({ input: join(work, "x.kml"), out: join(work, "x") })).rejects.toThrow(
      /x\.kml: unsupported input/,
    );
    await expect(
      ingestBuildings({ input: join(work, "nope.geojson"), out: join(work, "x") }),
    ).rejects.toThrow(/nope\.geojson: file not found/);
  });
});
