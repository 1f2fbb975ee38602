import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import proj4 from "proj4";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as WebIFC from "web-ifc";
import { epsgDefinition } from "../../ingest/crs/epsg.ts";
import { type IngestIfcSummary, ingestIfc } from "../../ingest/ifc/ingest-ifc.ts";
import { generateDemoBimIfc } from "../../ingest/synthetic/demo-bim.ts";
import { runCli } from "../support/run-cli.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";
import { checkTileset, type TilesetReport } from "../support/tileset-checks.ts";

let work: string;
const api = new WebIFC.IfcAPI();
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "cim-ifc-"));
  await api.Init();
  api.SetLogLevel(WebIFC.LogLevel.LOG_LEVEL_OFF);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** What web-ifc itself reports, read independently of our reader: products with meshes, and model bounds (Z up). */
async function webIfcReference(file: string) {
  const model = api.OpenModel(new Uint8Array(await readFile(file)));
  const ids = new Set<number>();
  const vertices: number[] = [];
  const min = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const max = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  api.StreamAllMeshes(model, (mesh) => {
    ids.add(mesh.expressID);
    for (let g = 0; g < mesh.geometries.size(); g++) {
      const placed = mesh.geometries.get(g);
      const geo = api.GetGeometry(model, placed.geometryExpressID);
      const v = api.GetVertexArray(geo.GetVertexData(), geo.GetVertexDataSize());
      const m = placed.flatTransformation;
      for (let i = 0; i < v.length; i += 6) {
        const x = m[0] * v[i] + m[4] * v[i + 1] + m[8] * v[i + 2] + m[12];
        const y = m[1] * v[i] + m[5] * v[i + 1] + m[9] * v[i + 2] + m[13];
        const z = m[2] * v[i] + m[6] * v[i + 1] + m[10] * v[i + 2] + m[14];
        const p = [x, -z, y]; // web-ifc is Y-up; IFC is Z-up
        vertices.push(p[0], p[1], p[2]);
        for (let k = 0; k < 3; k++) {
          min[k] = Math.min(min[k], p[k]);
          max[k] = Math.max(max[k], p[k]);
        }
      }
      geo.delete();
    }
  });
  const globalIds = [...ids].map((id) => api.GetLine(model, id).GlobalId.value as string);
  const hasPsets = api.GetLineIDsWithType(model, WebIFC.IFCRELDEFINESBYPROPERTIES).size() > 0;
  const namedStoreys = [...api.GetLineIDsWithType(model, WebIFC.IFCBUILDINGSTOREY)].some(
    (id) => api.GetLine(model, id).Name?.value,
  );
  return { model, globalIds, min, max, vertices, hasPsets, namedStoreys };
}

/**
 * No public IFC4x3 sample is in the shared data: the demo building is written again with an IFC4X3_ADD2 header.
 * Every entity it uses (site, storeys, walls, slabs, windows, doors, spaces, property sets, map conversion) keeps
 * its IFC4 attributes in 4.3, so web-ifc reads it as a genuine IFC4X3 model through its 4.3 schema.
 */
async function writeIfc4x3Model(dir: string): Promise<string> {
  const text = new TextDecoder().decode(await generateDemoBimIfc());
  const header = "FILE_SCHEMA(('IFC4'));";
  if (!text.includes(header)) throw new Error("the demo IFC has no IFC4 FILE_SCHEMA header");
  const path = join(dir, "demo-bim-ifc4x3-source.ifc");
  await writeFile(path, text.replace(header, "FILE_SCHEMA(('IFC4X3_ADD2'));"));
  return path;
}

const ifcFiles = [
  { file: "AC20-FZK-Haus.ifc", schema: "IFC4", flags: {} },
  {
    file: "IfcOpenHouse_IFC4.ifc",
    schema: "IFC4",
    flags: { origin: { lon: 118.2935, lat: 33.9544, height: 0 } },
  },
  { file: "example.ifc", schema: "IFC2X3", flags: {} },
  { file: "demo-bim-ifc4x3.ifc", schema: "IFC4X3_ADD2", flags: {} },
];

describeWithSharedData.each(ifcFiles)("IFC $file", ({ file, schema, flags }) => {
  let summary: IngestIfcSummary;
  let report: TilesetReport;
  let ref: Awaited<ReturnType<typeof webIfcReference>>;

  beforeAll(async () => {
    const input = schema === "IFC4X3_ADD2" ? await writeIfc4x3Model(work) : sharedPath(`ifc/${file}`);
    summary = await ingestIfc({ input, out: join(work, file), ...flags });
    report = await checkTileset(join(work, file, "tileset.json"));
    ref = await webIfcReference(input);
  });
  afterAll(() => api.CloseModel(ref.model));

  it("passes the tileset checks (glTF validator, bounds, loaders.gl read-back)", () => {
    expect(report.errors).toEqual([]);
  });

  it(`is read as ${schema}`, () => {
    expect(summary.schema).toBe(schema);
  });

  it("has one feature per product with geometry that web-ifc reports, keyed by GlobalId", () => {
    const written = report.features.map((f) => f.properties.GlobalId as string);
    expect(new Set(written).size).toBe(written.length);
    expect(written.sort()).toEqual([...ref.globalIds].sort());
    expect(summary.products).toBe(ref.globalIds.length);
  });

  it("keeps every property set value equal to web-ifc's property API", async () => {
    const byGlobalId = new Map(report.features.map((f) => [f.properties.GlobalId as string, f.properties]));
    const sample = ref.globalIds.filter(
      (_, i) => i % Math.max(1, Math.floor(ref.globalIds.length / 12)) === 0,
    );
    let compared = 0;
    for (const gid of sample) {
      const expressId = [...api.GetLineIDsWithType(ref.model, WebIFC.IFCPRODUCT, true)].find(
        (id) => api.GetLine(ref.model, id).GlobalId?.value === gid,
      );
      if (expressId === undefined) continue;
      const psets = await api.properties.getPropertySets(ref.model, expressId, true);
      const props = byGlobalId.get(gid)!;
      for (const pset of psets) {
        for (const p of pset.HasProperties ?? []) {
          const nominal = p.NominalValue;
          if (!nominal || !p.Name?.value) continue;
          const expected = nominal._representationValue ?? nominal.value;
          const id = `${pset.Name.value}.${p.Name.value}`.replace(/[^a-zA-Z0-9_]/g, "_");
          const actual = props[id] ?? props[id.replace(/^(\d)/, "_$1")];
          if (typeof expected === "boolean") expect(String(actual), id).toBe(String(expected));
          else if (typeof expected === "number") expect(Number(actual), id).toBeCloseTo(expected, 6);
          else expect(String(actual), id).toBe(String(expected));
          compared++;
        }
      }
    }
    if (ref.hasPsets) expect(compared).toBeGreaterThan(0);
  });

  it("records each element's storey and IFC class", () => {
    for (const f of report.features) {
      expect(String(f.properties.IfcClass)).toMatch(/^Ifc[A-Z]/);
    }
    if (ref.namedStoreys) expect(report.features.some((f) => f.properties.Storey)).toBe(true);
  });

  it("writes the element index for the catalog", async () => {
    const index = JSON.parse(await readFile(join(work, file, "elements.json"), "utf8"));
    expect(index.elements.map((e: { globalId: string }) => e.globalId).sort()).toEqual(
      [...ref.globalIds].sort(),
    );
    const layer = JSON.parse(await readFile(join(work, file, "layer.json"), "utf8"));
    expect(layer.type).toBe("bim");
  });
});

describeWithSharedData("georeferencing", () => {
  /** Metres between two lon/lat points (small distances). */
  const metres = (a: number[], b: number[]) =>
    Math.hypot((a[0] - b[0]) * 111_320 * Math.cos((a[1] * Math.PI) / 180), (a[1] - b[1]) * 110_940);

  it("AC20-FZK-Haus lands at its IfcSite latitude/longitude, turned to its true north", async () => {
    const input = sharedPath("ifc/AC20-FZK-Haus.ifc");
    const text = await readFile(input, "latin1");
    // The site's reference point and the model's true north, read straight from the STEP text.
    const site = /IFCSITE\([^;]*?\((\d+),(\d+),(\d+),(\d+)\),\((\d+),(\d+),(\d+),(\d+)\),([\d.]+)/.exec(
      text,
    )!;
    const dms = (d: string, m: string, s: string, u: string) => +d + +m / 60 + +s / 3600 + +u / 3.6e9;
    const lat = dms(site[1], site[2], site[3], site[4]);
    const lon = dms(site[5], site[6], site[7], site[8]);
    const ctx = /IFCGEOMETRICREPRESENTATIONCONTEXT\([^;]*,#(\d+)\);/.exec(text)!;
    const dir = new RegExp(`#${ctx[1]}=\\s*IFCDIRECTION\\(\\(([-\\d.E]+),([-\\d.E]+)`).exec(text)!;
    const [tx, ty] = [Number(dir[1]), Number(dir[2])];
    expect(Math.hypot(tx, ty)).toBeCloseTo(1, 3);
    const ref = await webIfcReference(input);
    api.CloseModel(ref.model);
    // North in model axes is (tx, ty); east is north turned clockwise by 90 degrees.
    const kLon = 1 / (111_320 * Math.cos((lat * Math.PI) / 180));
    let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < ref.vertices.length; i += 3) {
      const [x, y] = [ref.vertices[i], ref.vertices[i + 1]];
      const east = x * ty - y * tx;
      const north = x * tx + y * ty;
      w = Math.min(w, lon + east * kLon);
      e = Math.max(e, lon + east * kLon);
      s = Math.min(s, lat + north / 110_940);
      n = Math.max(n, lat + north / 110_940);
    }
    const layer = JSON.parse(await readFile(join(work, "AC20-FZK-Haus.ifc", "layer.json"), "utf8"));
    expect(metres([layer.bbox[0], layer.bbox[1]], [w, s])).toBeLessThan(1);
    expect(metres([layer.bbox[2], layer.bbox[3]], [e, n])).toBeLessThan(1);
    expect(layer.bbox[4]).toBeCloseTo(Number(site[9]) + ref.min[2], 0);
  });

  it("IfcMapConversion + IfcProjectedCRS (EPSG:4548) places the model by map coordinates", async () => {
    const text = await readFile(sharedPath("ifc/IfcOpenHouse_IFC4.ifc"), "latin1");
    const [e0, n0] = proj4("EPSG:4326", epsgDefinition(4548)!).forward([118.2935, 33.9544]);
    const ctx = /#(\d+)=IFCGEOMETRICREPRESENTATIONCONTEXT/.exec(text)![1];
    const georef = [
      "#900001=IFCPROJECTEDCRS('EPSG:4548','CGCS2000 / 3-degree Gauss-Kruger CM 117E',$,$,$,$,$);",
      // Model +X points 30 degrees north of east.
      `#900002=IFCMAPCONVERSION(#${ctx},#900001,${e0.toFixed(3)},${n0.toFixed(3)},12.,${Math.cos(Math.PI / 6)},${Math.sin(Math.PI / 6)},$);`,
    ].join("\n");
    const file = join(work, "mapconv.ifc");
    await writeFile(
      file,
      text.replace(/ENDSEC;\s*END-ISO-10303-21;\s*$/, `${georef}\nENDSEC;\nEND-ISO-10303-21;\n`),
      "latin1",
    );
    const s = await ingestIfc({ input: file, out: join(work, "mapconv") });
    expect(s.georeference).toBe("IfcMapConversion");
    expect(s.crs).toBe("EPSG:4548");
    const ref = await webIfcReference(file);
    api.CloseModel(ref.model);
    // Expected: every model corner rotated by 30 degrees, shifted to (e0, n0), then inverse-projected by proj4.
    const toLonLat = proj4(epsgDefinition(4548)!, "EPSG:4326");
    const c = Math.cos(Math.PI / 6);
    const sn = Math.sin(Math.PI / 6);
    const corners = [ref.min[0], ref.max[0]].flatMap((x) =>
      [ref.min[1], ref.max[1]].map((y) => toLonLat.forward([e0 + c * x - sn * y, n0 + sn * x + c * y])),
    );
    const layer = JSON.parse(await readFile(join(work, "mapconv", "layer.json"), "utf8"));
    const expected = [
      Math.min(...corners.map((p) => p[0])),
      Math.min(...corners.map((p) => p[1])),
      Math.max(...corners.map((p) => p[0])),
      Math.max(...corners.map((p) => p[1])),
    ];
    // The real geometry lies within its rotated bounding box and touches each of its sides.
    expect(metres([layer.bbox[0], layer.bbox[1]], [expected[0], expected[1]])).toBeLessThan(6);
    expect(layer.bbox[0]).toBeGreaterThanOrEqual(expected[0] - 1e-7);
    expect(layer.bbox[2]).toBeLessThanOrEqual(expected[2] + 1e-7);
    expect(layer.bbox[4]).toBeCloseTo(12 + ref.min[2], 1);
    expect((await checkTileset(join(work, "mapconv", "tileset.json"))).errors).toEqual([]);
  });

  it("a model without georeference fails, naming the flags to give", async () => {
    await expect(
      ingestIfc({ input: sharedPath("ifc/IfcOpenHouse_IFC4.ifc"), out: join(work, "nogeo") }),
    ).rejects.toThrow(/IfcOpenHouse_IFC4\.ifc: the model is not georeferenced.*--origin lon,lat/);
    expect(existsSync(join(work, "nogeo"))).toBe(false);
  });
});

describeWithSharedData("malformed IFC", () => {
  it.each([
    ["cyclic-placement.ifc", /#22: IfcLocalPlacement\.PlacementRelTo forms a cycle/],
    ["random-bytes.ifc", /not an IFC file/],
    ["truncated-FZK-Haus.ifc", /truncated: the file ends at byte 1200000/],
    ["unterminated-string.ifc", /unterminated string starting at byte 12 in entity #1/],
  ])("%s ends within 10 s with a clear error and no output", async (name, message) => {
    const input = sharedPath(`ifc/malformed/${name}`);
    const out = join(work, `bad-${name}`);
    const started = Date.now();
    const r = await runCli(["ingest", "ifc", input, "--out", out, "--origin", "118.29,33.96"]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(input);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it("an element that never finishes is skipped and reported, the rest is written", async () => {
    const input = sharedPath("ifc/IfcOpenHouse_IFC4.ifc");
    const ref = await webIfcReference(input);
    const victim = [...api.GetLineIDsWithType(ref.model, WebIFC.IFCWALL, true)][0];
    api.CloseModel(ref.model);
    const out = join(work, "stalled");
    const r = await runCli(
      ["ingest", "ifc", input, "--out", out, "--origin", "118.29,33.96", "--element-timeout", "1"],
      { env: { CIM_TEST_STALL_ELEMENT: String(victim) } },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`skipped elements\\s+#${victim} \\(geometry took longer than 1 s\\)`),
    );
    const report = await checkTileset(join(out, "tileset.json"));
    expect(report.errors).toEqual([]);
    expect(report.features.length).toBe(ref.globalIds.length - 1);
  });
});
