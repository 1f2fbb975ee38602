import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  IFCBUILDING,
  IFCBUILDINGSTOREY,
  IFCDOOR,
  IFCGEOMETRICREPRESENTATIONCONTEXT,
  IFCOPENINGELEMENT,
  IFCPROJECT,
  IFCRELAGGREGATES,
  IFCRELCONTAINEDINSPATIALSTRUCTURE,
  IFCRELVOIDSELEMENT,
  IFCROOT,
  IFCSITE,
  IFCSIUNIT,
  IFCSLAB,
  IFCSPACE,
  IFCWALL,
  IFCWINDOW,
  IfcAPI,
} from "web-ifc";
import { compressGuid, expandGuid, IFC_GUID_PATTERN } from "../../ingest/synthetic/demo-bim/guid.ts";
import {
  DEMO_BIM_NAME,
  DEMO_BIM_TIMESTAMP,
  fromCompoundPlaneAngle,
  generateDemoBimIfc,
  toCompoundPlaneAngle,
} from "../../ingest/synthetic/demo-bim.ts";
import { demoBimSite } from "../../ingest/synthetic/demo-city.ts";

// What the generator is designed to contain (see ingest/synthetic/demo-bim/layout.ts).
const STOREYS = [
  { name: "一层", elevation: 0 },
  { name: "二层", elevation: 4.2 },
  { name: "三层", elevation: 8.4 },
  { name: "四层", elevation: 12.6 },
];
const WALLS = 28; // per storey: 4 exterior + 3 interior
const EXTERIOR_WALLS = 16;
const SLABS = 5; // 4 floor slabs + the roof slab
const WINDOWS = 78; // 20 per storey; the ground-floor lobby gives two up to the main entrance
const DOORS = 13; // main entrance + 3 interior doors per storey
const SPACES = 16;

// biome-ignore lint/suspicious/noExplicitAny: web-ifc returns lines as untyped schema objects
type Line = Record<string, any>;

let dir: string;
let bytes: Uint8Array;
let text: string;
let api: IfcAPI;
let model: number;

const ids = (type: number, inherited = false): number[] => [
  ...api.GetLineIDsWithType(model, type, inherited),
];
const line = (id: number): Line => api.GetLine(model, id);
/** Upper-case IFC class name ("IFCWALL"); web-ifc's helpers mix "IfcWall" and "IFCWALL". */
const typeName = (id: number): string => api.GetNameFromTypeCode(api.GetLineType(model, id)).toUpperCase();
type Node = { expressID: number; type: string; children: Node[] };
/** The spatial tree from web-ifc's properties helper, with upper-case type names. */
async function spatialTree(): Promise<Node> {
  const norm = (n: Node): Node => ({ ...n, type: n.type.toUpperCase(), children: n.children.map(norm) });
  return norm(await api.properties.getSpatialStructure(model));
}

/** Property sets and quantity sets of an object, read through web-ifc's properties helper, by name. */
async function psets(id: number): Promise<Record<string, Record<string, { type: string; value: unknown }>>> {
  const out: Record<string, Record<string, { type: string; value: unknown }>> = {};
  for (const set of await api.properties.getPropertySets(model, id, true)) {
    const entries: Record<string, { type: string; value: unknown }> = {};
    for (const p of set.HasProperties ?? []) {
      entries[p.Name.value] = { type: p.NominalValue.name, value: p.NominalValue.value };
    }
    for (const q of set.Quantities ?? []) {
      const v = q.LengthValue ?? q.AreaValue ?? q.VolumeValue;
      entries[q.Name.value] = { type: typeName(q.expressID), value: v.value };
    }
    out[set.Name.value] = entries;
  }
  return out;
}

beforeAll(async () => {
  bytes = await generateDemoBimIfc();
  dir = mkdtempSync(join(tmpdir(), "cim-demo-bim-"));
  const file = join(dir, "suqian-kechuang-center.ifc");
  writeFileSync(file, bytes);
  const reread = new Uint8Array(readFileSync(file));
  text = new TextDecoder().decode(reread);
  api = new IfcAPI();
  await api.Init();
  model = api.OpenModel(reread);
});

afterAll(() => {
  if (api && model >= 0) api.CloseModel(model);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("demo BIM IFC: file", () => {
  it("is an IFC4 STEP file that web-ifc opens", () => {
    expect(model).toBeGreaterThanOrEqual(0);
    expect(api.GetModelSchema(model)).toBe("IFC4");
    expect(text.startsWith("ISO-10303-21;")).toBe(true);
    expect(text).toContain("FILE_SCHEMA(('IFC4'));");
    expect(text.trimEnd().endsWith("END-ISO-10303-21;")).toBe(true);
  });

  it("is plain ASCII: Chinese text is written as \\X2\\ UTF-16 escapes", () => {
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    // 宿迁科创中心 = U+5BBF U+8FC1 U+79D1 U+521B U+4E2D U+5FC3
    expect(text).toContain("'\\X2\\5BBF8FC179D1521B4E2D5FC3\\X0\\'");
  });

  it("is deterministic: the same bytes on every run, with a fixed header time stamp", async () => {
    const again = await generateDemoBimIfc();
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    expect(text).toContain(`'${DEMO_BIM_TIMESTAMP}'`);
  });

  it("gives every IfcRoot entity a unique, valid 22-character GlobalId", () => {
    const roots = ids(IFCROOT, true);
    expect(roots.length).toBeGreaterThan(400);
    const guids = roots.map((id) => line(id).GlobalId.value as string);
    for (const g of guids) expect(g).toMatch(IFC_GUID_PATTERN);
    expect(new Set(guids).size).toBe(guids.length);
    // Name-based (RFC 9562 version 5) GUIDs, round-tripping through the compressed form.
    const hex = expandGuid(guids[0]);
    expect(hex[14]).toBe("5");
    const raw = Uint8Array.from(
      hex
        .replaceAll("-", "")
        .match(/../g)!
        .map((h) => Number.parseInt(h, 16)),
    );
    expect(compressGuid(raw)).toBe(guids[0]);
  });
});

describe("demo BIM IFC: project, site, storeys", () => {
  it("declares SI units and a model context with true north along +Y", () => {
    const units = ids(IFCSIUNIT).map((id) => {
      const u = line(id);
      return `${u.UnitType.value}:${u.Name.value}`;
    });
    expect(units.sort()).toEqual(
      ["AREAUNIT:SQUARE_METRE", "LENGTHUNIT:METRE", "PLANEANGLEUNIT:RADIAN", "VOLUMEUNIT:CUBIC_METRE"].sort(),
    );
    const projects = ids(IFCPROJECT);
    expect(projects).toHaveLength(1);
    expect(line(projects[0]).Name.value).toBe(DEMO_BIM_NAME);
    const contexts = ids(IFCGEOMETRICREPRESENTATIONCONTEXT);
    expect(contexts).toHaveLength(1);
    const ctx = line(contexts[0]);
    expect(ctx.ContextType.value).toBe("Model");
    expect(ctx.CoordinateSpaceDimension.value).toBe(3);
    const north = line(ctx.TrueNorth.value).DirectionRatios.map((r: { value: number }) => r.value);
    expect(north).toEqual([0, 1]);
  });

  it("geo-references the site at the centre of the vacant plot, to the microsecond of arc", () => {
    const sites = ids(IFCSITE);
    expect(sites).toHaveLength(1);
    const site = line(sites[0]);
    const plot = demoBimSite();
    const lat = fromCompoundPlaneAngle(site.RefLatitude.value);
    const lon = fromCompoundPlaneAngle(site.RefLongitude.value);
    expect(Math.abs(lat - plot.lat)).toBeLessThan(1e-6);
    expect(Math.abs(lon - plot.lon)).toBeLessThan(1e-6);
    expect(site.RefLatitude.value).toEqual(toCompoundPlaneAngle(plot.lat));
    expect(site.RefLatitude.value).toHaveLength(4);
    expect(site.RefElevation.value).toBe(0);
    // The site (and the building in it) sit at the project origin: the building's origin is the plot centre.
    const placement = line(site.ObjectPlacement.value);
    expect(placement.PlacementRelTo).toBeNull();
    const origin = line(line(placement.RelativePlacement.value).Location.value).Coordinates;
    expect(origin.map((c: { value: number }) => c.value)).toEqual([0, 0, 0]);
  });

  it("encodes compound plane angles exactly and with one sign", () => {
    expect(toCompoundPlaneAngle(33.9565)).toEqual([33, 57, 23, 400000]);
    expect(toCompoundPlaneAngle(-118.2905)).toEqual([-118, -17, -25, -800000]);
    expect(fromCompoundPlaneAngle(toCompoundPlaneAngle(118.2905123))).toBeCloseTo(118.2905123, 12);
  });

  it("aggregates project > site > building > 4 storeys (一层..四层 at 0, 4.2, 8.4, 12.6 m)", async () => {
    const tree = await spatialTree();
    expect(tree.type).toBe("IFCPROJECT");
    expect(tree.children.map((c) => c.type)).toEqual(["IFCSITE"]);
    const buildingNode = tree.children[0].children[0];
    expect(buildingNode.type).toBe("IFCBUILDING");
    expect(line(buildingNode.expressID).Name.value).toBe(DEMO_BIM_NAME);
    expect(ids(IFCBUILDING)).toEqual([buildingNode.expressID]);

    const storeys = buildingNode.children.map((c) => line(c.expressID));
    expect(buildingNode.children.every((c) => c.type === "IFCBUILDINGSTOREY")).toBe(true);
    expect(ids(IFCBUILDINGSTOREY)).toHaveLength(4);
    expect(storeys.map((s) => ({ name: s.Name.value, elevation: s.Elevation.value }))).toEqual(STOREYS);
    expect(storeys.map((s) => s.LongName.value)).toEqual(["1F", "2F", "3F", "4F"]);

    // Every storey holds its spaces (aggregated) and its walls, slabs, windows and doors (contained).
    const contained = new Map<number, number>();
    for (const rel of ids(IFCRELCONTAINEDINSPATIALSTRUCTURE).map(line)) {
      for (const e of rel.RelatedElements) contained.set(e.value, rel.RelatingStructure.value);
    }
    const storeyIds = new Set(buildingNode.children.map((c) => c.expressID));
    for (const type of [IFCWALL, IFCSLAB, IFCWINDOW, IFCDOOR]) {
      for (const id of ids(type)) expect(storeyIds.has(contained.get(id)!)).toBe(true);
    }
    const aggregatedSpaces = ids(IFCRELAGGREGATES)
      .map(line)
      .filter((rel) => storeyIds.has(rel.RelatingObject.value))
      .flatMap((rel) => rel.RelatedObjects.map((o: { value: number }) => o.value));
    expect(aggregatedSpaces.sort((a, b) => a - b)).toEqual(ids(IFCSPACE).sort((a, b) => a - b));
    for (const node of buildingNode.children) {
      const spaces = node.children.filter((c) => c.type === "IFCSPACE");
      expect(spaces.length).toBeGreaterThanOrEqual(2);
      expect(spaces.length).toBeLessThanOrEqual(4);
    }
  });

  it("keeps the design information in the Chinese pset CIM_设计信息", async () => {
    const sets = await psets(ids(IFCBUILDING)[0]);
    expect(sets["CIM_设计信息"]).toEqual({
      设计单位: { type: "IFCLABEL", value: "宿迁市规划设计研究院" },
      设计阶段: { type: "IFCLABEL", value: "方案设计" },
      使用年限: { type: "IFCINTEGER", value: 50 },
      结构形式: { type: "IFCLABEL", value: "钢筋混凝土框架结构" },
      耐火等级: { type: "IFCLABEL", value: "一级" },
    });
    expect(sets.Pset_BuildingCommon.NumberOfStoreys).toEqual({ type: "IFCINTEGER", value: 4 });
  });
});

describe("demo BIM IFC: elements and properties", () => {
  it("has walls whose Pset_WallCommon.IsExternal is true exactly for the exterior ones", async () => {
    const walls = ids(IFCWALL);
    expect(walls).toHaveLength(WALLS);
    let external = 0;
    for (const id of walls) {
      const wall = line(id);
      const sets = await psets(id);
      const common = sets.Pset_WallCommon;
      expect(common.IsExternal.type).toBe("IFCBOOLEAN");
      expect(common.LoadBearing.type).toBe("IFCBOOLEAN");
      expect(common.FireRating.type).toBe("IFCLABEL");
      const isExterior = /外墙$/.test(wall.Name.value);
      expect(common.IsExternal.value).toBe(isExterior);
      if (isExterior) {
        external++;
        expect(common.FireRating.value).toBe("REI90");
        expect(common.LoadBearing.value).toBe(true);
        expect(common.ThermalTransmittance.type).toBe("IFCTHERMALTRANSMITTANCEMEASURE");
      }
      const q = sets.Qto_WallBaseQuantities;
      expect(Object.keys(q)).toEqual(expect.arrayContaining(["Length", "Height", "Width", "NetVolume"]));
      expect(q.Length.type).toBe("IFCQUANTITYLENGTH");
      expect(q.NetVolume.type).toBe("IFCQUANTITYVOLUME");
      expect(q.Height.value).toBeCloseTo(4, 9);
      expect(q.Width.value).toBeCloseTo(isExterior ? 0.3 : 0.2, 9);
      const gross = (q.Length.value as number) * (q.Height.value as number) * (q.Width.value as number);
      expect(q.NetVolume.value as number).toBeLessThanOrEqual(gross + 1e-9);
      expect(q.NetVolume.value as number).toBeGreaterThan(0.5 * gross);
    }
    expect(external).toBe(EXTERIOR_WALLS);
    // The long façades are 48 m, the short ones fit between them.
    const southQto = (await psets(walls.find((id) => line(id).Name.value === "一层南外墙")!))
      .Qto_WallBaseQuantities;
    expect(southQto.Length.value).toBe(48);
    expect(southQto.NetVolume.value as number).toBeLessThan(48 * 4 * 0.3);
  });

  it("has floor slabs and a roof slab with Pset_SlabCommon", async () => {
    const slabs = ids(IFCSLAB).map(line);
    expect(slabs).toHaveLength(SLABS);
    expect(slabs.filter((s) => s.PredefinedType.value === "FLOOR")).toHaveLength(4);
    const roof = slabs.filter((s) => s.PredefinedType.value === "ROOF");
    expect(roof).toHaveLength(1);
    expect((await psets(roof[0].expressID)).Pset_SlabCommon).toEqual({
      IsExternal: { type: "IFCBOOLEAN", value: true },
      LoadBearing: { type: "IFCBOOLEAN", value: true },
    });
  });

  it("fills openings in the walls with external windows and with doors, the main entrance on 一层", async () => {
    const windows = ids(IFCWINDOW);
    const doors = ids(IFCDOOR);
    expect(windows).toHaveLength(WINDOWS);
    expect(doors).toHaveLength(DOORS);
    expect(ids(IFCOPENINGELEMENT)).toHaveLength(WINDOWS + DOORS);
    expect(ids(IFCRELVOIDSELEMENT)).toHaveLength(WINDOWS + DOORS);
    for (const id of windows) {
      const common = (await psets(id)).Pset_WindowCommon;
      expect(common.IsExternal).toEqual({ type: "IFCBOOLEAN", value: true });
      expect(common.ThermalTransmittance.type).toBe("IFCTHERMALTRANSMITTANCEMEASURE");
      expect(common.ThermalTransmittance.value).toBeCloseTo(2.2, 9);
    }
    const doorSets = await Promise.all(doors.map(async (id) => ({ door: line(id), sets: await psets(id) })));
    const external = doorSets.filter((d) => d.sets.Pset_DoorCommon.IsExternal.value === true);
    expect(external).toHaveLength(1);
    expect(external[0].door.Name.value).toBe("主入口");
    expect(doorSets.every((d) => d.sets.Pset_DoorCommon.FireRating.type === "IFCLABEL")).toBe(true);
    const tree = await spatialTree();
    const groundFloor = tree.children[0].children[0].children[0];
    expect(line(groundFloor.expressID).Name.value).toBe("一层");
    expect(groundFloor.children.some((c) => c.expressID === external[0].door.expressID)).toBe(true);
  });

  it("has named spaces with Pset_SpaceCommon and Qto_SpaceBaseQuantities.NetFloorArea", async () => {
    const spaces = ids(IFCSPACE);
    expect(spaces).toHaveLength(SPACES);
    const names = new Set<string>();
    let area = 0;
    for (const id of spaces) {
      const space = line(id);
      names.add(space.Name.value);
      expect(space.LongName.value).toContain(space.Name.value);
      const sets = await psets(id);
      expect(sets.Pset_SpaceCommon.IsExternal).toEqual({ type: "IFCBOOLEAN", value: false });
      expect(sets.Pset_SpaceCommon.Reference.value).toMatch(/^[1-4]0[1-4]$/);
      expect(sets.Qto_SpaceBaseQuantities.NetFloorArea.type).toBe("IFCQUANTITYAREA");
      area += sets.Qto_SpaceBaseQuantities.NetFloorArea.value as number;
    }
    expect([...names]).toEqual(expect.arrayContaining(["开放办公区", "会议室", "门厅"]));
    // The rooms fill the footprint less the walls: a little under 4 x 48 x 24 m².
    expect(area).toBeGreaterThan(0.9 * 4 * 48 * 24);
    expect(area).toBeLessThan(4 * 48 * 24);
  });
});

describe("demo BIM IFC: geometry as web-ifc tessellates it", () => {
  const streamed = new Map<number, { type: string; triangles: number }>();
  const min = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const max = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const colours = new Map<string, { x: number; y: number; z: number; w: number }>();

  beforeAll(() => {
    api.StreamAllMeshes(model, (mesh) => {
      const type = typeName(mesh.expressID);
      let triangles = 0;
      for (let i = 0; i < mesh.geometries.size(); i++) {
        const placed = mesh.geometries.get(i);
        colours.set(type, placed.color);
        const geometry = api.GetGeometry(model, placed.geometryExpressID);
        const v = api.GetVertexArray(geometry.GetVertexData(), geometry.GetVertexDataSize());
        triangles += geometry.GetIndexDataSize() / 3;
        const m = placed.flatTransformation; // column-major 4x4
        for (let k = 0; k < v.length; k += 6) {
          const [x, y, z] = [v[k], v[k + 1], v[k + 2]];
          for (let j = 0; j < 3; j++) {
            const p = m[j] * x + m[4 + j] * y + m[8 + j] * z + m[12 + j];
            min[j] = Math.min(min[j], p);
            max[j] = Math.max(max[j], p);
          }
        }
        geometry.delete();
      }
      streamed.set(mesh.expressID, { type, triangles });
    });
  });

  it("streams a mesh for every wall, slab, window and door (openings and spaces are not streamed)", () => {
    const expected = [...ids(IFCWALL), ...ids(IFCSLAB), ...ids(IFCWINDOW), ...ids(IFCDOOR)];
    expect(expected).toHaveLength(WALLS + SLABS + WINDOWS + DOORS);
    expect([...streamed.keys()].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    for (const { triangles } of streamed.values()) expect(triangles).toBeGreaterThanOrEqual(12);
    // The openings are cut out of the walls: a wall with windows has far more than a box's 12 triangles.
    const south = ids(IFCWALL).find((id) => line(id).Name.value === "二层南外墙")!;
    expect(streamed.get(south)!.triangles).toBeGreaterThan(12 * 8);
  });

  it("still gives spaces a body web-ifc can tessellate on request", () => {
    for (const id of ids(IFCSPACE)) {
      const mesh = api.GetFlatMesh(model, id);
      expect(mesh.geometries.size()).toBe(1);
    }
  });

  it("spans about 48 m x 24 m and ~17 m high (web-ifc output is Y-up: x east, y up, z south)", () => {
    const size = max.map((v, i) => v - min[i]);
    expect(size[0]).toBeCloseTo(48, 3);
    expect(size[2]).toBeCloseTo(24, 3);
    expect(size[1]).toBeCloseTo(17, 3); // 4 x 4.2 m storeys + the roof slab, on a 0.2 m ground slab
    expect(min[1]).toBeCloseTo(-0.2, 3);
    expect((min[0] + max[0]) / 2).toBeCloseTo(0, 3);
    expect((min[2] + max[2]) / 2).toBeCloseTo(0, 3);
  });

  it("colours walls light grey, slabs darker, windows translucent blue, doors brown", () => {
    const wall = colours.get("IFCWALL")!;
    const slab = colours.get("IFCSLAB")!;
    const glass = colours.get("IFCWINDOW")!;
    const door = colours.get("IFCDOOR")!;
    expect(wall.w).toBe(1);
    expect(wall.x).toBeGreaterThan(0.8);
    expect(slab.x).toBeLessThan(wall.x);
    expect(glass.w).toBeLessThan(1);
    expect(glass.w).toBeCloseTo(0.4, 5);
    expect(glass.z).toBeGreaterThan(glass.x);
    expect(door.x).toBeGreaterThan(door.z);
    expect(door.w).toBe(1);
  });
});

describe("demo BIM IFC: Chinese text reads back intact", () => {
  it("keeps building, storey, space and property values", async () => {
    expect(line(ids(IFCBUILDING)[0]).Name.value).toBe("宿迁科创中心");
    expect(ids(IFCBUILDINGSTOREY).map((id) => line(id).Name.value)).toContain("一层");
    expect(ids(IFCSPACE).map((id) => line(id).Name.value)).toContain("开放办公区");
    const sets = await psets(ids(IFCBUILDING)[0]);
    expect(sets["CIM_设计信息"]["设计单位"].value).toBe("宿迁市规划设计研究院");
  });
});
