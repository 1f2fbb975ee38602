import type { PipeClass, PipeNetwork } from "../../../models/pipes.ts";
import {
  FEET,
  INCHES,
  type InpDocument,
  InpNetworkBuilder,
  type InpReadOptions,
  type InpRow,
  MILLIMETRES,
  RowReader,
  readInpDocument,
  tokenizeInp,
  toMetres,
} from "../inp-sections.ts";

/**
 * EPANET 2.2 input files (.inp) -> PipeNetwork, after the EPANET 2.2 "Input File Format" reference:
 *
 * - [JUNCTIONS] id elev (demand pattern) -> node "junction"; the elevation (EPANET's pressure reference) is stored
 *   as invertElevation, groundElevation stays null.
 * - [RESERVOIRS] id head (pattern) -> node "reservoir"; the head is a water level, not a structure elevation, so
 *   invertElevation is null (Head is in the attributes).
 * - [TANKS] id elev initlvl minlvl maxlvl diam minvol (volcurve overflow) -> node "tank", invertElevation = the tank
 *   bottom elevation. A [TANKS] row of at most 3 tokens is a reservoir (as EPANET reads it).
 * - [PIPES] id node1 node2 length diam rough (mloss status) -> link "pipe", circular section.
 * - [PUMPS] id node1 node2 (HEAD curve | POWER kw | SPEED s | PATTERN p)... -> link "pump", no section.
 * - [VALVES] id node1 node2 diam type setting (mloss) -> link "valve" with Type in the attributes (a valve is a
 *   link in EPANET; it stays one here so flow direction and both end nodes are kept).
 * - [COORDINATES], [VERTICES], [TAGS]; everything else (patterns, curves, controls, quality...) is ignored.
 *
 * Units follow [OPTIONS] Units (default GPM): CFS/GPM/MGD/IMGD/AFD are US customary (lengths and elevations in
 * feet, diameters in inches), LPS/LPM/MLD/CMH/CMD/CMS are SI (metres, millimetres). Typed fields are converted to
 * metres; attributes keep the source values verbatim, in source units. Coordinates are local map units: crs null.
 * Links carry no inverts (EPANET does not give pipe depths): fromInvert / toInvert are null.
 */
export interface EpanetReadOptions extends InpReadOptions {
  /** CJJ 61 class of every node and link; default "JS" (给水, water supply). */
  pipeClass?: PipeClass;
}

const US_FLOW_UNITS = new Set(["CFS", "GPM", "MGD", "IMGD", "AFD"]);
const SI_FLOW_UNITS = new Set(["LPS", "LPM", "MLD", "CMH", "CMD", "CMS"]);
const VALVE_TYPES = new Set(["PRV", "PSV", "PBV", "FCV", "TCV", "GPV", "PCV"]);
const PIPE_STATUS = new Set(["OPEN", "CLOSED", "CV"]);

export async function readEpanetInp(path: string, opts: EpanetReadOptions = {}): Promise<PipeNetwork> {
  return epanetNetwork(await readInpDocument(path, opts.encoding), opts);
}

/** Same as readEpanetInp for text already in memory; `file` names it in issues. */
export function parseEpanetInp(text: string, file: string, opts: EpanetReadOptions = {}): PipeNetwork {
  return epanetNetwork(tokenizeInp(text, file), opts);
}

function epanetNetwork(doc: InpDocument, opts: EpanetReadOptions): PipeNetwork {
  const pipeClass = opts.pipeClass ?? "JS";
  const b = new InpNetworkBuilder(doc.file, "epanet", false, ["Node1", "Node2"]);
  const rows = (name: string): InpRow[] => doc.sections.get(name) ?? [];
  const reader = (section: string, row: InpRow) => new RowReader(b.log, section, row);

  // Units first: [OPTIONS] may come anywhere in the file.
  let us = true;
  for (const row of rows("OPTIONS")) {
    if (row.tokens[0].toUpperCase() !== "UNITS") continue;
    const units = (row.tokens[1] ?? "").toUpperCase();
    if (SI_FLOW_UNITS.has(units)) us = false;
    else if (US_FLOW_UNITS.has(units)) us = true;
    else
      b.log.warning(
        row.line,
        "Units",
        `[OPTIONS] unknown flow units "${row.tokens[1] ?? ""}"; US units assumed`,
      );
  }
  const length = (v: number | null) => toMetres(v, us ? FEET : 1);
  const diameter = (v: number | null) => toMetres(v, us ? INCHES : MILLIMETRES);

  for (const row of rows("JUNCTIONS")) {
    const r = reader("JUNCTIONS", row);
    const id = r.text(0, "ID", true);
    const elevation = r.number(1, "Elevation", { required: true });
    r.number(2, "Demand");
    r.text(3, "Pattern");
    r.comment();
    if (id === null) continue;
    b.addNode(r, {
      id,
      kind: "junction",
      pipeClass,
      groundElevation: null,
      invertElevation: length(elevation),
      attributes: r.attributes,
    });
  }

  const reservoir = (r: RowReader, id: string) => {
    r.number(1, "Head", { required: true });
    r.text(2, "Pattern");
    r.comment();
    b.addNode(r, {
      id,
      kind: "reservoir",
      pipeClass,
      groundElevation: null,
      invertElevation: null,
      attributes: r.attributes,
    });
  };
  for (const row of rows("RESERVOIRS")) {
    const r = reader("RESERVOIRS", row);
    const id = r.text(0, "ID", true);
    if (id !== null) reservoir(r, id);
  }

  for (const row of rows("TANKS")) {
    const r = reader("TANKS", row);
    const id = r.text(0, "ID", true);
    if (id === null) continue;
    if (row.tokens.length <= 3) {
      reservoir(r, id);
      continue;
    }
    const elevation = r.number(1, "Elevation", { required: true });
    r.number(2, "InitLevel", { required: true, nonNegative: true });
    r.number(3, "MinLevel", { required: true, nonNegative: true });
    r.number(4, "MaxLevel", { required: true, nonNegative: true });
    r.number(5, "Diameter", { required: true, nonNegative: true });
    r.number(6, "MinVol", { nonNegative: true });
    r.text(7, "VolCurve");
    r.text(8, "Overflow");
    r.comment();
    b.addNode(r, {
      id,
      kind: "tank",
      pipeClass,
      groundElevation: null,
      invertElevation: length(elevation),
      attributes: r.attributes,
    });
  }

  // Links: id and both end nodes are required; without them the row is skipped.
  const endpoints = (r: RowReader) => {
    const id = r.text(0, "ID", true);
    const from = r.text(1, "Node1", true);
    const to = r.text(2, "Node2", true);
    if (id !== null && (from === null || to === null)) b.rejectLink(id);
    return id === null || from === null || to === null ? null : { id, from, to };
  };

  for (const row of rows("PIPES")) {
    const r = reader("PIPES", row);
    const ends = endpoints(r);
    const len = r.number(3, "Length", { required: true, positive: true });
    const diam = r.number(4, "Diameter", { required: true, positive: true });
    r.number(5, "Roughness", { required: true, positive: true });
    // EPANET accepts "id n1 n2 len diam rough status" (7 tokens, status in place of the minor loss).
    if (row.tokens.length === 7 && PIPE_STATUS.has(row.tokens[6].toUpperCase())) {
      r.text(6, "Status");
    } else {
      r.number(6, "MinorLoss", { nonNegative: true });
      const status = r.text(7, "Status");
      if (status !== null && !PIPE_STATUS.has(status.toUpperCase())) {
        r.fail("Status", `Status "${status}" is not OPEN, CLOSED or CV`);
      }
    }
    r.comment();
    if (!ends) continue;
    const d = diameter(diam);
    b.addLink(r, {
      ...ends,
      kind: "pipe",
      pipeClass,
      section: d === null ? null : { shape: "circular", diameter: d },
      fromInvert: null,
      toInvert: null,
      length: length(len),
      material: null,
      attributes: r.attributes,
    });
  }

  const PUMP_KEYWORDS: Record<string, { column: string; numeric: boolean }> = {
    HEAD: { column: "HeadCurve", numeric: false },
    POWER: { column: "Power", numeric: true },
    SPEED: { column: "Speed", numeric: true },
    PATTERN: { column: "Pattern", numeric: false },
  };
  for (const row of rows("PUMPS")) {
    const r = reader("PUMPS", row);
    const ends = endpoints(r);
    for (let i = 3; i < row.tokens.length; i += 2) {
      const keyword = PUMP_KEYWORDS[row.tokens[i].toUpperCase()];
      if (!keyword) {
        r.fail("Parameters", `unknown pump keyword "${row.tokens[i]}"`);
        break;
      }
      if (keyword.numeric) r.number(i + 1, keyword.column, { required: true, nonNegative: true });
      else r.text(i + 1, keyword.column, true);
    }
    if (r.attributes["HeadCurve"] === undefined && r.attributes["Power"] === undefined && r.ok) {
      r.fail("Parameters", "pump has neither HEAD curve nor POWER");
    }
    r.comment();
    if (!ends) continue;
    b.addLink(r, {
      ...ends,
      kind: "pump",
      pipeClass,
      section: null,
      fromInvert: null,
      toInvert: null,
      length: null,
      material: null,
      attributes: r.attributes,
    });
  }

  for (const row of rows("VALVES")) {
    const r = reader("VALVES", row);
    const ends = endpoints(r);
    const diam = r.number(3, "Diameter", { required: true, positive: true });
    const type = r.text(4, "Type", true)?.toUpperCase() ?? null;
    if (type !== null && !VALVE_TYPES.has(type)) r.fail("Type", `unknown valve type "${row.tokens[4]}"`);
    // A GPV's setting is the id of its head-loss curve; every other type has a numeric setting.
    if (type === "GPV") r.text(5, "Setting", true);
    else r.number(5, "Setting", { required: true });
    r.number(6, "MinorLoss", { nonNegative: true });
    r.text(7, "Curve"); // EPANET 2.3 PCV: valve characteristic curve
    r.comment();
    if (!ends) continue;
    const d = diameter(diam);
    b.addLink(r, {
      ...ends,
      kind: "valve",
      pipeClass,
      section: d === null ? null : { shape: "circular", diameter: d },
      fromInvert: null,
      toInvert: null,
      length: null,
      material: null,
      attributes: r.attributes,
    });
  }

  b.readCoordinates(doc.sections.get("COORDINATES"));
  b.readVertices(doc.sections.get("VERTICES"));
  b.readTags(doc.sections.get("TAGS"));
  return b.finish(opts.strict);
}
