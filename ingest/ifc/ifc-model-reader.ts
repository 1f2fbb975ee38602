import type * as WebIfcTypes from "web-ifc";
import type {
  ElementData,
  ElementPart,
  IfcValue,
  MapConversionInfo,
  ModelInfo,
  SiteGeoInfo,
  StoreyInfo,
} from "./ifc-types.ts";
import { attrNumber, attrText, compoundAngle, ifcValue } from "./ifc-values.ts";
import { findPlacementCycle } from "./placement-cycles.ts";
import {
  type StepEntities,
  type StepValue,
  stepIfcValue,
  stepNumber,
  stepRef,
  stepRefs,
  stepText,
} from "./step-entities.ts";
import { loadWebIfc } from "./web-ifc-runtime.ts";

const WebIFC = loadWebIfc();

/** An entity as web-ifc returns it without flattening: references are {value: expressId}. */
// biome-ignore lint/suspicious/noExplicitAny: web-ifc's line objects are untyped per schema.
type Line = any;

export class IfcModelError extends Error {
  constructor(
    message: string,
    readonly entityId?: number,
  ) {
    super(message);
  }
}

const refId = (r: unknown): number | null => {
  const v = (r as { value?: unknown })?.value;
  return typeof v === "number" ? v : null;
};
const refIds = (list: unknown): number[] =>
  Array.isArray(list) ? list.map(refId).filter((x): x is number => x !== null) : [];

function vectorToArray(v: WebIfcTypes.Vector<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.size(); i++) out.push(v.get(i));
  return out;
}

/** "IFCWALLSTANDARDCASE" -> "IfcWallStandardCase", from web-ifc's own schema classes. */
const classNames = new Map<string, string>();
for (const ns of [WebIFC.IFC2X3, WebIFC.IFC4, WebIFC.IFC4X3] as unknown as Record<string, unknown>[]) {
  for (const name of Object.keys(ns)) if (name.startsWith("Ifc")) classNames.set(name.toUpperCase(), name);
}

export function ifcClassName(api: WebIfcTypes.IfcAPI, typeCode: number): string {
  const upper = api.GetNameFromTypeCode(typeCode);
  return classNames.get(upper) ?? upper;
}

/** Quantities whose value is their fourth attribute (Name, Description, Unit, value, Formula). */
const QUANTITY_TYPES = new Set([
  "IFCQUANTITYLENGTH",
  "IFCQUANTITYAREA",
  "IFCQUANTITYVOLUME",
  "IFCQUANTITYCOUNT",
  "IFCQUANTITYWEIGHT",
  "IFCQUANTITYTIME",
]);

export class IfcModelReader {
  private readonly line = new Map<number, Line>();
  private readonly psetsOf = new Map<number, number[]>();
  private readonly typeOf = new Map<number, number>();
  private readonly containerOf = new Map<number, number>();
  private readonly parentOf = new Map<number, number>();
  private readonly psetValues = new Map<number, { name: string; values: [string, IfcValue][] }>();
  private readonly storeys = new Map<number, StoreyInfo>();
  private lengthScale = 1;

  /** `step`: the file's entities read from its bytes, for the bulk of the attribute reads (see step-entities.ts). */
  constructor(
    private readonly api: WebIfcTypes.IfcAPI,
    private readonly model: number,
    private readonly step?: StepEntities,
  ) {}

  /** Attribute values from the byte index; undefined sends the caller to web-ifc's GetLine. */
  private args(id: number): StepValue[] | undefined {
    return this.step?.args(id);
  }

  private get(id: number): Line {
    let l = this.line.get(id);
    if (l === undefined) {
      l = this.api.GetLine(this.model, id, false);
      if (this.line.size < 200_000) this.line.set(id, l);
    }
    return l;
  }

  /**
   * Entities of a type. Exact types come from the byte index when it read every entity (web-ifc's vector costs an
   * embind call per id); subtypes (`inherited`) need web-ifc's schema.
   */
  private ids(type: number, inherited = false): number[] {
    if (!inherited && this.step && this.step.skippedInstances === 0) {
      return this.step.idsOfType(this.api.GetNameFromTypeCode(type).toUpperCase());
    }
    return vectorToArray(this.api.GetLineIDsWithType(this.model, type, inherited));
  }

  readInfo(includeSpaces: boolean): ModelInfo {
    const schema = this.api.GetModelSchema(this.model);
    if (this.ids(WebIFC.IFCPROJECT).length === 0)
      throw new IfcModelError("no IfcProject: not a usable IFC model");
    this.lengthScale = this.readLengthScale();
    // With the byte index, the ingest has already checked (findPlacementCycleInStep) before loading web-ifc.
    if (!this.step) this.checkPlacementCycles();
    this.indexRelations();
    const storeys = this.ids(WebIFC.IFCBUILDINGSTOREY).map((id) => {
      const s = this.get(id);
      const elevation = attrNumber(s.Elevation);
      const info: StoreyInfo = {
        expressId: id,
        name: attrText(s.Name),
        elevation: elevation === null ? null : elevation * this.lengthScale,
      };
      this.storeys.set(id, info);
      return info;
    });
    const skip = new Set([WebIFC.IFCOPENINGELEMENT, ...(includeSpaces ? [] : [WebIFC.IFCSPACE])]);
    const productIds = this.ids(WebIFC.IFCPRODUCT, true).filter((id) => {
      if (skip.has(this.api.GetLineType(this.model, id))) return false;
      const a = this.args(id);
      return a ? stepRef(a[6]) !== null : refId(this.get(id).Representation) !== null;
    });
    productIds.sort((a, b) => a - b);
    return {
      schema,
      lengthUnitScale: this.lengthScale,
      mapConversion: this.readMapConversion(),
      site: this.readSite(),
      trueNorth: this.readTrueNorth(),
      storeys,
      productIds,
    };
  }

  private readLengthScale(): number {
    for (const ua of this.ids(WebIFC.IFCUNITASSIGNMENT)) {
      for (const uid of refIds(this.get(ua).Units)) {
        const u = this.get(uid);
        if (attrText(u.UnitType) !== "LENGTHUNIT") continue;
        if (u.Prefix !== undefined && attrText(u.Name) === "METRE") {
          const prefix = attrText(u.Prefix);
          return prefix === "MILLI"
            ? 0.001
            : prefix === "CENTI"
              ? 0.01
              : prefix === "DECI"
                ? 0.1
                : prefix === "KILO"
                  ? 1000
                  : 1;
        }
        // IfcConversionBasedUnit (FOOT, INCH): its ConversionFactor holds the value in SI units.
        const factor = refId(u.ConversionFactor);
        if (factor !== null) {
          const mwu = this.get(factor);
          const k = attrNumber(mwu.ValueComponent);
          if (k !== null) return k;
        }
        const name = (attrText(u.Name) ?? "").toUpperCase();
        if (name.includes("FOOT")) return 0.3048;
        if (name.includes("INCH")) return 0.0254;
      }
    }
    return 1;
  }

  /** A placement that is (indirectly) relative to itself makes web-ifc recurse forever. */
  private checkPlacementCycles(): void {
    const parent = new Map<number, number | null>();
    for (const id of this.ids(WebIFC.IFCLOCALPLACEMENT)) {
      const a = this.args(id);
      parent.set(id, a ? stepRef(a[0]) : refId(this.get(id).PlacementRelTo));
    }
    const cycle = findPlacementCycle(parent);
    if (cycle) throw new IfcModelError(cycle.message, cycle.id);
  }

  /** Relations read as (objects, targets) pairs: attribute positions are the same in IFC2x3, IFC4 and IFC4x3. */
  private relation(
    rel: number,
    objectsAt: number,
    targetAt: number,
    names: [string, string],
  ): [number[], number[]] {
    const a = this.args(rel);
    const objects = a ? a[objectsAt] : undefined;
    const target = a ? a[targetAt] : undefined;
    if (a) {
      return [
        Array.isArray(objects)
          ? stepRefs(objects)
          : [stepRef(objects)].filter((x): x is number => x !== null),
        Array.isArray(target) ? stepRefs(target) : [stepRef(target)].filter((x): x is number => x !== null),
      ];
    }
    const r = this.get(rel);
    const ids = (v: unknown) =>
      Array.isArray(v) ? refIds(v) : [refId(v)].filter((x): x is number => x !== null);
    return [ids(r[names[0]]), ids(r[names[1]])];
  }

  private indexRelations(): void {
    for (const rel of this.ids(WebIFC.IFCRELDEFINESBYPROPERTIES)) {
      const [objects, defs] = this.relation(rel, 4, 5, ["RelatedObjects", "RelatingPropertyDefinition"]);
      for (const obj of objects) {
        const list = this.psetsOf.get(obj) ?? [];
        list.push(...defs);
        this.psetsOf.set(obj, list);
      }
    }
    for (const rel of this.ids(WebIFC.IFCRELDEFINESBYTYPE)) {
      const [objects, [type]] = this.relation(rel, 4, 5, ["RelatedObjects", "RelatingType"]);
      if (type !== undefined) for (const obj of objects) this.typeOf.set(obj, type);
    }
    for (const rel of this.ids(WebIFC.IFCRELCONTAINEDINSPATIALSTRUCTURE)) {
      const [elements, [container]] = this.relation(rel, 4, 5, ["RelatedElements", "RelatingStructure"]);
      if (container !== undefined) for (const el of elements) this.containerOf.set(el, container);
    }
    for (const rel of this.ids(WebIFC.IFCRELAGGREGATES)) {
      const [parts, [whole]] = this.relation(rel, 5, 4, ["RelatedObjects", "RelatingObject"]);
      if (whole !== undefined) for (const part of parts) this.parentOf.set(part, whole);
    }
  }

  private readMapConversion(): MapConversionInfo | null {
    const ids = this.ids(WebIFC.IFCMAPCONVERSION);
    if (ids.length === 0) return null;
    const m = this.get(ids[0]);
    const crsId = refId(m.TargetCRS);
    const crs = crsId === null ? null : this.get(crsId);
    return {
      crsName: crs ? attrText(crs.Name) : null,
      eastings: attrNumber(m.Eastings) ?? 0,
      northings: attrNumber(m.Northings) ?? 0,
      orthogonalHeight: attrNumber(m.OrthogonalHeight) ?? 0,
      xAxisAbscissa: attrNumber(m.XAxisAbscissa) ?? 1,
      xAxisOrdinate: attrNumber(m.XAxisOrdinate) ?? 0,
      scale: attrNumber(m.Scale) ?? 1,
    };
  }

  private readSite(): SiteGeoInfo | null {
    const ids = this.ids(WebIFC.IFCSITE);
    if (ids.length === 0) return null;
    const s = this.get(ids[0]);
    const elevation = attrNumber(s.RefElevation);
    return {
      refLatitude: compoundAngle(s.RefLatitude),
      refLongitude: compoundAngle(s.RefLongitude),
      refElevation: elevation === null ? null : elevation * this.lengthScale,
      origin: this.placementOrigin(refId(s.ObjectPlacement)),
    };
  }

  /** World position of a local placement's origin (translations only: enough to locate the site). */
  private placementOrigin(placementId: number | null): [number, number, number] {
    const o: [number, number, number] = [0, 0, 0];
    for (let id = placementId, hops = 0; id !== null && hops < 64; hops++) {
      const p = this.get(id);
      const axis = refId(p.RelativePlacement);
      const loc = axis === null ? null : refId(this.get(axis).Location);
      const coords = loc === null ? [] : (this.get(loc).Coordinates ?? []);
      for (let k = 0; k < 3; k++) o[k] += (attrNumber(coords[k]) ?? 0) * this.lengthScale;
      id = refId(p.PlacementRelTo);
    }
    return o;
  }

  private readTrueNorth(): [number, number] | null {
    for (const id of this.ids(WebIFC.IFCGEOMETRICREPRESENTATIONCONTEXT)) {
      const c = this.get(id);
      const tn = refId(c.TrueNorth);
      if (tn === null) continue;
      const ratios = this.get(tn).DirectionRatios ?? [];
      const x = attrNumber(ratios[0]) ?? 0;
      const y = attrNumber(ratios[1]) ?? 0;
      if (x !== 0 || y !== 0) return [x, y];
    }
    return null;
  }

  private storeyOf(id: number): StoreyInfo | null {
    for (let cur: number | undefined = id, hops = 0; cur !== undefined && hops < 32; hops++) {
      const container = this.containerOf.get(cur);
      if (container !== undefined) {
        const s = this.storeys.get(container);
        if (s) return s;
        cur = container;
      } else cur = this.parentOf.get(cur);
      if (cur !== undefined && this.storeys.has(cur)) return this.storeys.get(cur)!;
    }
    return null;
  }

  private psetEntries(psetId: number): { name: string; values: [string, IfcValue][] } {
    const cached = this.psetValues.get(psetId);
    if (cached) return cached;
    const entry = this.step?.type(psetId) ? this.psetFromStep(psetId) : this.psetFromLine(psetId);
    this.psetValues.set(psetId, entry);
    return entry;
  }

  /** The same values as psetFromLine, by attribute position (the same in IFC2x3, IFC4 and IFC4x3). */
  private psetFromStep(psetId: number): { name: string; values: [string, IfcValue][] } {
    const step = this.step!;
    const a = step.args(psetId)!;
    const name = stepText(a[2]) ?? `#${psetId}`;
    const kind = step.type(psetId);
    const props = kind === "IFCPROPERTYSET" ? a[4] : kind === "IFCELEMENTQUANTITY" ? a[5] : undefined;
    const values: [string, IfcValue][] = [];
    for (const propId of stepRefs(props)) {
      const p = step.args(propId);
      if (!p) {
        const fromLine = this.propertyFromLine(propId);
        if (fromLine) values.push(fromLine);
        continue;
      }
      const key = stepText(p[0]);
      if (!key) continue;
      const type = step.type(propId)!;
      let v: IfcValue | null = null;
      if (type === "IFCPROPERTYSINGLEVALUE") v = stepIfcValue(p[2]);
      else if (type === "IFCPROPERTYENUMERATEDVALUE" || type === "IFCPROPERTYLISTVALUE") {
        if (Array.isArray(p[2])) v = p[2].map((e) => stepIfcValue(e)).join(", ");
      } else if (QUANTITY_TYPES.has(type)) v = stepNumber(p[3]);
      if (v !== null) values.push([key, v]);
    }
    return { name, values };
  }

  private psetFromLine(psetId: number): { name: string; values: [string, IfcValue][] } {
    const p = this.get(psetId);
    const name = attrText(p.Name) ?? `#${psetId}`;
    const values: [string, IfcValue][] = [];
    for (const propId of refIds(p.HasProperties ?? p.Quantities)) {
      const kv = this.propertyFromLine(propId);
      if (kv) values.push(kv);
    }
    return { name, values };
  }

  private propertyFromLine(propId: number): [string, IfcValue] | null {
    const prop = this.get(propId);
    const key = attrText(prop.Name);
    if (!key) return null;
    let v: IfcValue | null = null;
    if (prop.NominalValue !== undefined) v = ifcValue(prop.NominalValue);
    else if (Array.isArray(prop.EnumerationValues)) {
      v = prop.EnumerationValues.map((e: unknown) => ifcValue(e as never)).join(", ");
    } else if (Array.isArray(prop.ListValues)) {
      v = prop.ListValues.map((e: unknown) => ifcValue(e as never)).join(", ");
    } else {
      for (const q of ["LengthValue", "AreaValue", "VolumeValue", "CountValue", "WeightValue", "TimeValue"]) {
        if (prop[q] !== undefined) v = attrNumber(prop[q]);
      }
    }
    return v === null ? null : [key, v];
  }

  private properties(id: number): Record<string, IfcValue> {
    const out: Record<string, IfcValue> = {};
    // Type properties first so the occurrence's own values win.
    const type = this.typeOf.get(id);
    const typeArgs = type === undefined ? undefined : this.args(type);
    const typePsets =
      type === undefined ? [] : typeArgs ? stepRefs(typeArgs[5]) : refIds(this.get(type).HasPropertySets);
    for (const psetId of [...typePsets, ...(this.psetsOf.get(id) ?? [])]) {
      const { name, values } = this.psetEntries(psetId);
      for (const [k, v] of values) out[`${name}.${k}`] = v;
    }
    return out;
  }

  /**
   * Attributes, properties and geometry of one product; null when it has no triangles. `mesh`: its mesh as
   * StreamMeshes hands it over (valid during the callback only); without it the product is meshed here.
   */
  extract(id: number, mesh?: WebIfcTypes.FlatMesh): ElementData | null {
    const parts = this.geometry(mesh ?? this.api.GetFlatMesh(this.model, id));
    if (parts.length === 0) return null;
    const a = this.args(id);
    const e = a ? undefined : this.get(id);
    const storey = this.storeyOf(id);
    return {
      expressId: id,
      globalId: (a ? stepText(a[0]) : attrText(e.GlobalId)) ?? `#${id}`,
      ifcClass: ifcClassName(this.api, this.api.GetLineType(this.model, id)),
      name: a ? stepText(a[2]) : attrText(e.Name),
      objectType: a ? stepText(a[4]) : attrText(e.ObjectType),
      storey: storey?.name ?? null,
      storeyElevation: storey?.elevation ?? null,
      properties: this.properties(id),
      parts,
    };
  }

  /**
   * The element's triangles in model axes. web-ifc returns them Y-up (x, y, z) = (X, Z, -Y) for three.js; they are
   * turned back to IFC's Z-up here so georeferencing works in the model's own axes.
   */
  /** Meshes products in one WebAssembly call, `onMesh` called for those with geometry, in product order. */
  streamMeshes(ids: number[], onMesh: (mesh: WebIfcTypes.FlatMesh) => void): void {
    this.api.StreamMeshes(this.model, ids, onMesh);
  }

  private geometry(flat: WebIfcTypes.FlatMesh): ElementPart[] {
    const byColor = new Map<string, { color: ElementPart["color"]; chunks: ElementPart[] }>();
    for (let g = 0; g < flat.geometries.size(); g++) {
      const placed = flat.geometries.get(g);
      const geo = this.api.GetGeometry(this.model, placed.geometryExpressID);
      try {
        const v = this.api.GetVertexArray(geo.GetVertexData(), geo.GetVertexDataSize());
        const ix = this.api.GetIndexArray(geo.GetIndexData(), geo.GetIndexDataSize());
        if (ix.length === 0) continue;
        const c = placed.color;
        const color: ElementPart["color"] = [c.x, c.y, c.z, c.w];
        const key = color.map((x) => x.toFixed(3)).join(",");
        let bucket = byColor.get(key);
        if (!bucket) {
          bucket = { color, chunks: [] };
          byColor.set(key, bucket);
        }
        bucket.chunks.push(placeGeometry(color, v, ix, placed.flatTransformation));
      } finally {
        geo.delete();
      }
    }
    return [...byColor.values()].map((b) => concatParts(b.color, b.chunks));
  }
}

/** One web-ifc geometry placed in model axes (Z up), in fresh typed arrays. */
function placeGeometry(
  color: ElementPart["color"],
  v: Float32Array,
  ix: Uint32Array,
  m: number[],
): ElementPart {
  const n = v.length / 6;
  const positions = new Float64Array(n * 3);
  const normals = new Float32Array(n * 3);
  const indices = new Uint32Array(ix.length);
  const det =
    m[0] * (m[5] * m[10] - m[6] * m[9]) -
    m[4] * (m[1] * m[10] - m[2] * m[9]) +
    m[8] * (m[1] * m[6] - m[2] * m[5]);
  for (let i = 0, o = 0; i < v.length; i += 6, o += 3) {
    const x = v[i];
    const y = v[i + 1];
    const z = v[i + 2];
    const wx = m[0] * x + m[4] * y + m[8] * z + m[12];
    const wy = m[1] * x + m[5] * y + m[9] * z + m[13];
    const wz = m[2] * x + m[6] * y + m[10] * z + m[14];
    positions[o] = wx;
    positions[o + 1] = -wz;
    positions[o + 2] = wy;
    const nx = v[i + 3];
    const ny = v[i + 4];
    const nz = v[i + 5];
    const ax = m[0] * nx + m[4] * ny + m[8] * nz;
    const ay = m[1] * nx + m[5] * ny + m[9] * nz;
    const az = m[2] * nx + m[6] * ny + m[10] * nz;
    const len = Math.hypot(ax, ay, az) || 1;
    normals[o] = ax / len;
    normals[o + 1] = -az / len;
    normals[o + 2] = ay / len;
  }
  // A mirroring placement turns triangles inside out unless their winding is reversed too.
  for (let t = 0; t < ix.length; t += 3) {
    indices[t] = ix[t];
    indices[t + 1] = det < 0 ? ix[t + 2] : ix[t + 1];
    indices[t + 2] = det < 0 ? ix[t + 1] : ix[t + 2];
  }
  return { color, positions, normals, indices };
}

function concatParts(color: ElementPart["color"], chunks: ElementPart[]): ElementPart {
  if (chunks.length === 1) return chunks[0];
  const vertexCount = chunks.reduce((s, c) => s + c.positions.length / 3, 0);
  const indexCount = chunks.reduce((s, c) => s + c.indices.length, 0);
  const out: ElementPart = {
    color,
    positions: new Float64Array(vertexCount * 3),
    normals: new Float32Array(vertexCount * 3),
    indices: new Uint32Array(indexCount),
  };
  let v = 0;
  let k = 0;
  for (const c of chunks) {
    out.positions.set(c.positions, v * 3);
    out.normals.set(c.normals, v * 3);
    for (let i = 0; i < c.indices.length; i++) out.indices[k++] = c.indices[i] + v;
    v += c.positions.length / 3;
  }
  return out;
}
