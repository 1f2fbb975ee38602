import type { NodeKind, PipeClass, PipeLink, PipeNetwork } from "../../../models/pipes.ts";
import {
  FEET,
  type InpDocument,
  InpNetworkBuilder,
  type InpReadOptions,
  type InpRow,
  RowReader,
  readInpDocument,
  roundMetres,
  tokenizeInp,
  toMetres,
} from "../inp-sections.ts";
import { readXsection } from "./xsections.ts";

/**
 * SWMM 5 input files (.inp) -> PipeNetwork, after the SWMM 5 user manual's input file format appendix:
 *
 * - [JUNCTIONS] name elev ymax (y0 ysur apond) -> node "well" (manhole): invertElevation = elev, groundElevation =
 *   elev + ymax when ymax > 0 (rim); [STORAGE] -> "storage" (same elevations); [OUTFALLS] -> "outfall" (invert
 *   only); [DIVIDERS] -> "junction" (same elevations as a manhole).
 * - [CONDUITS] name node1 node2 length n offset1 offset2 (q0 qmax) -> link "conduit" with fromInvert / toInvert =
 *   end node invert + offset under LINK_OFFSETS DEPTH (the default), or the offset itself under LINK_OFFSETS
 *   ELEVATION ("*" = the node invert). Negative depth offsets are raised to 0, as SWMM does (with a warning).
 * - [PUMPS] -> "pump" (no section, no inverts); [ORIFICES], [WEIRS], [OUTLETS] -> "orifice", "weir", "outlet" with
 *   fromInvert = the inlet node invert + their offset / crest height (toInvert null: SWMM gives these regulators
 *   no outlet-side invert).
 * - [XSECTIONS] -> the section of conduits, orifices and weirs (see xsections.ts).
 * - [COORDINATES], [VERTICES], [TAGS]; [POLYGONS], subcatchments, hydrology and everything else is ignored.
 *
 * Names are case-insensitive as in SWMM; links refer to nodes by the nodes' declared spelling. Units follow
 * [OPTIONS] FLOW_UNITS (default CFS): CFS/GPM/MGD are US (feet), CMS/LPS/MLD are SI (metres); typed fields are
 * converted to metres, attributes keep the source values verbatim in source units. Coordinates are local: crs null.
 */
export interface SwmmReadOptions extends InpReadOptions {
  /** CJJ 61 class of every node and link; default "PS" (排水, drainage). Use "YS" / "WS" for storm / sewage. */
  pipeClass?: PipeClass;
}

const US_FLOW_UNITS = new Set(["CFS", "GPM", "MGD"]);
const SI_FLOW_UNITS = new Set(["CMS", "LPS", "MLD"]);

export async function readSwmmInp(path: string, opts: SwmmReadOptions = {}): Promise<PipeNetwork> {
  return swmmNetwork(await readInpDocument(path, opts.encoding), opts);
}

/** Same as readSwmmInp for text already in memory; `file` names it in issues. */
export function parseSwmmInp(text: string, file: string, opts: SwmmReadOptions = {}): PipeNetwork {
  return swmmNetwork(tokenizeInp(text, file), opts);
}

function swmmNetwork(doc: InpDocument, opts: SwmmReadOptions): PipeNetwork {
  const pipeClass = opts.pipeClass ?? "PS";
  const b = new InpNetworkBuilder(doc.file, "swmm", true, ["FromNode", "ToNode"]);
  const rows = (name: string): InpRow[] => doc.sections.get(name) ?? [];
  const reader = (section: string, row: InpRow) => new RowReader(b.log, section, row);

  let us = true;
  let offsetsAreElevations = false;
  for (const row of rows("OPTIONS")) {
    const key = row.tokens[0].toUpperCase();
    const value = (row.tokens[1] ?? "").toUpperCase();
    if (key === "FLOW_UNITS") {
      if (SI_FLOW_UNITS.has(value)) us = false;
      else if (US_FLOW_UNITS.has(value)) us = true;
      else
        b.log.warning(
          row.line,
          "FLOW_UNITS",
          `[OPTIONS] unknown FLOW_UNITS "${row.tokens[1] ?? ""}"; CFS assumed`,
        );
    } else if (key === "LINK_OFFSETS") {
      if (value === "ELEVATION") offsetsAreElevations = true;
      else if (value !== "DEPTH") {
        b.log.warning(
          row.line,
          "LINK_OFFSETS",
          `[OPTIONS] unknown LINK_OFFSETS "${row.tokens[1] ?? ""}"; DEPTH assumed`,
        );
      }
    }
  }
  const unit = us ? FEET : 1;
  const metres = (v: number | null) => toMetres(v, unit);

  const addNode = (
    r: RowReader,
    id: string,
    kind: NodeKind,
    invert: number | null,
    maxDepth: number | null,
  ) => {
    r.comment();
    b.addNode(r, {
      id,
      kind,
      pipeClass,
      groundElevation:
        invert !== null && maxDepth !== null && maxDepth > 0 ? metres(invert + maxDepth) : null,
      invertElevation: metres(invert),
      attributes: r.attributes,
    });
  };

  for (const row of rows("JUNCTIONS")) {
    const r = reader("JUNCTIONS", row);
    const id = r.text(0, "Name", true);
    const invert = r.number(1, "Elevation", { required: true });
    const maxDepth = r.number(2, "MaxDepth", { nonNegative: true });
    r.number(3, "InitDepth", { nonNegative: true });
    r.number(4, "SurDepth", { nonNegative: true });
    r.number(5, "PondedArea", { nonNegative: true });
    if (id !== null) addNode(r, id, "well", invert, maxDepth);
  }

  for (const row of rows("OUTFALLS")) {
    const r = reader("OUTFALLS", row);
    const id = r.text(0, "Name", true);
    const invert = r.number(1, "Elevation", { required: true });
    const type = r.text(2, "Type", true)?.toUpperCase() ?? null;
    let next = 3;
    if (type === "FIXED") r.number(next++, "Stage", { required: true });
    else if (type === "TIDAL") r.text(next++, "TideCurve", true);
    else if (type === "TIMESERIES") r.text(next++, "TimeSeries", true);
    else if (type !== null && type !== "FREE" && type !== "NORMAL")
      r.fail("Type", `unknown outfall type "${type}"`);
    r.text(next++, "Gated");
    r.text(next, "RouteTo");
    if (id !== null) addNode(r, id, "outfall", invert, null);
  }

  for (const row of rows("STORAGE")) {
    const r = reader("STORAGE", row);
    const id = r.text(0, "Name", true);
    const invert = r.number(1, "Elevation", { required: true });
    const maxDepth = r.number(2, "MaxDepth", { required: true, nonNegative: true });
    r.number(3, "InitDepth", { nonNegative: true });
    const shape = r.text(4, "StorageCurve", true)?.toUpperCase() ?? null;
    let next = 5;
    if (shape === "TABULAR") r.text(next++, "Curve", true);
    else if (shape === "FUNCTIONAL") {
      r.number(next++, "Coefficient", { required: true });
      r.number(next++, "Exponent", { required: true });
      r.number(next++, "Constant", { required: true });
    } else if (shape !== null && ["CYLINDRICAL", "CONICAL", "PARABOLIC", "PYRAMIDAL"].includes(shape)) {
      r.number(next++, "MajorAxis", { required: true });
      r.number(next++, "MinorAxis", { required: true });
      r.number(next++, "SideSlope", { required: true });
    } else if (shape !== null) r.fail("StorageCurve", `unknown storage shape "${shape}"`);
    // SWMM 5.1 has the ponded area here; 5.2 a surcharge depth in its place.
    r.number(next++, "SurDepth/PondedArea");
    r.number(next++, "EvapFrac");
    r.rest(next, "Infiltration");
    if (id !== null) addNode(r, id, "storage", invert, maxDepth);
  }

  for (const row of rows("DIVIDERS")) {
    const r = reader("DIVIDERS", row);
    const id = r.text(0, "Name", true);
    const invert = r.number(1, "Elevation", { required: true });
    r.text(2, "DivertedLink", true);
    const type = r.text(3, "Type", true)?.toUpperCase() ?? null;
    let next = 4;
    if (type === "CUTOFF") r.number(next++, "Qmin", { required: true });
    else if (type === "TABULAR") r.text(next++, "Curve", true);
    else if (type === "WEIR") {
      r.number(next++, "Qmin", { required: true });
      r.number(next++, "WeirHeight", { required: true });
      r.number(next++, "WeirCoeff", { required: true });
    } else if (type !== null && type !== "OVERFLOW") r.fail("Type", `unknown divider type "${type}"`);
    const maxDepth = r.number(next++, "MaxDepth", { nonNegative: true });
    r.number(next++, "InitDepth", { nonNegative: true });
    r.number(next++, "SurDepth", { nonNegative: true });
    r.number(next, "PondedArea", { nonNegative: true });
    if (id !== null) addNode(r, id, "junction", invert, maxDepth);
  }

  // --- links ---
  const endpoints = (r: RowReader) => {
    const id = r.text(0, "Name", true);
    const from = r.text(1, "FromNode", true);
    const to = r.text(2, "ToNode", true);
    if (id !== null && (from === null || to === null)) b.rejectLink(id);
    return id === null || from === null || to === null ? null : { id, from, to };
  };

  /** An offset column: a number, or "*" (= the node invert, under LINK_OFFSETS ELEVATION). */
  const offset = (r: RowReader, i: number, column: string): number | "*" | null => {
    if (r.row.tokens[i] === "*") {
      r.attributes[column] = "*";
      return "*";
    }
    return r.number(i, column, { required: true });
  };
  /** Invert elevation (metres) at a link end: node invert + depth offset, or the offset elevation. */
  const invertAt = (r: RowReader, nodeId: string, value: number | "*" | null, column: string) => {
    const nodeInvert = b.node(nodeId)?.invertElevation ?? null; // metres already
    if (value === null || nodeInvert === null) return null;
    if (value === "*") return nodeInvert;
    const depth = roundMetres(offsetsAreElevations ? value * unit - nodeInvert : value * unit);
    if (depth < 0) {
      r.warn(column, `${column} lies ${-depth} m below the invert of node "${nodeId}"; 0 used`);
      return nodeInvert;
    }
    return roundMetres(nodeInvert + depth);
  };

  const add = (r: RowReader, ends: { id: string; from: string; to: string }, link: Partial<PipeLink>) => {
    r.comment();
    return b.addLink(r, {
      ...ends,
      kind: "conduit",
      pipeClass,
      section: null,
      fromInvert: null,
      toInvert: null,
      length: null,
      material: null,
      attributes: r.attributes,
      ...link,
    });
  };

  for (const row of rows("CONDUITS")) {
    const r = reader("CONDUITS", row);
    const ends = endpoints(r);
    const len = r.number(3, "Length", { required: true, positive: true });
    r.number(4, "Roughness", { required: true, positive: true });
    const z1 = offset(r, 5, "InletOffset");
    const z2 = offset(r, 6, "OutletOffset");
    r.number(7, "InitFlow");
    r.number(8, "MaxFlow", { nonNegative: true });
    if (!ends || !add(r, ends, { kind: "conduit", length: metres(len) })) continue;
    const link = b.link(ends.id)!;
    link.fromInvert = invertAt(r, link.from, z1, "InletOffset");
    link.toInvert = invertAt(r, link.to, z2, "OutletOffset");
  }

  for (const row of rows("PUMPS")) {
    const r = reader("PUMPS", row);
    const ends = endpoints(r);
    r.text(3, "PumpCurve", true); // "*" = ideal pump
    r.text(4, "Status");
    r.number(5, "StartupDepth");
    r.number(6, "ShutoffDepth");
    if (ends) add(r, ends, { kind: "pump" });
  }

  for (const row of rows("ORIFICES")) {
    const r = reader("ORIFICES", row);
    const ends = endpoints(r);
    const type = r.text(3, "Type", true)?.toUpperCase() ?? null;
    if (type !== null && type !== "SIDE" && type !== "BOTTOM")
      r.fail("Type", `unknown orifice type "${type}"`);
    const z = offset(r, 4, "Offset");
    r.number(5, "DischargeCoeff", { required: true, nonNegative: true });
    r.text(6, "Gated");
    r.number(7, "CloseTime", { nonNegative: true });
    if (!ends || !add(r, ends, { kind: "orifice" })) continue;
    const link = b.link(ends.id)!;
    link.fromInvert = invertAt(r, link.from, z, "Offset");
  }

  for (const row of rows("WEIRS")) {
    const r = reader("WEIRS", row);
    const ends = endpoints(r);
    const type = r.text(3, "Type", true)?.toUpperCase() ?? null;
    if (type !== null && !["TRANSVERSE", "SIDEFLOW", "V-NOTCH", "TRAPEZOIDAL", "ROADWAY"].includes(type)) {
      r.fail("Type", `unknown weir type "${type}"`);
    }
    const z = offset(r, 4, "CrestHeight");
    r.number(5, "DischargeCoeff", { required: true, nonNegative: true });
    r.text(6, "Gated");
    r.number(7, "EndContractions", { nonNegative: true });
    r.number(8, "EndCoeff", { nonNegative: true });
    r.text(9, "Surcharge");
    r.number(10, "RoadWidth", { nonNegative: true });
    r.text(11, "RoadSurface");
    r.text(12, "CoeffCurve");
    if (!ends || !add(r, ends, { kind: "weir" })) continue;
    const link = b.link(ends.id)!;
    link.fromInvert = invertAt(r, link.from, z, "CrestHeight");
  }

  for (const row of rows("OUTLETS")) {
    const r = reader("OUTLETS", row);
    const ends = endpoints(r);
    const z = offset(r, 3, "Offset");
    const type = r.text(4, "Type", true)?.toUpperCase() ?? null;
    let next = 5;
    if (type?.startsWith("TABULAR")) r.text(next++, "Curve", true);
    else if (type?.startsWith("FUNCTIONAL")) {
      r.number(next++, "Coefficient", { required: true });
      r.number(next++, "Exponent", { required: true });
    } else if (type !== null) r.fail("Type", `unknown outlet type "${type}"`);
    r.text(next, "Gated");
    if (!ends || !add(r, ends, { kind: "outlet" })) continue;
    const link = b.link(ends.id)!;
    link.fromInvert = invertAt(r, link.from, z, "Offset");
  }

  // --- cross-sections of conduits, orifices and weirs ---
  const withSection = new Set<string>();
  for (const row of rows("XSECTIONS")) {
    const r = reader("XSECTIONS", row);
    const id = row.tokens[0];
    const link = b.link(id);
    if (!link) {
      if (!b.isRejectedLink(id)) r.warn("Link", `cross-section for unknown link "${id}" ignored`);
      continue;
    }
    if (withSection.has(link.id)) {
      r.warn("Link", `second cross-section for link "${id}" ignored`);
      continue;
    }
    withSection.add(link.id);
    link.section = readXsection(r, unit);
    Object.assign(link.attributes, r.attributes);
  }
  for (const row of [...rows("CONDUITS"), ...rows("ORIFICES"), ...rows("WEIRS")]) {
    const link = b.link(row.tokens[0]);
    if (link && link.attributes["Shape"] === undefined && !withSection.has(link.id)) {
      withSection.add(link.id);
      b.log.warning(row.line, "Shape", `link "${link.id}" has no [XSECTIONS] row: section left empty`);
    }
  }

  b.readCoordinates(doc.sections.get("COORDINATES"));
  b.readVertices(doc.sections.get("VERTICES"));
  b.readTags(doc.sections.get("TAGS"));
  return b.finish(opts.strict);
}
