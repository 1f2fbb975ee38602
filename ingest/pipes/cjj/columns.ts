import { readFile } from "node:fs/promises";
import { z } from "zod";
import { NODE_KINDS, PIPE_CLASSES } from "../../../models/pipes.ts";

/**
 * Column headers of the CJJ 61-2017 survey deliverables (管线点成果表, 管线段成果表): the canonical fields, their
 * usual Chinese headers, and the user mapping from other header names.
 */

export const POINT_FIELDS = [
  "pointId",
  "x",
  "y",
  "ground",
  "depth",
  "wellDepth",
  "feature",
  "appurtenance",
  "pipeClass",
  "bottomElevation",
] as const;
export type PointField = (typeof POINT_FIELDS)[number];

export const LINE_FIELDS = [
  "from",
  "to",
  "fromDepth",
  "toDepth",
  "diameter",
  "section",
  "material",
  "pressure",
  "cables",
  "burial",
  "owner",
  "year",
  "pipeClass",
  "flow",
  "length",
  "lineId",
  "fromElevation",
  "toElevation",
  "fromInvertElevation",
  "toInvertElevation",
  "fromTopElevation",
  "toTopElevation",
] as const;
export type LineField = (typeof LINE_FIELDS)[number];

export type TableKind = "points" | "lines";

/** Default headers per field; the first is the canonical Chinese header. Matched after {@link normalizeHeader}. */
export const POINT_HEADERS: Record<PointField, readonly string[]> = {
  pointId: ["物探点号", "点号", "管线点号", "点编号"],
  x: ["X", "X坐标", "纵坐标", "北坐标"],
  y: ["Y", "Y坐标", "横坐标", "东坐标"],
  ground: ["地面高程", "地面高", "地面标高"],
  depth: ["埋深", "管线埋深"],
  wellDepth: ["井底深", "井深", "井底埋深"],
  feature: ["特征", "特征点"],
  appurtenance: ["附属物", "附属设施"],
  pipeClass: ["管线类别", "类别", "管类", "管线种类", "管线类型", "管类代码"],
  bottomElevation: ["井底高程", "井底标高", "管底高程"],
};

export const LINE_HEADERS: Record<LineField, readonly string[]> = {
  from: ["起点号", "起点点号", "起始点号"],
  to: ["终点号", "终点点号", "终止点号"],
  fromDepth: ["起点埋深"],
  toDepth: ["终点埋深"],
  diameter: ["管径", "管径DN"],
  section: ["断面尺寸", "断面", "规格"],
  material: ["材质", "管材"],
  pressure: ["压力"],
  cables: ["电缆条数", "条数", "根数"],
  burial: ["埋设方式"],
  owner: ["权属单位", "权属"],
  year: ["埋设年代", "建设年代", "埋设日期"],
  pipeClass: ["管线类别", "类别", "管类", "管线种类", "管线类型", "管类代码"],
  flow: ["流向"],
  length: ["长度", "管长", "管段长度"],
  lineId: ["管线段号", "管段号", "线号", "段号", "管线编号"],
  // Elevations of the pipe at its ends: 起点高程 follows the class's depth convention (drainage: invert,
  // others: top); the explicit 管底 / 管顶 headers say which they are.
  fromElevation: ["起点高程", "起点标高", "起点管线高程"],
  toElevation: ["终点高程", "终点标高", "终点管线高程"],
  fromInvertElevation: ["起点管底高程", "起点管内底高程", "起点底高程", "起点管底标高"],
  toInvertElevation: ["终点管底高程", "终点管内底高程", "终点底高程", "终点管底标高"],
  fromTopElevation: ["起点管顶高程", "起点顶高程", "起点管顶标高"],
  toTopElevation: ["终点管顶高程", "终点顶高程", "终点管顶标高"],
};

/** Header comparison form: no whitespace, no trailing unit in brackets ("埋深（m）" → "埋深"), upper case. */
export function normalizeHeader(header: string): string {
  return header
    .replace(/\s+/g, "")
    .replace(/[（(［[][^）)］\]]*[）)］\]]$/u, "")
    .toUpperCase();
}

/**
 * User mapping (JSON): source header → canonical field (an English field key such as "pointId" or a default
 * Chinese header such as "物探点号"), for both tables (`columns`) or one (`points`, `lines`); `classes` maps class
 * values (codes, names, id prefixes) to pipe classes and `kinds` maps 附属物 / 特征 values to node kinds;
 * `depths` overrides what 埋深 (and 起点高程 / 终点高程) measure to per class ("invert" or "top").
 * A flat object of header → field pairs is accepted as `columns`. Used by the CJJ, GeoJSON and Shapefile readers.
 */
export interface CjjMapping {
  columns?: Record<string, string>;
  points?: Record<string, string>;
  lines?: Record<string, string>;
  classes?: Record<string, (typeof PIPE_CLASSES)[number]>;
  kinds?: Record<string, (typeof NODE_KINDS)[number]>;
  depths?: Partial<Record<(typeof PIPE_CLASSES)[number], "invert" | "top">>;
}

const HeaderMap = z.record(z.string(), z.string());
export const CjjMappingSchema = z
  .object({
    columns: HeaderMap.optional(),
    points: HeaderMap.optional(),
    lines: HeaderMap.optional(),
    classes: z.record(z.string(), z.enum(PIPE_CLASSES)).optional(),
    kinds: z.record(z.string(), z.enum(NODE_KINDS)).optional(),
    depths: z.partialRecord(z.enum(PIPE_CLASSES), z.enum(["invert", "top"])).optional(),
  })
  .strict();

const SECTION_KEYS = new Set(["columns", "points", "lines", "classes", "kinds", "depths"]);

/** Validates a mapping (object or JSON text); throws an Error naming the bad entry. */
export function parseCjjMapping(input: unknown): CjjMapping {
  const raw = typeof input === "string" ? (JSON.parse(input) as unknown) : input;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error("mapping must be a JSON object");
  const structured: Record<string, unknown> = {};
  const flat: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (SECTION_KEYS.has(k) && typeof v === "object") structured[k] = v;
    else flat[k] = v;
  }
  if (Object.keys(flat).length) {
    structured.columns = { ...(structured.columns as object | undefined), ...flat };
  }
  const parsed = CjjMappingSchema.safeParse(structured);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`invalid mapping at ${first.path.join(".") || "(root)"}: ${first.message}`);
  }
  const mapping = parsed.data;
  for (const [table, map] of [
    ["columns", mapping.columns],
    ["points", mapping.points],
    ["lines", mapping.lines],
  ] as const) {
    for (const [header, target] of Object.entries(map ?? {})) {
      const tables: TableKind[] = table === "columns" ? ["points", "lines"] : [table];
      if (!tables.some((t) => resolveTarget(t, target))) {
        throw new Error(
          `invalid mapping: "${header}" → "${target}" is not a ${tables.join("/")} field ` +
            `(${tables
              .flatMap((t): readonly string[] => (t === "points" ? POINT_FIELDS : LINE_FIELDS))
              .filter((f, i, a) => a.indexOf(f) === i)
              .join(", ")} or their Chinese headers)`,
        );
      }
    }
  }
  return mapping;
}

/**
 * Reads a mapping file (`--mapping <file.json>`); errors name the file and the bad entry (or the JSON position).
 */
export async function readMappingFile(path: string): Promise<CjjMapping> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === "ENOENT" ? "mapping file not found" : (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new Error(`${path}: mapping is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseCjjMapping(raw);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/** A mapping target (field key or any default header) → the field of this table, or undefined. */
function resolveTarget(table: TableKind, target: string): string | undefined {
  const fields: readonly string[] = table === "points" ? POINT_FIELDS : LINE_FIELDS;
  if (fields.includes(target)) return target;
  const headers: Record<string, readonly string[]> = table === "points" ? POINT_HEADERS : LINE_HEADERS;
  const norm = normalizeHeader(target);
  for (const [field, names] of Object.entries(headers)) {
    if (names.some((n) => normalizeHeader(n) === norm)) return field;
  }
  return undefined;
}

/** Field → column index and the header text as written in the file. */
export type ColumnMap<F extends string> = Partial<Record<F, { index: number; header: string }>>;

/**
 * Assigns the fields of a table to header cells: the user mapping first, then the default headers. A field
 * claimed by two columns keeps the first; the other stays an attribute only.
 */
export function mapColumns<F extends string>(
  table: TableKind,
  headers: readonly (string | null)[],
  mapping: CjjMapping,
): ColumnMap<F> {
  const user = new Map<string, string>();
  for (const map of [mapping.columns, table === "points" ? mapping.points : mapping.lines]) {
    for (const [h, target] of Object.entries(map ?? {})) {
      const field = resolveTarget(table, target);
      if (field) user.set(normalizeHeader(h), field);
    }
  }
  const defaults: Record<string, readonly string[]> = table === "points" ? POINT_HEADERS : LINE_HEADERS;
  const result: Record<string, { index: number; header: string }> = {};
  // Two passes so that a mapped header wins over a default header elsewhere in the row.
  for (const pass of ["user", "default"] as const) {
    headers.forEach((h, index) => {
      if (h === null) return;
      const norm = normalizeHeader(h);
      let field: string | undefined;
      if (pass === "user") field = user.get(norm);
      else if (!user.has(norm)) {
        field = Object.keys(defaults).find((f) => defaults[f].some((d) => normalizeHeader(d) === norm));
      }
      if (field && !result[field] && !Object.values(result).some((c) => c.index === index)) {
        result[field] = { index, header: h.trim() };
      }
    });
  }
  return result as ColumnMap<F>;
}
