import { basename, extname } from "node:path";
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
import { resolveSourceCrs, type SourceCrs } from "../../crs/source-crs.ts";
import { openVectorSource } from "../../sources/open-vector-source.ts";
import type { SourceFeature } from "../../sources/source-feature.ts";
import {
  classFromFileName,
  classFromPointId,
  classFromValue,
  DEFAULT_DEPTH_CONVENTION,
  type DepthReference,
  nodeKind,
} from "../cjj/classes.ts";
import {
  type CjjMapping,
  type ColumnMap,
  type LineField,
  mapColumns,
  type PointField,
  parseCjjMapping,
} from "../cjj/columns.ts";
import { decideSwap, type ExtentTest, extentTest } from "../cjj/coordinates.ts";
import { formatIssue, majorityClass, nodeInvert, numberCell, readSection, round } from "../cjj/read-cjj.ts";
import { sectionHeight } from "../cjj/sections.ts";
import { DEFAULT_LINK_DIAMETER } from "../tiles/pipe-features.ts";
import { readShapefileZ } from "./shp-z.ts";
import { SnapIndex } from "./snap-index.ts";

/**
 * Pipe networks drawn in a GIS: line features (LineString / MultiLineString, 2D or 3D) are links, point features
 * are nodes, from GeoJSON (FeatureCollection or GeoJSON text sequences) or Shapefile (.shp + .dbf, .prj, .cpg).
 * Attribute names go through the CJJ 61 header aliases and the user mapping (起点号, 终点号, 管径 / 断面尺寸, 材质,
 * 起点埋深, 起点高程, 管类, 物探点号, 地面高程, 埋深, 井底深, 特征, 附属物 ...), so a survey exported to a GIS reads like
 * the survey tables.
 *
 * Topology: a line whose 起点号 / 终点号 name point features is joined to them (its drawn end vertices give way
 * to the points' positions; a line drawn against its named direction is turned round). A line without them is
 * snapped: each end joins the nearest point feature, or the nearest end of an already read line, within
 * `snapTolerance` (default {@link DEFAULT_SNAP_TOLERANCE} m, converted to degrees for geographic CRSs); an end
 * with nothing in reach gets a new junction node "J1", "J2", .... Lines that touch another line between its
 * ends (no vertex there) are not split. Ends only snap within a utility (a telecom duct ending beside a water
 * valve stays apart; combined sewers take storm and foul drains).
 *
 * Heights of a link end, first found: 起点管底高程 / 起点管顶高程; 起点高程 read by the class's depth convention;
 * ground (地面高程 of the end point) − depth (起点埋深, else the point's 埋深) by the convention; the line's Z
 * coordinate at that end (3D GeoJSON, PolyLineZ) by the convention; else nothing (the drawing falls back to the
 * node's invert). Z values that are all 0 count as absent (a 3D file without heights).
 *
 * Rows in issues are 0-based feature indexes (the FID shown by QGIS / ArcGIS for shapefiles). Severity "error":
 * a feature or a value was dropped (unknown point ids, zero-length or duplicate segments, unreadable sizes,
 * negative depths, geometries that are neither lines nor points, duplicate point ids); "warning": kept but
 * incomplete or reinterpreted (missing size, swapped X/Y, unknown pipe class, generated ids). `strict` throws
 * on any error.
 */

export type GisFormat = "geojson" | "shp";

export interface ReadGisOptions {
  /** Line and point layers: any number of files, or one GeoJSON holding both. */
  inputs: readonly string[];
  format: GisFormat;
  /** Overrides the CRS the files declare (.prj, GeoJSON "crs"); GeoJSON without one is WGS84. */
  crs?: string;
  /** Header / class / kind / depth mapping (object or JSON text), shared with the CJJ reader. */
  mapping?: CjjMapping | string;
  /** Class of features without a class attribute (before the file name is consulted). */
  pipeClass?: PipeClass;
  /** Throw a {@link GisImportError} when any error was found, instead of skipping the features. */
  strict?: boolean;
  /** What 埋深 / 起点高程 / Z measure to, per class; merged over the defaults and the mapping's `depths`. */
  depthConvention?: Partial<Record<PipeClass, DepthReference>>;
  /** Snapping distance for line ends, metres (default {@link DEFAULT_SNAP_TOLERANCE}). */
  snapTolerance?: number;
}

/** Line ends this close (metres) are the same node: survey-grade exports repeat coordinates to the millimetre. */
export const DEFAULT_SNAP_TOLERANCE = 0.1;
/** A named end point farther than this (metres) from the drawn end vertex is reported. */
const END_MISMATCH_WARNING = 1;
const METRES_PER_DEGREE = 111_320;

const GEOJSON_EXTENSIONS = [
  ".geojson",
  ".json",
  ".geojsonl",
  ".geojsons",
  ".geojsonseq",
  ".ndjson",
  ".jsonl",
];

export class GisImportError extends Error {
  constructor(readonly issues: ImportIssue[]) {
    const errors = issues.filter((i) => i.severity === "error");
    const lines = errors.slice(0, 50).map(formatIssue);
    if (errors.length > 50) lines.push(`… and ${errors.length - 50} more`);
    super(`pipe layers have ${errors.length} error(s) (--strict):\n${lines.join("\n")}`);
    this.name = "GisImportError";
  }
}

type Value = string | number | boolean | null;
type XYZ = [number, number, number | null];

interface Layer {
  file: string;
  features: SourceFeature[];
  /** Z per feature for PolyLineZ / PointZ shapefiles (the shapefile reader drops them). */
  z: (number[] | null)[] | null;
  keys: string[];
  pointColumns: ColumnMap<PointField>;
  lineColumns: ColumnMap<LineField>;
  declaredCrs?: string;
  guessedEncoding?: { encoding: string; reason: string };
}

interface PointRecord {
  file: string;
  row: number;
  id: string | null;
  x: number;
  y: number;
  ground: number | null;
  depth: number | null;
  wellDepth: number | null;
  bottom: number | null;
  kind: NodeKind;
  /** Class from attribute, --class, file name or id prefix; null until inherited from links. */
  pipeClass: PipeClass | null;
  attributes: Record<string, Value>;
}

interface LineRecord {
  file: string;
  row: number;
  part: number | null;
  path: XYZ[];
  fromId: string | null;
  toId: string | null;
  cell: (f: LineField) => string | null;
  col: (f: LineField) => string | null;
  attributes: Record<string, Value>;
}

interface NetNode {
  id: string;
  x: number;
  y: number;
  point: PointRecord | null;
  /** Class of a node made from line ends: that of the first line. */
  lineClass: PipeClass | null;
}

export async function readGisNetwork(options: ReadGisOptions): Promise<PipeNetwork> {
  const mapping = parseCjjMapping(options.mapping);
  const convention = { ...DEFAULT_DEPTH_CONVENTION, ...mapping.depths, ...options.depthConvention };
  const issues: ImportIssue[] = [];
  const issue = (
    file: string,
    row: number | null,
    column: string | null,
    problem: string,
    severity: ImportIssue["severity"] = "error",
  ) => issues.push({ file, row, column, problem, severity });

  if (options.inputs.length === 0) throw new Error(`--format ${options.format} needs at least one file`);
  const layers: Layer[] = [];
  for (const file of options.inputs) {
    const layer = await loadLayer(file, options.format);
    layer.pointColumns = mapColumns<PointField>("points", layer.keys, mapping);
    layer.lineColumns = mapColumns<LineField>("lines", layer.keys, mapping);
    layers.push(layer);
    if (layer.guessedEncoding?.encoding === "gb18030") {
      issue(file, null, null, `attributes read as GBK (GB18030): ${layer.guessedEncoding.reason}`, "warning");
    }
  }

  // --- CRS ------------------------------------------------------------------------------------------------------
  const { spec: crsSpec, crs } = chooseCrs(layers, options, issue);
  const tolerance =
    (options.snapTolerance ?? DEFAULT_SNAP_TOLERANCE) / (crs.geographic ? METRES_PER_DEGREE : 1);
  const warnDistance = END_MISMATCH_WARNING / (crs.geographic ? METRES_PER_DEGREE : 1);
  const test: ExtentTest | null = crs.geographic
    ? (lon, lat) => Math.abs(lon) <= 180 && Math.abs(lat) <= 90
    : extentTest(crsSpec);

  // --- features -----------------------------------------------------------------------------------------------
  const points: PointRecord[] = [];
  const lines: LineRecord[] = [];
  for (const layer of layers) {
    const filePoints: PointRecord[] = [];
    const fileLines: LineRecord[] = [];
    const hasLines = layer.features.some((f) => isLine(f.geometry?.type));
    for (const f of layer.features) {
      const row = f.index;
      const at = (column: string | null, problem: string, severity?: ImportIssue["severity"]) =>
        issue(layer.file, row, column, problem, severity);
      const value = (key: string | undefined) => (key === undefined ? null : textOf(f.properties[key]));
      const type = f.geometry?.type;
      const pc = layer.pointColumns;
      const lc = layer.lineColumns;
      const lcell = (field: LineField) => value(keyOf(layer, lc[field]));
      const lcol = (field: LineField) => lc[field]?.header ?? null;
      const namesEnds = Boolean(lcell("from")?.trim() || lcell("to")?.trim());
      const attributes = attributesOf(f.properties);
      if (isLine(type)) {
        const parsed = lineParts(f.geometry, layer.z?.[row] ?? null, tolerance);
        if ("error" in parsed) {
          at(null, `${parsed.error}; feature skipped`);
          continue;
        }
        if (parsed.parts.length > 1) {
          at(
            null,
            `MultiLineString of ${parsed.parts.length} disjoint parts: each part read as its own link`,
            "warning",
          );
        }
        parsed.parts.forEach((path, k) => {
          fileLines.push({
            file: layer.file,
            row,
            part: parsed.parts.length > 1 ? k + 1 : null,
            path,
            fromId: parsed.parts.length > 1 ? null : lcell("from")?.trim() || null,
            toId: parsed.parts.length > 1 ? null : lcell("to")?.trim() || null,
            cell: lcell,
            col: lcol,
            attributes,
          });
        });
        continue;
      }
      if (isPoint(type) && !namesEnds) {
        const xy = pointOf(f.geometry);
        if ("error" in xy) {
          at(null, `${xy.error}; feature skipped`);
          continue;
        }
        const pcell = (field: PointField) => value(keyOf(layer, pc[field]));
        const pcol = (field: PointField) => pc[field]?.header ?? null;
        const id = pcell("pointId")?.trim() || textOf(f.properties.id)?.trim() || null;
        let pipeClass: PipeClass | null = null;
        const classText = pcell("pipeClass");
        if (classText?.trim()) {
          pipeClass = classFromValue(classText, mapping.classes) ?? null;
          if (!pipeClass) at(pcol("pipeClass"), `unknown pipe class "${classText.trim()}"`, "warning");
        }
        pipeClass ??=
          options.pipeClass ??
          classFromFileName(basename(layer.file)) ??
          (id ? classFromPointId(id, mapping.classes) : undefined) ??
          null;
        filePoints.push({
          file: layer.file,
          row,
          id,
          x: xy.x,
          y: xy.y,
          ground: numberCell(pcell("ground"), pcol("ground"), "ground elevation", false, at),
          depth: numberCell(pcell("depth"), pcol("depth"), "depth", true, at),
          wellDepth: numberCell(pcell("wellDepth"), pcol("wellDepth"), "well bottom depth", true, at),
          bottom: numberCell(
            pcell("bottomElevation"),
            pcol("bottomElevation"),
            "bottom elevation",
            false,
            at,
          ),
          kind: nodeKind(pcell("appurtenance"), pcell("feature"), mapping.kinds),
          pipeClass,
          attributes,
        });
        continue;
      }
      if (type === undefined || type === null) {
        at(null, "feature without geometry; skipped");
      } else if (isPoint(type)) {
        at(
          null,
          `${type} geometry with 起点号/终点号 attributes: a line feature needs a line; feature skipped`,
        );
      } else {
        at(
          null,
          hasLines
            ? `${type} geometry in a line layer (expected LineString or MultiLineString); feature skipped`
            : `${type} geometry is neither a line nor a point; feature skipped`,
        );
      }
    }

    // Swapped X/Y: decided per file from how many coordinates fit the CRS extent each way round.
    const sample = [
      ...filePoints.map((p) => ({ X: p.y, Y: p.x })),
      ...fileLines.flatMap((l) => [l.path[0], l.path[l.path.length - 1]].map(([x, y]) => ({ X: y, Y: x }))),
    ];
    const swap = decideSwap(sample, test);
    if (swap.swapped) {
      issue(
        layer.file,
        null,
        null,
        `X/Y look swapped: ${swap.fitSwapped} of ${swap.total} coordinates fit ${crsSpec} as (y, x) against ` +
          `${swap.fitGiven} as given; read swapped for this file`,
        "warning",
      );
      for (const p of filePoints) [p.x, p.y] = [p.y, p.x];
      for (const l of fileLines) l.path = l.path.map(([x, y, z]) => [y, x, z]);
    }
    const fits = swap.swapped ? swap.fitSwapped : swap.fitGiven;
    if (test && swap.total > 0 && fits < swap.total) {
      issue(
        layer.file,
        null,
        null,
        `${swap.total - fits} of ${swap.total} coordinates lie outside the valid extent of ${crsSpec}`,
        "warning",
      );
    }
    points.push(...filePoints);
    lines.push(...fileLines);
  }

  // --- nodes from point features --------------------------------------------------------------------------------
  const used = new Set<string>();
  for (const p of points) if (p.id) used.add(p.id);
  for (const l of lines) for (const id of [l.fromId, l.toId]) if (id) used.add(id);
  const freshId = idFactory(used);
  const nodesById = new Map<string, NetNode>();
  const snap = new SnapIndex<NetNode>(tolerance);
  const firstAt = new Map<string, PointRecord>();
  const generated = new Map<string, string[]>();
  for (const p of points) {
    if (p.id) {
      const first = firstAt.get(p.id);
      if (first) {
        issue(
          p.file,
          p.row,
          null,
          `duplicate point id "${p.id}" (first at ${first.file} row ${first.row}); feature skipped`,
        );
        continue;
      }
      firstAt.set(p.id, p);
    } else {
      p.id = freshId("P");
      pushTo(generated, p.file, p.id);
    }
    const node: NetNode = { id: p.id, x: p.x, y: p.y, point: p, lineClass: null };
    nodesById.set(node.id, node);
    snap.add(node.x, node.y, node);
  }
  for (const [file, ids] of generated) {
    issue(
      file,
      null,
      null,
      `${ids.length} point feature(s) without 物探点号 or id got generated ids: ${ids.slice(0, 10).join(", ")}` +
        (ids.length > 10 ? ", …" : ""),
      "warning",
    );
  }
  const havePointLayer = nodesById.size > 0;

  // --- links ----------------------------------------------------------------------------------------------------
  // Lines that name their ends first, so that nodes named by lines exist before unnamed ends snap to them.
  const ordered = [...lines].sort((a, b) => Number(!(a.fromId || a.toId)) - Number(!(b.fromId || b.toId)));
  const links: { link: PipeLink; rec: LineRecord; from: NetNode; to: NetNode; path: XYZ[] }[] = [];
  const segments = new Map<string, LineRecord>();
  const linkIds = new Set<string>();
  for (const rec of ordered) {
    const at = (column: string | null, problem: string, severity?: ImportIssue["severity"]) =>
      issue(rec.file, rec.row, column, problem, severity);
    const partText = rec.part === null ? "" : ` (part ${rec.part})`;
    const lineClass = explicitLineClass(rec, mapping, options.pipeClass, at);

    let path = rec.path;
    if (rec.fromId && rec.toId) {
      const a = nodesById.get(rec.fromId);
      const b = nodesById.get(rec.toId);
      // Drawn against the direction the attributes give: turn the vertices round.
      if (a && b) {
        const first = path[0];
        const last = path[path.length - 1];
        if (dist(a, first) + dist(b, last) > dist(a, last) + dist(b, first)) path = [...path].reverse();
      }
    }
    let fatal = false;
    const endpoint = (end: "from" | "to"): NetNode | null => {
      const name = end === "from" ? rec.fromId : rec.toId;
      const [x, y] = end === "from" ? path[0] : path[path.length - 1];
      const what = end === "from" ? "start" : "end";
      if (name) {
        const known = nodesById.get(name);
        if (known) {
          const d = Math.hypot(known.x - x, known.y - y);
          if (d > warnDistance) {
            at(
              rec.col(end),
              `${what} point "${name}" lies ${(crs.geographic ? d * METRES_PER_DEGREE : d).toFixed(2)} m from ` +
                `the line's ${end === "from" ? "first" : "last"} vertex${partText}; joined to the point`,
              "warning",
            );
          }
          return known;
        }
        if (havePointLayer) {
          at(
            rec.col(end),
            `unknown ${what} point id "${name}" (not among the point features); feature skipped`,
          );
          fatal = true;
          return null;
        }
        const node: NetNode = { id: name, x, y, point: null, lineClass };
        nodesById.set(name, node);
        snap.add(x, y, node);
        return node;
      }
      const near = snap.nearest(x, y, (n) => joinable(lineClass, n.point ? n.point.pipeClass : n.lineClass));
      if (near) return near.item;
      const node: NetNode = { id: freshId("J"), x, y, point: null, lineClass };
      nodesById.set(node.id, node);
      snap.add(x, y, node);
      return node;
    };
    const from = endpoint("from");
    const to = endpoint("to");
    if (fatal || !from || !to) continue;
    const interior = path.slice(1, -1);
    const horizontal = pathLength([{ x: from.x, y: from.y }, ...interior.map(([x, y]) => ({ x, y })), to]);
    if (from === to || horizontal <= 0) {
      at(
        null,
        from === to
          ? `zero-length segment: both ends at "${from.id}"${partText}; feature skipped`
          : `zero-length segment: "${from.id}" and "${to.id}" have identical coordinates${partText}; feature skipped`,
      );
      continue;
    }
    const key = segmentKey(from.id, to.id, interior, tolerance);
    const first = segments.get(key);
    if (first) {
      at(
        null,
        `duplicate segment "${from.id}"–"${to.id}"${partText} (same as ${first.file} row ${first.row}); feature skipped`,
      );
      continue;
    }
    segments.set(key, rec);

    const section = readSection(
      rec.cell("section"),
      rec.cell("diameter"),
      rec.col("section"),
      rec.col("diameter"),
      at,
    );
    const pipeClass =
      lineClass ??
      from.point?.pipeClass ??
      to.point?.pipeClass ??
      classFromPointId(from.id, mapping.classes) ??
      "UNKNOWN";
    let id = rec.cell("lineId")?.trim() || textOf(rec.attributes.id)?.trim() || `${from.id}-${to.id}`;
    if (rec.part !== null) id = `${id}/${rec.part}`;
    if (linkIds.has(id)) id = `${id}#${basename(rec.file)}:${rec.row}`;
    linkIds.add(id);
    links.push({
      rec,
      from,
      to,
      path,
      link: {
        id,
        kind: GRAVITY_CLASSES.has(pipeClass) ? "conduit" : "pipe",
        pipeClass,
        from: from.id,
        to: to.id,
        vertices: interior.map(([x, y]) => [x, y]),
        section,
        fromInvert: null,
        toInvert: null,
        length: numberCell(rec.cell("length"), rec.col("length"), "length", true, at),
        material: rec.cell("material")?.trim() || null,
        attributes: rec.attributes,
      },
    });
  }

  // --- heights --------------------------------------------------------------------------------------------------
  const unknownLinks = new Map<string, number[]>();
  for (const { link, rec, from, to, path } of links) {
    if (link.pipeClass === "UNKNOWN") pushTo(unknownLinks, rec.file, rec.row);
    const reference = convention[link.pipeClass];
    const at = (column: string | null, problem: string) => issue(rec.file, rec.row, column, problem);
    const zs = path.map((p) => p[2]);
    const hasZ = zs.some((z) => z !== null && z !== 0);
    for (const end of ["from", "to"] as const) {
      const node = end === "from" ? from : to;
      const f = (a: LineField, b: LineField) => (end === "from" ? a : b);
      const num = (field: LineField, what: string, nonNegative: boolean) =>
        numberCell(rec.cell(field), rec.col(field), what, nonNegative, at);
      const invert = endInvert({
        reference,
        section: link.section,
        invertElevation: num(
          f("fromInvertElevation", "toInvertElevation"),
          `${end === "from" ? "start" : "end"} invert elevation`,
          false,
        ),
        topElevation: num(
          f("fromTopElevation", "toTopElevation"),
          `${end === "from" ? "start" : "end"} top elevation`,
          false,
        ),
        elevation: num(
          f("fromElevation", "toElevation"),
          `${end === "from" ? "start" : "end"} elevation`,
          false,
        ),
        depth:
          num(f("fromDepth", "toDepth"), `${end === "from" ? "start" : "end"} depth`, true) ??
          node.point?.depth ??
          null,
        ground: node.point?.ground ?? null,
        z: hasZ ? (end === "from" ? zs[0] : zs[zs.length - 1]) : null,
      });
      if (end === "from") link.fromInvert = invert;
      else link.toInvert = invert;
    }
  }
  for (const [file, rows] of unknownLinks) {
    issue(
      file,
      null,
      null,
      `${rows.length} line(s) without a recognisable pipe class (no class attribute, --class, file name or ` +
        `classed end point), set to UNKNOWN (rows ${rows.slice(0, 10).join(", ")}${rows.length > 10 ? ", …" : ""})`,
      "warning",
    );
  }

  // --- nodes ----------------------------------------------------------------------------------------------------
  const linksAt = new Map<string, { link: PipeLink; end: "from" | "to" }[]>();
  for (const { link } of links) {
    for (const end of ["from", "to"] as const) {
      pushTo(linksAt, link[end], { link, end });
    }
  }
  const nodes: PipeNode[] = [];
  const unknownNodes = new Map<string, string[]>();
  for (const node of nodesById.values()) {
    const at = linksAt.get(node.id) ?? [];
    const p = node.point;
    let pipeClass = p?.pipeClass ?? node.lineClass ?? majorityClass(at.map((a) => a.link));
    if (!pipeClass) {
      pipeClass = "UNKNOWN";
      if (p) pushTo(unknownNodes, p.file, node.id);
    }
    let invert: number | null = null;
    if (p?.bottom !== null && p?.bottom !== undefined) invert = p.bottom;
    else if (p) {
      invert = nodeInvert(
        p,
        pipeClass,
        convention[pipeClass],
        at.map((a) => a.link),
      );
    }
    if (invert === null) {
      // A node without its own depth sits as low as the lowest pipe end it joins.
      const ends = at
        .map((a) => (a.end === "from" ? a.link.fromInvert : a.link.toInvert))
        .filter((v): v is number => v !== null);
      if (ends.length) invert = Math.min(...ends);
    }
    nodes.push({
      id: node.id,
      kind: p?.kind ?? "junction",
      pipeClass,
      x: node.x,
      y: node.y,
      groundElevation: p?.ground ?? null,
      invertElevation: invert,
      attributes: p?.attributes ?? {},
    });
  }
  for (const [file, ids] of unknownNodes) {
    issue(
      file,
      null,
      null,
      `${ids.length} point(s) without a recognisable pipe class, set to UNKNOWN: ${ids
        .slice(0, 10)
        .join(", ")}${ids.length > 10 ? ", …" : ""}`,
      "warning",
    );
  }

  // In file order, file-wide issues first, then by feature (a feature's own issues in the order found).
  const fileOrder = new Map(options.inputs.map((f, i) => [f, i]));
  issues.sort(
    (a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || (a.row ?? -1) - (b.row ?? -1),
  );
  if (options.strict && issues.some((i) => i.severity === "error")) throw new GisImportError(issues);
  return { format: options.format, crs: crsSpec, nodes, links: links.map((l) => l.link), issues };
}

async function loadLayer(file: string, format: GisFormat): Promise<Layer> {
  const ext = extname(file).toLowerCase();
  if (format === "shp" && ext !== ".shp")
    throw new Error(`${file}: --format shp reads .shp files (with the .dbf, .prj and .cpg beside them)`);
  if (format === "geojson" && !GEOJSON_EXTENSIONS.includes(ext))
    throw new Error(`${file}: --format geojson reads ${GEOJSON_EXTENSIONS.join(", ")} files`);
  const source = await openVectorSource(file);
  const features: SourceFeature[] = [];
  for await (const f of source.features()) features.push(f);
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const f of features) {
    for (const k of Object.keys(f.properties)) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  return {
    file,
    features,
    z: format === "shp" ? await readShapefileZ(file) : null,
    keys,
    pointColumns: {},
    lineColumns: {},
    declaredCrs: source.declaredCrs,
    guessedEncoding: source.guessedEncoding,
  };
}

function keyOf(layer: Layer, column: { index: number } | undefined): string | undefined {
  return column === undefined ? undefined : layer.keys[column.index];
}

/** --crs, else what the files declare (all the same), else WGS84 (GeoJSON's RFC 7946 default). */
function chooseCrs(
  layers: Layer[],
  options: ReadGisOptions,
  issue: (file: string, row: number | null, column: string | null, problem: string, sev?: "warning") => void,
): { spec: string; crs: SourceCrs } {
  const resolve = (spec: string, file: string): SourceCrs => {
    try {
      return resolveSourceCrs(spec);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
  };
  if (options.crs?.trim()) {
    const spec = options.crs.trim();
    return { spec, crs: resolve(spec, "--crs") };
  }
  let chosen: { spec: string; crs: SourceCrs; file: string } | null = null;
  for (const layer of layers) {
    if (!layer.declaredCrs) continue;
    const crs = resolve(layer.declaredCrs, layer.file);
    if (!chosen) chosen = { spec: layer.declaredCrs, crs, file: layer.file };
    else if (crs.id !== chosen.crs.id) {
      throw new Error(
        `${layer.file} declares ${crs.id} but ${chosen.file} declares ${chosen.crs.id}: reproject them to one ` +
          `CRS or give --crs`,
      );
    }
  }
  if (chosen) return { spec: chosen.spec, crs: chosen.crs };
  const degrees = (v: number, limit: number) => Math.abs(v) <= limit;
  for (const layer of layers) {
    // Either way round: swapped lon/lat is detected and reported later.
    const lonLat = layer.features.every((f) =>
      coordinatesOf(f.geometry).every(
        ([x, y]) => (degrees(x, 180) && degrees(y, 90)) || (degrees(y, 180) && degrees(x, 90)),
      ),
    );
    const what = options.format === "shp" ? "no .prj beside the shapefile" : 'no "crs" member';
    if (!lonLat) {
      throw new Error(
        `${layer.file}: ${what} and the coordinates are not longitudes/latitudes: give --crs (e.g. EPSG:4547)`,
      );
    }
    if (options.format === "shp")
      issue(layer.file, null, null, `${what}: coordinates read as WGS84 lon/lat`, "warning");
  }
  return { spec: "EPSG:4326", crs: resolve("EPSG:4326", "EPSG:4326") };
}

function isLine(type: string | undefined | null): boolean {
  return type === "LineString" || type === "MultiLineString";
}

function isPoint(type: string | undefined | null): boolean {
  return type === "Point" || type === "MultiPoint";
}

function position(p: unknown): XYZ | null {
  if (!Array.isArray(p) || p.length < 2) return null;
  const [x, y, z] = p as unknown[];
  if (typeof x !== "number" || typeof y !== "number" || !Number.isFinite(x) || !Number.isFinite(y))
    return null;
  return [x, y, typeof z === "number" && Number.isFinite(z) ? z : null];
}

function coordinatesOf(geometry: SourceFeature["geometry"]): XYZ[] {
  const out: XYZ[] = [];
  const walk = (c: unknown) => {
    const p = position(c);
    if (p) out.push(p);
    else if (Array.isArray(c)) for (const e of c) walk(e);
  };
  walk(geometry?.coordinates);
  return out;
}

function pointOf(geometry: SourceFeature["geometry"]): { x: number; y: number } | { error: string } {
  const coordinates = geometry?.coordinates;
  const list = geometry?.type === "MultiPoint" && Array.isArray(coordinates) ? coordinates : [coordinates];
  if (list.length !== 1) return { error: `MultiPoint of ${list.length} points (a node is one point)` };
  const p = position(list[0]);
  if (!p) return { error: `invalid point coordinates ${JSON.stringify(list[0])?.slice(0, 60)}` };
  return { x: p[0], y: p[1] };
}

/**
 * The paths of a (Multi)LineString: parts that continue one another (end on the next part's start within the
 * tolerance) are joined; repeated vertices are dropped. `shpZ` are the Z values of a PolyLineZ record in order.
 */
function lineParts(
  geometry: SourceFeature["geometry"],
  shpZ: number[] | null,
  tolerance: number,
): { parts: XYZ[][] } | { error: string } {
  const raw: unknown[] =
    geometry?.type === "LineString" ? [geometry.coordinates] : ((geometry?.coordinates as unknown[]) ?? []);
  if (!Array.isArray(raw) || raw.length === 0) return { error: `${geometry?.type} without coordinates` };
  const parts: XYZ[][] = [];
  let k = 0;
  for (const part of raw) {
    if (!Array.isArray(part)) return { error: `${geometry?.type} with invalid coordinates` };
    const path: XYZ[] = [];
    for (const c of part) {
      const p = position(c);
      if (!p) return { error: `invalid line coordinates ${JSON.stringify(c)?.slice(0, 60)}` };
      if (shpZ && k < shpZ.length && Number.isFinite(shpZ[k])) p[2] = shpZ[k];
      k++;
      const last = path[path.length - 1];
      if (!last || last[0] !== p[0] || last[1] !== p[1]) path.push(p);
    }
    const prev = parts[parts.length - 1];
    if (prev && path.length && dist2(prev[prev.length - 1], path[0]) <= tolerance)
      prev.push(...path.slice(1));
    else if (path.length) parts.push(path);
  }
  const usable = parts.filter((p) => p.length >= 2);
  if (usable.length === 0) return { error: "zero-length line: all its vertices coincide" };
  return { parts: usable };
}

function dist(a: { x: number; y: number }, p: XYZ): number {
  return Math.hypot(a.x - p[0], a.y - p[1]);
}

function dist2(a: XYZ, b: XYZ): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function pathLength(pts: { x: number; y: number }[]): number {
  let s = 0;
  for (let i = 1; i < pts.length; i++) s += Math.hypot(pts[i].x - pts[i - 1].x, pts[i].y - pts[i - 1].y);
  return s;
}

/** Same end nodes and the same vertices (either direction, to the tolerance): the same pipe drawn twice. */
function segmentKey(a: string, b: string, interior: XYZ[], tolerance: number): string {
  const forward = a < b;
  const verts = forward ? interior : [...interior].reverse();
  const q = (v: number) => Math.round(v / tolerance);
  return [forward ? a : b, forward ? b : a, ...verts.map(([x, y]) => `${q(x)},${q(y)}`)].join("\u0000");
}

function explicitLineClass(
  rec: LineRecord,
  mapping: CjjMapping,
  option: PipeClass | undefined,
  at: (column: string | null, problem: string, severity?: ImportIssue["severity"]) => void,
): PipeClass | null {
  const text = rec.cell("pipeClass");
  if (text?.trim()) {
    const c = classFromValue(text, mapping.classes);
    if (c) return c;
    at(rec.col("pipeClass"), `unknown pipe class "${text.trim()}"`, "warning");
  }
  return option ?? classFromFileName(basename(rec.file)) ?? null;
}

/**
 * Invert (pipe bottom) at a link end. "top" references subtract the section height (the default tube diameter
 * when the size is unknown, so the drawn tube's top is where the survey says).
 */
function endInvert(e: {
  reference: DepthReference;
  section: Section | null;
  invertElevation: number | null;
  topElevation: number | null;
  elevation: number | null;
  depth: number | null;
  ground: number | null;
  z: number | null;
}): number | null {
  const h = e.section ? sectionHeight(e.section) : DEFAULT_LINK_DIAMETER;
  const byConvention = (v: number) => round(e.reference === "invert" ? v : v - h);
  if (e.invertElevation !== null) return round(e.invertElevation);
  if (e.topElevation !== null) return round(e.topElevation - h);
  if (e.elevation !== null) return byConvention(e.elevation);
  if (e.ground !== null && e.depth !== null) return byConvention(e.ground - e.depth);
  if (e.z !== null) return byConvention(e.z);
  return null;
}

/**
 * Whether a line end of one class may snap to a node of another: networks of different utilities never join,
 * except that combined sewers (PS) take storm (YS) and foul (WS) drains. Unclassified ends join anything.
 */
function joinable(a: PipeClass | null, b: PipeClass | null): boolean {
  if (!a || !b || a === "UNKNOWN" || b === "UNKNOWN" || a === b) return true;
  return GRAVITY_CLASSES.has(a) && GRAVITY_CLASSES.has(b) && (a === "PS" || b === "PS");
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function idFactory(used: Set<string>): (prefix: string) => string {
  const next = new Map<string, number>();
  return (prefix) => {
    let n = next.get(prefix) ?? 1;
    while (used.has(`${prefix}${n}`)) n++;
    next.set(prefix, n + 1);
    const id = `${prefix}${n}`;
    used.add(id);
    return id;
  };
}

/** An attribute as text for field parsing: numbers as written, empty strings as null. */
function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v.trim() === "" ? null : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** Every property verbatim; nested values (GeoJSON allows them) as JSON text. */
function attributesOf(properties: Record<string, unknown>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(properties)) {
    out[k] =
      v === null || v === undefined
        ? null
        : typeof v === "string" || typeof v === "number" || typeof v === "boolean"
          ? v
          : JSON.stringify(v);
  }
  return out;
}
