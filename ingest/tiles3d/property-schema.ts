/**
 * Infers a typed EXT_structural_metadata class from the attributes of many features, so that every source
 * attribute survives with a sensible type (strings, numbers, booleans) instead of being flattened to text.
 */
export type PropertyKind = "STRING" | "INT32" | "FLOAT64" | "BOOLEAN";

export interface PropertyDef {
  /** Identifier used in the glTF schema: ^[a-zA-Z_][a-zA-Z0-9_]*$ */
  id: string;
  /** Original attribute name as in the source (may contain ':' or Chinese). */
  sourceName: string;
  kind: PropertyKind;
  /** Whether some features lack the value (then a noData sentinel is written). */
  optional: boolean;
}

export const NO_DATA = {
  STRING: "",
  INT32: -2147483648,
  FLOAT64: -1.7976931348623157e308,
} as const;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

interface Tally {
  present: number;
  strings: number;
  numbers: number;
  nonInt32: number;
  booleans: number;
}

/** Accumulates observations one feature at a time so huge inputs never need a second pass. */
export class PropertySchemaBuilder {
  private readonly tallies = new Map<string, Tally>();
  private featureCount = 0;

  observe(properties: Record<string, unknown>): void {
    this.featureCount++;
    for (const [key, value] of Object.entries(properties)) {
      if (value === null || value === undefined) continue;
      let t = this.tallies.get(key);
      if (!t) {
        t = { present: 0, strings: 0, numbers: 0, nonInt32: 0, booleans: 0 };
        this.tallies.set(key, t);
      }
      t.present++;
      if (typeof value === "number") {
        t.numbers++;
        if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) t.nonInt32++;
      } else if (typeof value === "boolean") t.booleans++;
      else t.strings++;
    }
  }

  build(): PropertyDef[] {
    const used = new Set<string>();
    const defs: PropertyDef[] = [];
    for (const [name, t] of this.tallies) {
      const optional = t.present < this.featureCount;
      let kind: PropertyKind = "STRING";
      if (t.numbers === t.present) kind = t.nonInt32 > 0 ? "FLOAT64" : "INT32";
      // Booleans have no noData in the spec, so a partly missing boolean column is kept as text.
      else if (t.booleans === t.present && !optional) kind = "BOOLEAN";
      defs.push({ id: uniqueId(sanitizeId(name), used), sourceName: name, kind, optional });
    }
    return defs;
  }
}

export function sanitizeId(name: string): string {
  let id = name.replace(/[^a-zA-Z0-9_]/g, "_");
  if (!/^[a-zA-Z_]/.test(id)) id = `_${id}`;
  return id;
}

function uniqueId(base: string, used: Set<string>): string {
  let id = base;
  for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
  used.add(id);
  return id;
}

/** Normalises a raw attribute value to what the column of the given kind stores. */
export function columnValue(def: PropertyDef, value: unknown): string | number | boolean {
  if (value === null || value === undefined) {
    if (def.kind === "BOOLEAN") return false;
    return NO_DATA[def.kind];
  }
  switch (def.kind) {
    case "STRING":
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    case "BOOLEAN":
      return Boolean(value);
    default:
      return value as number;
  }
}

/** The EXT_structural_metadata / 3D Tiles schema object for one class, as also embedded in every GLB. */
export function schemaJson(className: string, description: string, defs: PropertyDef[]) {
  const properties: Record<string, Record<string, unknown>> = {};
  for (const d of defs) {
    const p: Record<string, unknown> = { name: d.sourceName };
    if (d.kind === "STRING" || d.kind === "BOOLEAN") p.type = d.kind;
    else Object.assign(p, { type: "SCALAR", componentType: d.kind });
    if (d.optional && d.kind !== "BOOLEAN") p.noData = NO_DATA[d.kind];
    properties[d.id] = p;
  }
  return { id: `cim_${className}`, classes: { [className]: { description, properties } } };
}
