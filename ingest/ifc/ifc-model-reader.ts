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

export class IfcModelReader {
  private readonly line = new Map<number, Line>();
  private readonly psetsOf = new Map<number, number[]>();
  private readonly typeOf = new Map<number, number>();
  private readonly containerOf = new Map<number, number>();
  private readonly parentOf = new Map<number, number>();
  private readonly psetValues = new Map<number, { name: string; values: [string, IfcValue][] }>();
  private readonly storeys = new Map<number, StoreyInfo>();
  private lengthScale = 1;

  constructor(
    private readonly api: WebIfcTypes.IfcAPI,
    private readonly model: number,
  ) {}

  private get(id: number): Line {
    let l = this.line.get(id);
    if (l === undefined) {
      l = this.api.GetLine(this.model, id, false);
      if (this.line.size < 200_000) this.line.set(id, l);
    }
    return l;
  }

  private ids(type: number, inherited = false): number[] {
    return vectorToArray(this.api.GetLineIDsWithType(this.model, type, inherited));
  }

  readInfo(includeSpaces: boolean): ModelInfo {
    const schema = this.api.GetModelSchema(this.model);
    if (this.ids(WebIFC.IFCPROJECT).length === 0)
      throw new IfcModelError("no IfcProject: not a usable IFC model");
    this.lengthScale = this.readLengthScale();
    this.checkPlacementCycles();
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
      return refId(this.get(id).Representation) !== null;
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
    for (const id of this.ids(WebIFC.IFCLOCALPLACEMENT)) parent.set(id, refId(this.get(id).PlacementRelTo));
    const ok = new Set<number>();
    for (const start of parent.keys()) {
      const path: number[] = [];
      const seen = new Set<number>();
      let cur: number | null | undefined = start;
      while (cur !== null && cur !== undefined && !ok.has(cur)) {
        if (seen.has(cur)) {
          const cycle = [...path.slice(path.indexOf(cur)), cur].map((x) => `#${x}`).join(" -> ");
          throw new IfcModelError(`#${cur}: IfcLocalPlacement.PlacementRelTo forms a cycle (${cycle})`, cur);
        }
        seen.add(cur);
        path.push(cur);
        cur = parent.get(cur);
      }
      for (const p of path) ok.add(p);
    }
  }

  private indexRelations(): void {
    for (const rel of this.ids(WebIFC.IFCRELDEFINESBYPROPERTIES)) {
      const r = this.get(rel);
      const defs = Array.isArray(r.RelatingPropertyDefinition)
        ? refIds(r.RelatingPropertyDefinition)
        : [refId(r.RelatingPropertyDefinition)].filter((x): x is number => x !== null);
      for (const obj of refIds(r.RelatedObjects)) {
        const list = this.psetsOf.get(obj) ?? [];
        list.push(...defs);
        this.psetsOf.set(obj, list);
      }
    }
    for (const rel of this.ids(WebIFC.IFCRELDEFINESBYTYPE)) {
      const r = this.get(rel);
      const type = refId(r.RelatingType);
      if (type !== null) for (const obj of refIds(r.RelatedObjects)) this.typeOf.set(obj, type);
    }
    for (const rel of this.ids(WebIFC.IFCRELCONTAINEDINSPATIALSTRUCTURE)) {
      const r = this.get(rel);
      const container = refId(r.RelatingStructure);
      if (container !== null) for (const el of refIds(r.RelatedElements)) this.containerOf.set(el, container);
    }
    for (const rel of this.ids(WebIFC.IFCRELAGGREGATES)) {
      const r = this.get(rel);
      const whole = refId(r.RelatingObject);
      if (whole !== null) for (const part of refIds(r.RelatedObjects)) this.parentOf.set(part, whole);
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
    const p = this.get(psetId);
    const name = attrText(p.Name) ?? `#${psetId}`;
    const values: [string, IfcValue][] = [];
    for (const propId of refIds(p.HasProperties ?? p.Quantities)) {
      const prop = this.get(propId);
      const key = attrText(prop.Name);
      if (!key) continue;
      let v: IfcValue | null = null;
      if (prop.NominalValue !== undefined) v = ifcValue(prop.NominalValue);
      else if (Array.isArray(prop.EnumerationValues)) {
        v = prop.EnumerationValues.map((e: unknown) => ifcValue(e as never)).join(", ");
      } else if (Array.isArray(prop.ListValues)) {
        v = prop.ListValues.map((e: unknown) => ifcValue(e as never)).join(", ");
      } else {
        for (const q of [
          "LengthValue",
          "AreaValue",
          "VolumeValue",
          "CountValue",
          "WeightValue",
          "TimeValue",
        ]) {
          if (prop[q] !== undefined) v = attrNumber(prop[q]);
        }
      }
      if (v !== null) values.push([key, v]);
    }
    const entry = { name, values };
    this.psetValues.set(psetId, entry);
    return entry;
  }

  private properties(id: number): Record<string, IfcValue> {
    const out: Record<string, IfcValue> = {};
    // Type properties first so the occurrence's own values win.
    const type = this.typeOf.get(id);
    const typePsets = type === undefined ? [] : refIds(this.get(type).HasPropertySets);
    for (const psetId of [...typePsets, ...(this.psetsOf.get(id) ?? [])]) {
      const { name, values } = this.psetEntries(psetId);
      for (const [k, v] of values) out[`${name}.${k}`] = v;
    }
    return out;
  }

  /** Attributes, properties and geometry of one product; null when it has no triangles. */
  extract(id: number): ElementData | null {
    const parts = this.geometry(id);
    if (parts.length === 0) return null;
    const e = this.get(id);
    const storey = this.storeyOf(id);
    return {
      expressId: id,
      globalId: attrText(e.GlobalId) ?? `#${id}`,
      ifcClass: ifcClassName(this.api, this.api.GetLineType(this.model, id)),
      name: attrText(e.Name),
      objectType: attrText(e.ObjectType),
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
  private geometry(id: number): ElementPart[] {
    const flat = this.api.GetFlatMesh(this.model, id);
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
