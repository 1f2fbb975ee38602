/** How a building's vertical extent is taken from its attributes (OSM convention: height = top above ground). */
export interface HeightOptions {
  heightField: string;
  floorsFields: string[];
  floorHeight: number;
  defaultHeight: number;
  baseFields: string[];
}

export const DEFAULT_HEIGHT_OPTIONS: HeightOptions = {
  heightField: "height",
  floorsFields: ["floors", "building:levels", "levels", "层数"],
  floorHeight: 3,
  defaultHeight: 10,
  baseFields: ["base", "min_height", "底高"],
};

export type HeightSource = "field" | "floors" | "default";

export interface VerticalExtent {
  base: number;
  top: number;
  source: HeightSource;
}

/** Reads a positive number from a field that may hold text such as "45" or "45 m". */
function numberField(props: Record<string, unknown>, key: string): number | undefined {
  const v = props[key];
  const n = typeof v === "number" ? v : typeof v === "string" ? Number.parseFloat(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Returns undefined when the extent is empty (base at or above top): the caller skips such parts. */
export function verticalExtent(props: Record<string, unknown>, o: HeightOptions): VerticalExtent | undefined {
  let base = 0;
  for (const f of o.baseFields) {
    const b = numberField(props, f);
    if (b !== undefined) {
      base = b;
      break;
    }
  }
  const h = numberField(props, o.heightField);
  if (h !== undefined && h > 0) return h > base ? { base, top: h, source: "field" } : undefined;
  for (const f of o.floorsFields) {
    const floors = numberField(props, f);
    if (floors !== undefined && floors > 0)
      return { base, top: base + floors * o.floorHeight, source: "floors" };
  }
  return { base, top: base + o.defaultHeight, source: "default" };
}
