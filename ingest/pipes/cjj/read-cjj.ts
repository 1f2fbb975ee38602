import {
  GRAVITY_CLASSES,
  type ImportIssue,
  type NodeKind,
  type PipeClass,
  type PipeLink,
  type PipeNetwork,
  type PipeNode,
  type Section,
} from "../../../models/pipes.ts";
import { resolveSourceCrs } from "../../crs/source-crs.ts";
import {
  classFromFileName,
  classFromPointId,
  classFromValue,
  DEFAULT_DEPTH_CONVENTION,
  type DepthReference,
  nodeKind,
} from "./classes.ts";
import {
  type CjjMapping,
  type ColumnMap,
  LINE_HEADERS,
  type LineField,
  mapColumns,
  POINT_HEADERS,
  type PointField,
  parseCjjMapping,
  type TableKind,
} from "./columns.ts";
import { decideSwap, extentTest } from "./coordinates.ts";
import { parseSection, sectionHeight } from "./sections.ts";
import { loadTableInput, type RawRow, type RawSheet, type TableInput } from "./table-file.ts";

export { DEFAULT_DEPTH_CONVENTION, type DepthReference } from "./classes.ts";
export { type CjjMapping, parseCjjMapping } from "./columns.ts";
export type { TableInput } from "./table-file.ts";

/**
 * Reader for the deliverables of a CJJ 61-2017 (城市地下管线探测技术规程) pipe detection survey: the point table
 * (管线点成果表) and the line table (管线段成果表), as CSV (UTF-8 with or without BOM, GBK, UTF-16) or XLSX, one
 * pair per pipe class or several classes with a class column.
 *
 * Rows are numbered as a spreadsheet shows them: the header (or a title above it) is row 1, so the first data
 * row under a one-line header is row 2; in CSV it is the record number (a quoted field may span lines).
 *
 * Severity: "error" means a row or a value was dropped (rows without id or coordinates, unknown point ids,
 * zero-length and duplicate segments, duplicate point ids; non-numeric / negative depths, unreadable sizes);
 * "warning" means the data was kept but is incomplete or was reinterpreted (missing size, swapped X/Y, GBK
 * decoding, unknown pipe class, points outside the CRS extent). `strict` throws on any error.
 */

export interface ReadCjjOptions {
  /** Point table(s): paths or in-memory files; XLSX workbooks are read sheet by sheet. */
  points: TableInput | readonly TableInput[];
  /** Line table(s). The same workbook may be given for both: sheets are told apart by their headers. */
  lines: TableInput | readonly TableInput[];
  /** Source CRS, e.g. "EPSG:4547" (CGCS2000 3° GK CM 114E); enables the swapped X/Y test against its extent. */
  crs?: string;
  /** Header / class / kind mapping (object or JSON text), see {@link CjjMapping}. */
  mapping?: CjjMapping | string;
  /** Throw a {@link CjjImportError} listing the issues when any error was found, instead of skipping rows. */
  strict?: boolean;
  /** What 埋深 measures to, per class; merged over {@link DEFAULT_DEPTH_CONVENTION} and the mapping's `depths`. */
  depthConvention?: Partial<Record<PipeClass, DepthReference>>;
}

export class CjjImportError extends Error {
  constructor(readonly issues: ImportIssue[]) {
    const errors = issues.filter((i) => i.severity === "error");
    const lines = errors.slice(0, 50).map(formatIssue);
    if (errors.length > 50) lines.push(`… and ${errors.length - 50} more`);
    super(`CJJ survey tables have ${errors.length} error(s):\n${lines.join("\n")}`);
    this.name = "CjjImportError";
  }
}

export function formatIssue(i: ImportIssue): string {
  const where = [
    i.file,
    i.row !== null ? `row ${i.row}` : null,
    i.column !== null ? `column ${i.column}` : null,
  ]
    .filter(Boolean)
    .join(", ");
  return `${i.severity}: ${where}: ${i.problem}`;
}

/** Rows searched for the header (titles such as "给水管线点成果表" may stand above it). */
const HEADER_SEARCH_ROWS = 20;

interface Table<F extends string> {
  file: string;
  /** Header texts (trimmed; attribute keys, made unique). */
  keys: string[];
  columns: ColumnMap<F>;
  rows: RawRow[];
}

interface PointRecord {
  file: string;
  row: number;
  id: string;
  X: number;
  Y: number;
  ground: number | null;
  depth: number | null;
  wellDepth: number | null;
  kind: NodeKind;
  /** Class from the row's class column, id prefix or file name; null until inherited from links. */
  pipeClass: PipeClass | null;
  attributes: Record<string, string | null>;
}

interface LinkRecord {
  link: PipeLink;
  file: string;
  row: number;
  fromDepth: number | null;
  toDepth: number | null;
  /** 起点/终点 管底高程, 管顶高程 and 高程 (by the class's convention), when the table has them. */
  fromElevations: EndElevations;
  toElevations: EndElevations;
}

export async function readCjjTables(options: ReadCjjOptions): Promise<PipeNetwork> {
  const mapping = parseCjjMapping(options.mapping);
  const crs = options.crs?.trim() || undefined;
  if (crs) resolveSourceCrs(crs); // fails early on an unsupported CRS
  const convention = { ...DEFAULT_DEPTH_CONVENTION, ...mapping.depths, ...options.depthConvention };
  const issues: ImportIssue[] = [];
  const issue = (
    file: string,
    row: number | null,
    column: string | null,
    problem: string,
    severity: ImportIssue["severity"] = "error",
  ) => issues.push({ file, row, column, problem, severity });

  // --- point tables -------------------------------------------------------------------------------------------
  const pointTables = await loadTables<PointField>(
    "points",
    listOf(options.points),
    mapping,
    issues,
    ["pointId", "x", "y"],
    "物探点号 (点号 / 管线点号), X and Y",
  );
  const test = extentTest(crs);
  const points = new Map<string, PointRecord>();
  for (const table of pointTables) {
    const c = table.columns;
    const accepted: PointRecord[] = [];
    for (const raw of table.rows) {
      const cell = (f: PointField) => cellOf(raw, c[f]?.index);
      const col = (f: PointField) => c[f]?.header ?? null;
      const at = (column: string | null, problem: string, severity?: ImportIssue["severity"]) =>
        issue(table.file, raw.row, column, problem, severity);
      let fatal = false;
      const id = cell("pointId")?.trim() ?? "";
      if (!id) {
        at(col("pointId"), "missing point id; row skipped");
        fatal = true;
      }
      const coord = (f: "x" | "y"): number => {
        const text = cell(f);
        const v = parseNumber(text);
        if (v === null || Number.isNaN(v)) {
          at(
            col(f),
            text === null
              ? "missing coordinate; row skipped"
              : `non-numeric coordinate "${text}"; row skipped`,
          );
          fatal = true;
          return Number.NaN;
        }
        return v;
      };
      const X = coord("x");
      const Y = coord("y");
      if (fatal) continue;
      const first = points.get(id);
      if (first) {
        at(
          col("pointId"),
          `duplicate point id "${id}" (first at ${first.file} row ${first.row}); row skipped`,
        );
        continue;
      }
      // Value problems are reported for kept rows only; a skipped row reports why it was skipped.
      const ground = numberCell(cell("ground"), col("ground"), "ground elevation", false, at);
      const depth = numberCell(cell("depth"), col("depth"), "depth", true, at);
      const wellDepth = numberCell(cell("wellDepth"), col("wellDepth"), "well bottom depth", true, at);
      let pipeClass: PipeClass | null = null;
      const classText = cell("pipeClass");
      if (classText?.trim()) {
        pipeClass = classFromValue(classText, mapping.classes) ?? null;
        if (!pipeClass) at(col("pipeClass"), `unknown pipe class "${classText.trim()}"`, "warning");
      }
      pipeClass ??= classFromPointId(id, mapping.classes) ?? classFromFileName(table.file) ?? null;
      const record: PointRecord = {
        file: table.file,
        row: raw.row,
        id,
        X,
        Y,
        ground,
        depth,
        wellDepth,
        kind: nodeKind(cell("appurtenance"), cell("feature"), mapping.kinds),
        pipeClass,
        attributes: attributesOf(table, raw),
      };
      points.set(id, record);
      accepted.push(record);
    }
    // Swapped X/Y: decided for the whole table from how many points fit the CRS extent each way round.
    const swap = decideSwap(accepted, test);
    const label = crs ?? "the Chinese Gauss-Krüger ranges";
    if (swap.swapped) {
      issue(
        table.file,
        null,
        `${c.x?.header}/${c.y?.header}`,
        `X/Y look swapped (X holds the easting): ${swap.fitSwapped} of ${swap.total} points fit ${label} as (Y, X) ` +
          `against ${swap.fitGiven} as surveyed; X read as easting for this table`,
        "warning",
      );
    }
    if (crs && test) {
      const outside = accepted.filter((p) => (swap.swapped ? !test(p.X, p.Y) : !test(p.Y, p.X)));
      if (outside.length) {
        issue(
          table.file,
          null,
          null,
          `${outside.length} of ${accepted.length} points lie outside the valid extent of ${crs} ` +
            `(rows ${outside
              .slice(0, 10)
              .map((p) => p.row)
              .join(", ")}${outside.length > 10 ? ", …" : ""})`,
          "warning",
        );
      }
    }
    if (swap.swapped) for (const p of accepted) [p.X, p.Y] = [p.Y, p.X];
  }
  // From here on a point's (X, Y) is (northing, easting) as CJJ 61 writes it.

  // --- line tables --------------------------------------------------------------------------------------------
  const lineTables = await loadTables<LineField>(
    "lines",
    listOf(options.lines),
    mapping,
    issues,
    ["from", "to"],
    "起点号 and 终点号",
  );
  const links: LinkRecord[] = [];
  const segments = new Map<string, { file: string; row: number }>();
  const linkIds = new Set<string>();
  for (const table of lineTables) {
    const c = table.columns;
    if (!c.diameter && !c.section) {
      issue(table.file, null, null, "no 管径 or 断面尺寸 column: pipe sizes unknown", "warning");
    }
    for (const raw of table.rows) {
      const cell = (f: LineField) => cellOf(raw, c[f]?.index);
      const col = (f: LineField) => c[f]?.header ?? null;
      const at = (column: string | null, problem: string, severity?: ImportIssue["severity"]) =>
        issue(table.file, raw.row, column, problem, severity);
      let fatal = false;
      const endpoint = (f: "from" | "to"): PointRecord | null => {
        const id = cell(f)?.trim() ?? "";
        const what = f === "from" ? "start" : "end";
        if (!id) {
          at(col(f), `missing ${what} point id; row skipped`);
          fatal = true;
          return null;
        }
        const p = points.get(id);
        if (!p) {
          at(col(f), `unknown ${what} point id "${id}" (not in the point tables); row skipped`);
          fatal = true;
        }
        return p ?? null;
      };
      const from = endpoint("from");
      const to = endpoint("to");
      if (fatal || !from || !to) continue;
      if (from.id === to.id) {
        at(col("to"), `zero-length segment: start and end are both "${from.id}"; row skipped`);
        continue;
      }
      if (from.X === to.X && from.Y === to.Y) {
        at(null, `zero-length segment: "${from.id}" and "${to.id}" have identical coordinates; row skipped`);
        continue;
      }
      const key = from.id < to.id ? `${from.id}\u0000${to.id}` : `${to.id}\u0000${from.id}`;
      const first = segments.get(key);
      if (first) {
        at(
          null,
          `duplicate segment "${from.id}"–"${to.id}" (first at ${first.file} row ${first.row}); row skipped`,
        );
        continue;
      }
      segments.set(key, { file: table.file, row: raw.row });
      const fromDepth = numberCell(cell("fromDepth"), col("fromDepth"), "start depth", true, at);
      const toDepth = numberCell(cell("toDepth"), col("toDepth"), "end depth", true, at);
      const elevations = (f: "from" | "to"): EndElevations => {
        const what = f === "from" ? "start" : "end";
        const field = (suffix: "InvertElevation" | "TopElevation" | "Elevation") =>
          `${f}${suffix}` as LineField;
        const num = (k: LineField, label: string) => numberCell(cell(k), col(k), label, false, at);
        return {
          invert: num(field("InvertElevation"), `${what} invert elevation`),
          top: num(field("TopElevation"), `${what} top elevation`),
          byConvention: num(field("Elevation"), `${what} elevation`),
        };
      };
      const length = numberCell(cell("length"), col("length"), "length", true, at);
      const section = readSection(cell("section"), cell("diameter"), col("section"), col("diameter"), at);
      let pipeClass: PipeClass | undefined;
      const classText = cell("pipeClass");
      if (classText?.trim()) {
        pipeClass = classFromValue(classText, mapping.classes);
        if (!pipeClass) at(col("pipeClass"), `unknown pipe class "${classText.trim()}"`, "warning");
      }
      pipeClass ??=
        from.pipeClass ??
        to.pipeClass ??
        classFromPointId(from.id, mapping.classes) ??
        classFromFileName(table.file) ??
        "UNKNOWN";
      let id = cell("lineId")?.trim() || `${from.id}-${to.id}`;
      if (linkIds.has(id)) id = `${id}#${table.file}:${raw.row}`;
      linkIds.add(id);
      links.push({
        file: table.file,
        row: raw.row,
        fromDepth,
        toDepth,
        fromElevations: elevations("from"),
        toElevations: elevations("to"),
        link: {
          id,
          kind: GRAVITY_CLASSES.has(pipeClass) ? "conduit" : "pipe",
          pipeClass,
          from: from.id,
          to: to.id,
          vertices: [],
          section,
          fromInvert: null,
          toInvert: null,
          length,
          material: cell("material")?.trim() || null,
          attributes: attributesOf(table, raw),
        },
      });
    }
  }

  // --- classes, inverts ---------------------------------------------------------------------------------------
  const linksAt = new Map<string, PipeLink[]>();
  for (const { link } of links) {
    for (const end of [link.from, link.to]) {
      const list = linksAt.get(end);
      if (list) list.push(link);
      else linksAt.set(end, [link]);
    }
  }
  const unknownNodes = new Map<string, PointRecord[]>();
  const nodes: PipeNode[] = [];
  for (const p of points.values()) {
    let pipeClass = p.pipeClass;
    if (!pipeClass) pipeClass = majorityClass(linksAt.get(p.id) ?? []);
    if (!pipeClass) {
      pipeClass = "UNKNOWN";
      const list = unknownNodes.get(p.file) ?? [];
      list.push(p);
      unknownNodes.set(p.file, list);
    }
    p.pipeClass = pipeClass;
    nodes.push({
      id: p.id,
      kind: p.kind,
      pipeClass,
      x: p.Y,
      y: p.X,
      groundElevation: p.ground,
      invertElevation: nodeInvert(p, pipeClass, convention[pipeClass], linksAt.get(p.id) ?? []),
      attributes: p.attributes,
    });
  }
  for (const [file, list] of unknownNodes) {
    issue(
      file,
      null,
      null,
      `${list.length} point(s) without a recognisable pipe class (no class column, id prefix, file name or ` +
        `classed segment), set to UNKNOWN: ${list
          .slice(0, 10)
          .map((p) => p.id)
          .join(", ")}${list.length > 10 ? ", …" : ""}`,
      "warning",
    );
  }
  const unknownLinks = new Map<string, LinkRecord[]>();
  for (const rec of links) {
    const { link } = rec;
    if (link.pipeClass === "UNKNOWN") {
      const list = unknownLinks.get(rec.file) ?? [];
      list.push(rec);
      unknownLinks.set(rec.file, list);
    }
    const from = points.get(link.from)!;
    const to = points.get(link.to)!;
    const reference = convention[link.pipeClass];
    link.fromInvert =
      elevationInvert(rec.fromElevations, link.section, reference) ??
      linkInvert(from, rec.fromDepth, link.section, reference);
    link.toInvert =
      elevationInvert(rec.toElevations, link.section, reference) ??
      linkInvert(to, rec.toDepth, link.section, reference);
  }
  for (const [file, list] of unknownLinks) {
    issue(
      file,
      null,
      null,
      `${list.length} segment(s) without a recognisable pipe class, set to UNKNOWN (rows ${list
        .slice(0, 10)
        .map((l) => l.row)
        .join(", ")}${list.length > 10 ? ", …" : ""})`,
      "warning",
    );
  }

  if (options.strict && issues.some((i) => i.severity === "error")) throw new CjjImportError(issues);
  return { format: "cjj", crs: crs ?? null, nodes, links: links.map((l) => l.link), issues };
}

function listOf(input: TableInput | readonly TableInput[]): readonly TableInput[] {
  return Array.isArray(input) ? input : [input as TableInput];
}

/**
 * Loads table files and finds each sheet's header row (the first of the top rows that names the required
 * fields). Sheets of a workbook without such a header are skipped; a file with none at all is an error.
 */
async function loadTables<F extends string>(
  kind: TableKind,
  inputs: readonly TableInput[],
  mapping: CjjMapping,
  issues: ImportIssue[],
  required: F[],
  requiredText: string,
): Promise<Table<F>[]> {
  const tables: Table<F>[] = [];
  for (const input of inputs) {
    const loaded = await loadTableInput(input);
    issues.push(...loaded.issues);
    let found = 0;
    let partial: { sheet: RawSheet; missing: F[] } | null = null;
    for (const sheet of loaded.sheets) {
      const table = findHeader<F>(kind, sheet, mapping, required);
      if ("missing" in table) {
        if (table.missing.length < required.length && !partial) partial = { sheet, missing: table.missing };
        continue;
      }
      tables.push(table);
      found++;
    }
    if (!found) {
      const name = typeof input === "string" ? input : input.name;
      const file = partial?.sheet.file ?? loaded.sheets[0]?.file ?? name;
      issues.push({
        file,
        row: null,
        column: null,
        problem: partial
          ? `no ${kind === "points" ? "point" : "line"} table: the header lacks ${partial.missing
              .map((f) => (kind === "points" ? POINT_HEADERS : LINE_HEADERS)[f as never][0])
              .join(", ")} ` + `(needs ${requiredText}; other names can be given in the mapping)`
          : `no ${kind === "points" ? "point" : "line"} table header (${requiredText}) in the first ` +
            `${HEADER_SEARCH_ROWS} rows; file skipped`,
        severity: "error",
      });
    }
  }
  return tables;
}

function findHeader<F extends string>(
  kind: TableKind,
  sheet: RawSheet,
  mapping: CjjMapping,
  required: F[],
): Table<F> | { missing: F[] } {
  let best: F[] = required;
  for (let i = 0; i < Math.min(sheet.rows.length, HEADER_SEARCH_ROWS); i++) {
    const header = sheet.rows[i];
    const columns = mapColumns<F>(kind, header.cells, mapping);
    const missing = required.filter((f) => !columns[f]);
    if (missing.length === 0) {
      return {
        file: sheet.file,
        keys: attributeKeys(header.cells),
        columns,
        rows: sheet.rows.slice(i + 1).filter((r) => r.cells.some((v) => v !== null)),
      };
    }
    if (missing.length < best.length) best = missing;
  }
  return { missing: best };
}

/** Attribute keys: the trimmed header texts, made unique ("埋深", "埋深 (2)"); blank headers become "列N". */
function attributeKeys(headers: readonly (string | null)[]): string[] {
  const seen = new Map<string, number>();
  return headers.map((h, i) => {
    const base = h?.trim() || `列${i + 1}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base} (${n})`;
  });
}

/** Every cell of the row under its header, verbatim (empty cells as null); cells right of the header too. */
function attributesOf(table: Table<string>, raw: RawRow): Record<string, string | null> {
  const attributes: Record<string, string | null> = {};
  table.keys.forEach((k, i) => {
    attributes[k] = raw.cells[i] ?? null;
  });
  for (let i = table.keys.length; i < raw.cells.length; i++) {
    if (raw.cells[i] !== null) attributes[`列${i + 1}`] = raw.cells[i];
  }
  return attributes;
}

function cellOf(raw: RawRow, index: number | undefined): string | null {
  if (index === undefined) return null;
  return raw.cells[index] ?? null;
}

/** A number cell: null when empty, NaN when unreadable. Full-width digits and a trailing "m" / "米" are accepted. */
export function parseNumber(text: string | null): number | null {
  if (text === null) return null;
  const t = text
    .trim()
    .replace(/[０-９．－＋]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\s*(m|米)$/i, "");
  if (!t) return null;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return Number.NaN;
  return Number(t);
}

/** Reads an optional numeric cell; an unreadable (or, for depths and lengths, negative) value is an error and dropped. */
export function numberCell(
  text: string | null,
  column: string | null,
  what: string,
  nonNegative: boolean,
  at: (column: string | null, problem: string) => void,
): number | null {
  const v = parseNumber(text);
  if (v === null) return null;
  if (Number.isNaN(v)) {
    at(column, `non-numeric ${what} "${text?.trim()}"; value ignored`);
    return null;
  }
  if (nonNegative && v < 0) {
    at(column, `negative ${what} ${v}; value ignored`);
    return null;
  }
  return v;
}

/** 断面尺寸 (width x height) first, else 管径; a missing size is a warning, an unreadable one an error. */
export function readSection(
  sectionText: string | null,
  diameterText: string | null,
  sectionColumn: string | null,
  diameterColumn: string | null,
  at: (column: string | null, problem: string, severity?: ImportIssue["severity"]) => void,
): Section | null {
  if (sectionColumn === null && diameterColumn === null) return null; // reported once for the table
  const fromSection = parseSection(sectionText);
  const fromDiameter = parseSection(diameterText);
  for (const [parsed, column] of [
    [fromSection, sectionColumn],
    [fromDiameter, diameterColumn],
  ] as const) {
    if (parsed && "error" in parsed) at(column, `${parsed.error}; size ignored`);
  }
  const ok = (p: typeof fromSection): Section | null => (p && !("error" in p) ? p : null);
  const section = ok(fromSection) ?? ok(fromDiameter);
  if (!section && !(fromSection && "error" in fromSection) && !(fromDiameter && "error" in fromDiameter)) {
    at(
      diameterColumn ?? sectionColumn,
      `missing diameter/section (${[diameterColumn, sectionColumn].filter(Boolean).join(" and ")} empty)`,
      "warning",
    );
  }
  return section;
}

/** The class most of a point's segments have (ties: first met), or null without classed segments. */
export function majorityClass(links: readonly PipeLink[]): PipeClass | null {
  const counts = new Map<PipeClass, number>();
  for (const l of links)
    if (l.pipeClass !== "UNKNOWN") counts.set(l.pipeClass, (counts.get(l.pipeClass) ?? 0) + 1);
  let best: PipeClass | null = null;
  let bestCount = 0;
  for (const [c, n] of counts) {
    if (n > bestCount) {
      best = c;
      bestCount = n;
    }
  }
  return best;
}

/**
 * A point's lowest elevation: ground − 井底深 when the well bottom depth is given; else ground − 埋深, less the
 * largest section height of its segments when 埋深 is measured to the pipe top (so the invert is the pipe bottom;
 * with no known size, ground − 埋深).
 */
export function nodeInvert(
  p: Pick<PointRecord, "ground" | "depth" | "wellDepth">,
  pipeClass: PipeClass,
  reference: DepthReference,
  links: readonly PipeLink[],
): number | null {
  if (p.ground === null) return null;
  if (p.wellDepth !== null) return round(p.ground - p.wellDepth);
  if (p.depth === null) return null;
  if (reference === "invert") return round(p.ground - p.depth);
  const heights = links
    .filter((l) => l.pipeClass === pipeClass && l.section)
    .map((l) => sectionHeight(l.section!));
  return round(p.ground - p.depth - (heights.length ? Math.max(...heights) : 0));
}

/**
 * A segment end's invert: ground − depth (drainage: depth to the invert) or ground − depth − section height
 * (pressure pipes, cables, ducts: depth to the top). The line table's 起点/终点埋深 is used, else the point's 埋深.
 */
function linkInvert(
  p: PointRecord,
  lineDepth: number | null,
  section: Section | null,
  reference: DepthReference,
): number | null {
  const depth = lineDepth ?? p.depth;
  if (p.ground === null || depth === null) return null;
  if (reference === "invert") return round(p.ground - depth);
  if (!section) return null;
  return round(p.ground - depth - sectionHeight(section));
}

interface EndElevations {
  invert: number | null;
  top: number | null;
  byConvention: number | null;
}

/**
 * A segment end's invert from recorded elevations, which win over depths: 管底高程 as is, 管顶高程 less the section
 * height, 高程 by the class's convention. A top without a known size gives null, as for depths.
 */
function elevationInvert(
  e: EndElevations,
  section: Section | null,
  reference: DepthReference,
): number | null {
  if (e.invert !== null) return round(e.invert);
  const top = e.top ?? (reference === "top" ? e.byConvention : null);
  if (top !== null) return section ? round(top - sectionHeight(section)) : null;
  if (e.byConvention !== null) return round(e.byConvention);
  return null;
}

/** Millimetre rounding, so that 20.5 − 1.2 − 0.3 reads 19 rather than 18.999999999999996. */
export function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
