import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import proj4 from "proj4";
import { epsgDefinition } from "../crs/epsg.ts";
import {
  type DemoClass,
  type DemoLink,
  DemoNetwork,
  type DemoNode,
  round2,
  writeTables,
} from "./demo-pipes/network.ts";
import { demoLocalToLonLat } from "./demo-pipes.ts";
import { seededRandom } from "./random.ts";

/**
 * A city-scale synthetic pipe network for benchmarks and LOD tests: a square grid of streets 220 m apart carrying
 * the demo's six networks (same cross-section and depth layers as ingest/synthetic/demo-pipes.ts), written as the
 * two CJJ 61 tables through the demo's writer so it goes through the real `cim ingest pipes --format cjj` path.
 * The default size is about 200,000 segments and 10,000 km.
 *
 *   给水 JS  looped grid: DN800 on every 8th street, DN400 on every 4th, DN200 elsewhere; valves 3 m from every
 *            junction on every branch, a hydrant mid-block, one metered service per block, water towers (水塔,
 *            the sources) at the four corners.
 *   燃气 RQ  looped grid, DN300 / DN200 / DN110 PE; valves at the junctions of the main streets.
 *   电力 DL / 通信 TX  duct banks on every street, cable wells at junctions and mid-block.
 *   雨水 YS / 污水 WS  gravity: the city is split into catchments of 8 x 8 blocks; every east-west street has branch
 *            sewers from mid-block (the head) to the next north-south street, every north-south street a lateral
 *            flowing south that grows DN400 → DN1000 (sewer DN300 → DN600), and the south street of each
 *            catchment a trunk flowing to an outfall (出水口 / 排放口) in the catchment's middle column. Inverts fall
 *            at the minimum slope of their size (0.3 % for DN300 down to 0.08 % for trunks), crowns are aligned
 *            where pipes meet (the leaving pipe never higher than an arriving one), heads start 2.6 m deep.
 *
 * Deterministic for a seed. Generation keeps the network in memory (about 200 MB at the default size) and writes
 * each table in one piece; the 特征 of a node comes from a degree index instead of the demo's per-node link scan.
 */

export const CITY_PIPES_CRS = "EPSG:4548";
export const DEFAULT_CITY_SEGMENTS = 200_000;

/** Street pitch (block + street) and street width, metres. */
const PITCH = 220;
const STREET = 24;
const HALF = STREET / 2;
/** Catchment size in blocks. */
const CATCHMENT = 8;
/** Links per street edge (220 m of street): water 6, drainage 4 + 4, gas 4, power 4, telecom 4, services ~0.5. */
const LINKS_PER_EDGE = 26.5;
const OFFSET = { TX: 9.5, JS: 6, WS: 2.5, YS: -2, RQ: -6, DL: -9.5 } as const;
const TOP_DEPTH = { TX: 0.7, DL: 0.7, RQ: 1.0, JS: 1.4 } as const;
/** Depth to the crown at a drainage head: below DN800 water mains (1.4 + 0.8 m) with clearance. */
const DRAIN_HEAD_TOP = 2.6;
const MAX_SEG = 55;

const OWNER = {
  water: "宿迁市水务集团",
  drain: "宿迁市城市排水管理处",
  gas: "宿迁港华燃气",
  power: "国网宿迁供电公司",
  telecom: "中国电信宿迁分公司",
} as const;

export interface CityPipesOptions {
  /** Approximate number of segments (links); the grid is sized to it. Default 200,000. */
  segments?: number;
  seed?: number;
}

export interface CityPipesTables {
  points: string;
  lines: string;
  nodes: number;
  links: number;
  /** Total 2D length of all links, km. */
  lengthKm: number;
  /** Streets per direction. */
  streets: number;
}

type Size = { diameter: string; section: string; h: number };
type Flow = { invert: number; h: number };
type LinkProps = Omit<DemoLink, "cls" | "from" | "to" | "fromDepth" | "toDepth" | "fromInvert" | "toInvert">;

const dn = (mm: number): Size => ({ diameter: `DN${mm}`, section: "", h: mm / 1000 });
const box = (w: number, h: number): Size => ({ diameter: "", section: `${w}x${h}`, h: h / 1000 });

/** Minimum gravity slope for a pipe of this height (GB 50014: smaller pipes steeper). */
function minSlope(h: number): number {
  if (h <= 0.3) return 0.003;
  if (h <= 0.4) return 0.002;
  if (h <= 0.6) return 0.0015;
  if (h <= 1.0) return 0.001;
  return 0.0008;
}

/** DemoNetwork whose 特征 comes from a degree index: the demo's scan over all links is quadratic at city scale. */
class CityNetwork extends DemoNetwork {
  private ends: Map<string, DemoLink[]> | null = null;

  override feature(node: DemoNode): string {
    if (!this.ends) {
      this.ends = new Map();
      for (const l of this.links) {
        for (const id of [l.from, l.to]) {
          const list = this.ends.get(id);
          if (list) list.push(l);
          else this.ends.set(id, [l]);
        }
      }
    }
    const ends = this.ends.get(node.id) ?? [];
    if (ends.length >= 5) return "五通";
    if (ends.length === 4) return "四通";
    if (ends.length === 3) return "三通";
    if (ends.length === 2) {
      const [a, b] = ends.map((l) => this.get(l.from === node.id ? l.to : l.from));
      const cross =
        Math.abs((a.x - node.x) * (b.y - node.y) - (a.y - node.y) * (b.x - node.x)) /
        (Math.hypot(a.x - node.x, a.y - node.y) * Math.hypot(b.x - node.x, b.y - node.y));
      return cross > 0.2 ? "弯头" : "直线点";
    }
    return "直线点";
  }
}

/** Streets per direction for about `segments` links: 2 n (n - 1) street edges of LINKS_PER_EDGE links. */
export function cityStreets(segments: number): number {
  return Math.max(3, Math.round((1 + Math.sqrt(1 + (2 * segments) / LINKS_PER_EDGE)) / 2));
}

export function generateCityPipes(opts: CityPipesOptions = {}): CityPipesTables {
  const n = cityStreets(opts.segments ?? DEFAULT_CITY_SEGMENTS);
  const rand = seededRandom(opts.seed ?? 20261121);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const origin = -((n - 1) * PITCH) / 2;
  const XS = Array.from({ length: n }, (_, i) => origin + i * PITCH);
  const YS = XS;
  const extent = XS[n - 1] + HALF;
  // Gentle terrain, falling 3 m to the south over the city with a low swell, kept near the demo's ground (~0).
  const ground = (x: number, y: number) =>
    1.5 + (1.5 * (y + extent)) / (2 * extent) + 0.4 * Math.sin(x / 900) * Math.cos(y / 1300);
  const net = new CityNetwork(ground);
  const rank = (i: number) => (i % 8 === 0 ? 2 : i % 4 === 0 ? 1 : 0);
  const pointOf = (ew: boolean, fixed: number, along: number): [number, number] =>
    ew ? [along, fixed] : [fixed, along];

  type Stop = { at: number; appurtenance?: string };
  function pieces(stops: Stop[], maxSeg: number): { a: number; b: number }[] {
    const sorted = [...stops].sort((p, q) => p.at - q.at);
    const out: { a: number; b: number }[] = [];
    for (let i = 0; i + 1 < sorted.length; i++) {
      const a = sorted[i].at;
      const b = sorted[i + 1].at;
      if (Math.abs(b - a) < 0.01) continue;
      const k = Math.max(1, Math.ceil(Math.abs(b - a) / maxSeg - 1e-9));
      for (let j = 0; j < k; j++) out.push({ a: a + ((b - a) * j) / k, b: a + ((b - a) * (j + 1)) / k });
    }
    return out;
  }

  function pressureRun(
    cls: "JS" | "RQ" | "DL" | "TX",
    ew: boolean,
    fixed: number,
    stops: Stop[],
    props: LinkProps,
  ): void {
    const depth = TOP_DEPTH[cls];
    for (const s of stops) net.node(cls, ...pointOf(ew, fixed, s.at), s.appurtenance ?? "", depth);
    for (const p of pieces(stops, MAX_SEG)) {
      const from = net.node(cls, ...pointOf(ew, fixed, p.a), "", depth);
      const to = net.node(cls, ...pointOf(ew, fixed, p.b), "", depth);
      net.link({
        cls,
        from: from.id,
        to: to.id,
        fromDepth: depth,
        toDepth: depth,
        fromInvert: null,
        toInvert: null,
        ...props,
      });
    }
  }

  // --- pressure networks and ducts: one run per street and class -------------------------------------------------
  const waterProps = (diameter: string): LinkProps => ({
    diameter,
    section: "",
    material: "球墨铸铁",
    pressure: "0.3MPa",
    cables: "",
    burial: "直埋",
    owner: OWNER.water,
    year: int(1995, 2023),
  });
  for (const ew of [true, false]) {
    for (let i = 0; i < n; i++) {
      const centre = (ew ? YS : XS)[i];
      const cross = ew ? XS : YS;
      const r = rank(i);
      // 给水
      const js: Stop[] = [];
      const first = cross[0] + OFFSET.JS;
      const last = cross[n - 1] + OFFSET.JS;
      for (let j = 0; j < n; j++) {
        const at = cross[j] + OFFSET.JS;
        js.push({ at });
        if (at > first) js.push({ at: at - 3, appurtenance: "阀门井" });
        if (at < last) {
          js.push({ at: at + 3, appurtenance: "阀门井" });
          js.push({ at: at + PITCH / 2, appurtenance: r === 0 ? "消防栓" : "" });
          // The tee of the block's metered service (south side of the east-west streets).
          if (ew && i > 0) js.push({ at: at + PITCH / 4 });
        }
      }
      pressureRun("JS", ew, centre + OFFSET.JS, js, waterProps(["DN200", "DN400", "DN800"][r]));
      // 燃气
      const rq: Stop[] = cross.map((c) => ({ at: c + OFFSET.RQ, appurtenance: r > 0 ? "阀门" : "" }));
      pressureRun("RQ", ew, centre + OFFSET.RQ, rq, {
        diameter: ["DN110", "DN200", "DN300"][r],
        section: "",
        material: r === 2 ? "钢" : "PE",
        pressure: r === 2 ? "0.4MPa" : "0.2MPa",
        cables: "",
        burial: "直埋",
        owner: OWNER.gas,
        year: int(2000, 2023),
      });
      // 电力, 通信: wells at the junctions and mid-block.
      for (const cls of ["DL", "TX"] as const) {
        const off = OFFSET[cls];
        const well = cls === "DL" ? "电力井" : "人孔";
        const stops: Stop[] = [];
        for (let j = 0; j < n; j++) {
          stops.push({ at: cross[j] + off, appurtenance: well });
          if (j < n - 1) stops.push({ at: cross[j] + off + PITCH / 2, appurtenance: well });
        }
        pressureRun(cls, ew, centre + off, stops, {
          diameter: "",
          section:
            cls === "DL" ? ["600x400", "800x500", "1200x800"][r] : ["300x200", "400x300", "600x400"][r],
          material: cls === "DL" ? "MPP" : "PVC",
          pressure: "",
          cables: String(cls === "DL" ? int(3, 6) * (r + 1) : int(6, 12) * (r + 1)),
          burial: "排管",
          owner: cls === "DL" ? OWNER.power : OWNER.telecom,
          year: int(2005, 2024),
        });
      }
    }
  }
  // Metered services: from the tee on the east-west main to a meter inside the block north of it.
  for (let r = 1; r < n; r++) {
    for (let c = 0; c + 1 < n; c++) {
      const x = XS[c] + OFFSET.JS + PITCH / 4;
      const tee = net.node("JS", x, YS[r] + OFFSET.JS);
      const meter = net.node("JS", x, YS[r] + HALF + 2, "水表", TOP_DEPTH.JS);
      net.link({
        cls: "JS",
        from: tee.id,
        to: meter.id,
        fromDepth: TOP_DEPTH.JS,
        toDepth: TOP_DEPTH.JS,
        fromInvert: null,
        toInvert: null,
        ...waterProps("DN100"),
      });
    }
  }
  // Water towers feeding the grid at the four corners.
  for (const [cx, cy, sx, sy] of [
    [0, 0, -1, -1],
    [n - 1, 0, 1, -1],
    [0, n - 1, -1, 1],
    [n - 1, n - 1, 1, 1],
  ] as const) {
    const corner = net.node("JS", XS[cx] + OFFSET.JS, YS[cy] + OFFSET.JS);
    const tower = net.node("JS", XS[cx] + OFFSET.JS + 30 * sx, YS[cy] + OFFSET.JS + 30 * sy, "水塔", 1.4);
    net.link({
      cls: "JS",
      from: tower.id,
      to: corner.id,
      fromDepth: TOP_DEPTH.JS,
      toDepth: TOP_DEPTH.JS,
      fromInvert: null,
      toInvert: null,
      ...waterProps("DN1000"),
    });
  }

  // --- drainage ------------------------------------------------------------------------------------------------
  const drainProps = (size: Size, year: number): LinkProps => ({
    diameter: size.diameter,
    section: size.section,
    material: size.section ? "钢筋混凝土箱涵" : "钢筋混凝土",
    pressure: "",
    cables: "",
    burial: "直埋",
    owner: OWNER.drain,
    year,
  });
  /** A pipe of height h leaving a manhole: crown aligned with, and invert never above, the arriving pipes. */
  const leaving = (arriving: Flow[], h: number) =>
    Math.min(...arriving.map((f) => Math.min(f.invert, f.invert + f.h - h)));

  /** Gravity pipes from `a` to `b` along a street, starting at invert `start`; returns the flow at `b`. */
  function gravityRun(
    cls: "YS" | "WS",
    ew: boolean,
    fixed: number,
    a: number,
    b: number,
    start: number,
    size: Size,
    year: number,
    endAppurtenance?: string,
  ): Flow {
    const well = cls === "YS" ? "雨水检查井" : "污水检查井";
    const slope = minSlope(size.h);
    let invert = start;
    const ps = pieces(
      [
        { at: a, appurtenance: well },
        { at: b, appurtenance: well },
      ],
      MAX_SEG,
    );
    // pieces() sorts: walk them in flow order.
    if (b < a) ps.reverse();
    for (let k = 0; k < ps.length; k++) {
      const [pa, pb] = b < a ? [ps[k].b, ps[k].a] : [ps[k].a, ps[k].b];
      const from = net.node(cls, ...pointOf(ew, fixed, pa), well);
      const to = net.node(cls, ...pointOf(ew, fixed, pb), well);
      if (k === ps.length - 1 && endAppurtenance) to.appurtenance = endAppurtenance;
      const fromInvert = round2(invert);
      const toInvert = round2(fromInvert - slope * Math.abs(pb - pa));
      net.link({
        cls,
        from: from.id,
        to: to.id,
        fromDepth: round2(from.ground - fromInvert),
        toDepth: round2(to.ground - toInvert),
        fromInvert,
        toInvert,
        ...drainProps(size, year),
      });
      invert = toInvert;
    }
    return { invert, h: size.h };
  }

  const bands: { trunk: number; top: number }[] = [];
  for (let t = 0; t < n; t += CATCHMENT) bands.push({ trunk: t, top: Math.min(t + CATCHMENT, n - 1) });
  const outfalls: { o: number; lo: number; hi: number }[] = [];
  for (let lo = 0; lo < n; lo += CATCHMENT + 1) {
    const hi = Math.min(lo + CATCHMENT, n - 1);
    outfalls.push({ o: Math.floor((lo + hi) / 2), lo, hi });
  }
  const outfallOf = new Int32Array(n);
  for (const f of outfalls) for (let c = f.lo; c <= f.hi; c++) outfallOf[c] = f.o;

  for (const cls of ["YS", "WS"] as const) {
    const off = OFFSET[cls];
    const branch = cls === "YS" ? dn(400) : dn(300);
    const lateralSizes =
      cls === "YS" ? [dn(400), dn(600), dn(800), dn(1000)] : [dn(300), dn(400), dn(500), dn(600)];
    const trunkSize = cls === "YS" ? box(2000, 1500) : dn(1000);
    const headInvert = (x: number, y: number, s: Size) => ground(x, y) - DRAIN_HEAD_TOP - s.h;
    /** Branch sewers arriving at the manhole of column c on row r. */
    const arrivals = new Map<string, Flow[]>();
    const arrive = (c: number, r: number, f: Flow) => {
      const key = `${c}:${r}`;
      const list = arrivals.get(key);
      if (list) list.push(f);
      else arrivals.set(key, [f]);
    };
    /** Two branch runs from the middle of the block edge (c, c + 1) on row r to the manholes at both ends. */
    const branches = (r: number, c: number) => {
      const y = YS[r] + off;
      const mid = (XS[c] + XS[c + 1]) / 2 + off;
      const year = int(1990, 2022);
      const start = headInvert(mid, y, branch);
      arrive(c, r, gravityRun(cls, true, y, mid, XS[c] + off, start, branch, year));
      arrive(c + 1, r, gravityRun(cls, true, y, mid, XS[c + 1] + off, start, branch, year));
    };
    for (const band of bands) {
      // The top row is the next catchment's trunk street, or the city's north edge.
      const topIsTrunk = band.top === band.trunk + CATCHMENT;
      for (let r = band.trunk + 1; r <= band.top; r++) {
        if (r === band.top && topIsTrunk) continue;
        for (let c = 0; c + 1 < n; c++) branches(r, c);
      }
      // Laterals: north to south down every north-south street to the trunk.
      const lateralEnds: Flow[] = [];
      for (let c = 0; c < n; c++) {
        const x = XS[c] + off;
        const year = int(1990, 2020);
        const headY = topIsTrunk ? YS[band.top] - HALF - 8 : YS[band.top] + off;
        let flow: Flow = { invert: headInvert(x, headY, lateralSizes[0]), h: lateralSizes[0].h };
        flow.invert = leaving([flow, ...(arrivals.get(`${c}:${band.top}`) ?? [])], lateralSizes[0].h);
        let y = headY;
        for (let r = band.top - 1; r >= band.trunk; r--) {
          if (YS[r] + off >= y) continue;
          const size = lateralSizes[Math.min(lateralSizes.length - 1, Math.floor((band.top - 1 - r) / 2))];
          const start = leaving([flow], size.h);
          flow = gravityRun(cls, false, x, y, YS[r] + off, start, size, year);
          y = YS[r] + off;
          if (r > band.trunk)
            flow = { invert: leaving([flow, ...(arrivals.get(`${c}:${r}`) ?? [])], flow.h), h: flow.h };
        }
        lateralEnds.push(flow);
      }
      // Trunks along the band's south street, from both ends of each catchment to its outfall column.
      const ty = YS[band.trunk] + off;
      for (const f of outfalls) {
        const year = int(1985, 2015);
        const reaching: Flow[] = [lateralEnds[f.o]];
        for (const [from, step] of [
          [f.lo, 1],
          [f.hi, -1],
        ] as const) {
          let flow: Flow | null = null;
          for (let c = from; c !== f.o; c += step) {
            const here = flow ? [flow, lateralEnds[c]] : [lateralEnds[c]];
            flow = gravityRun(
              cls,
              true,
              ty,
              XS[c] + off,
              XS[c + step] + off,
              leaving(here, trunkSize.h),
              trunkSize,
              year,
            );
          }
          if (flow) reaching.push(flow);
        }
        // Between two catchments the trunk street has plain branches (the watershed).
        if (f.hi + 1 < n && outfallOf[f.hi + 1] !== f.o) {
          const y = ty;
          const mid = (XS[f.hi] + XS[f.hi + 1]) / 2 + off;
          const start = headInvert(mid, y, branch);
          gravityRun(cls, true, y, mid, XS[f.hi] + off, start, branch, year);
          gravityRun(cls, true, y, mid, XS[f.hi + 1] + off, start, branch, year);
        }
        const x = XS[f.o] + off;
        gravityRun(
          cls,
          false,
          x,
          ty,
          YS[band.trunk] - HALF + 1,
          leaving(reaching, trunkSize.h),
          trunkSize,
          year,
          cls === "YS" ? "出水口" : "排放口",
        );
      }
    }
  }

  let lengthM = 0;
  for (const l of net.links) {
    const a = net.get(l.from);
    const b = net.get(l.to);
    lengthM += Math.hypot(b.x - a.x, b.y - a.y);
  }
  const tables = writeTables(net, projectTo4548);
  return {
    ...tables,
    nodes: net.nodes.length,
    links: net.links.length,
    lengthKm: lengthM / 1000,
    streets: n,
  };
}

/** Writes `<dir>/city-pipes-points.csv` and `<dir>/city-pipes-lines.csv`; returns their paths and counts. */
export async function writeCityPipes(
  dir: string,
  opts: CityPipesOptions = {},
): Promise<{ points: string; lines: string; nodes: number; links: number; lengthKm: number }> {
  const t = generateCityPipes(opts);
  const points = join(dir, "city-pipes-points.csv");
  const lines = join(dir, "city-pipes-lines.csv");
  await writeFile(points, t.points);
  await writeFile(lines, t.lines);
  return { points, lines, nodes: t.nodes, links: t.links, lengthKm: t.lengthKm };
}

let projection: proj4.Converter | null = null;

/** Local metres → CGCS2000 / 3-degree Gauss-Kruger CM 117E (X northing, Y easting), as the demo. */
function projectTo4548(x: number, y: number): { X: number; Y: number } {
  projection ??= proj4("EPSG:4326", epsgDefinition(4548)!);
  const [E, N] = projection.forward(demoLocalToLonLat(x, y));
  return { X: N, Y: E };
}

export type { DemoClass };
