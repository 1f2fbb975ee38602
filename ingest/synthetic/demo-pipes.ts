import proj4 from "proj4";
import { epsgDefinition } from "../crs/epsg.ts";
import { DEMO_CENTRE } from "./demo-city.ts";
import { type DemoClass, type DemoLink, DemoNetwork, round2, writeTables } from "./demo-pipes/network.ts";
import { between, seededRandom } from "./random.ts";

/**
 * Underground pipe networks of the built-in demo district, written as the two CJJ 61-2017 survey tables
 * (管线点成果表 / 管线段成果表, CSV UTF-8 with BOM) that `cim ingest pipes --format cjj --crs EPSG:4548` reads.
 *
 * Cross-section of every street (offsets from the centreline; EW streets: + is north, NS streets: + is east):
 *   TX +9.5 (sidewalk) · JS +6.0 · WS +2.5 · YS −2.0 · RQ −6.0 · DL −9.5 (sidewalk)
 * Vertical layers (depth to top): TX 0.70–1.00, DL 0.70–1.20, RQ 1.00–1.20, JS 1.40–1.90, drainage below 2.35, so
 * every crossing keeps its clearance (≥ 0.15 m; water over drainage ≥ 0.40 m) and every cover is ≥ 0.7 m.
 * Networks are laid out so that the classes at the same level never cross: cable ducts and gas run along the
 * east-west streets (DL fed from a west collector, TX from an east collector, gas mains from regulators at the
 * west end); only water (a looped grid) and drainage (north-south laterals to a south interceptor) use every
 * street. Where a storm lateral crosses the sewer interceptor the sewer passes underneath.
 *
 * Ground: the demo's buildings stand on the ellipsoid (height 0), so 地面高程 is kept near 0 (0.05–0.50 m, falling
 * gently to the south edge where the outfalls are) rather than Suqian's ~20 m above sea level; the pipes then
 * lie under the demo's ground.
 */

export const DEMO_PIPES_CRS = "EPSG:4548";
export const DEMO_PIPES_NAME = "宿迁示范区地下管线";

// The demo street grid (see demo-city.ts): COLS x ROWS blocks of BLOCK_W x BLOCK_H between 24 m streets.
const BLOCK_W = 160;
const BLOCK_H = 130;
const STREET = 24;
const COLS = 8;
const ROWS = 6;
const ORIGIN_X = -((COLS * (BLOCK_W + STREET)) / 2);
const ORIGIN_Y = -((ROWS * (BLOCK_H + STREET)) / 2);
/** Street centrelines: x of the north-south streets, y of the east-west streets (metres from the centre). */
const XS = Array.from({ length: COLS + 1 }, (_, c) => ORIGIN_X + c * (BLOCK_W + STREET));
const YS = Array.from({ length: ROWS + 1 }, (_, r) => ORIGIN_Y + r * (BLOCK_H + STREET));
const HALF = STREET / 2;

/** Offsets from the street centreline per class. */
const OFFSET = { TX: 9.5, JS: 6, WS: 2.5, YS: -2, RQ: -6, DL: -9.5 } as const;
/** Depth to the top of pressure pipes and ducts. */
const TOP_DEPTH = { TX: 0.7, DL: 0.7, RQ: 1.0, JS: 1.4 } as const;
/** Depth to the top of a drainage pipe at the head of a lateral (below water mains DN500 at 1.9 m + 0.40 m). */
const DRAIN_HEAD_TOP = 2.35;
const SLOPE_HEAD = 0.005;
const SLOPE = 0.003;

const OWNER = {
  water: "宿迁市水务集团",
  gas: "宿迁港华燃气",
  power: "国网宿迁供电公司",
  telecom: "中国电信宿迁分公司",
} as const;

/** Blocks (row, col) whose buildings get metered water services on their south edge. */
const METERED_BLOCKS: readonly [number, number][] = [
  [2, 1],
  [2, 2],
  [3, 6],
  [4, 3],
];

export interface DemoPipes {
  points: string;
  lines: string;
}

/** Ground elevation: 0.50 m at the north edge down to 0.05 m at the south edge, a little lower mid-south. */
function groundAt(x: number, y: number): number {
  const south = ORIGIN_Y - HALF;
  const north = YS[ROWS] + HALF;
  return 0.05 + (0.45 * (y - south)) / (north - south) + 0.03 * (Math.abs(x) / (XS[COLS] + HALF));
}

/** Metres east / north of the demo centre to lon / lat (the same mapping as demo-city.ts, unrounded). */
export function demoLocalToLonLat(x: number, y: number): [number, number] {
  const lat = DEMO_CENTRE.lat + y / 110_940;
  const lon = DEMO_CENTRE.lon + x / (111_320 * Math.cos((DEMO_CENTRE.lat * Math.PI) / 180));
  return [lon, lat];
}

type Stop = { at: number; appurtenance?: string };
type LinkProps = Omit<DemoLink, "cls" | "from" | "to" | "fromDepth" | "toDepth" | "fromInvert" | "toInvert">;

export function generateDemoPipes(seed = 20261122): DemoPipes {
  const rand = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const net = new DemoNetwork(groundAt);

  /** A point of a run: along = position along the street, at a fixed cross-street coordinate. */
  const pointOf = (ew: boolean, fixed: number, along: number): [number, number] =>
    ew ? [along, fixed] : [fixed, along];

  /** Stops sorted along the run, gaps split into pieces of at most maxSeg metres. */
  function pieces(
    stops: Stop[],
    maxSeg: number,
    keepOrder = false,
  ): { a: number; b: number; stopB: boolean }[] {
    const sorted = keepOrder ? stops : [...stops].sort((p, q) => p.at - q.at);
    const out: { a: number; b: number; stopB: boolean }[] = [];
    for (let i = 0; i + 1 < sorted.length; i++) {
      const a = sorted[i].at;
      const b = sorted[i + 1].at;
      if (Math.abs(b - a) < 0.01) continue;
      const n = Math.max(1, Math.ceil(Math.abs(b - a) / maxSeg - 1e-9));
      for (let k = 0; k < n; k++) {
        out.push({ a: a + ((b - a) * k) / n, b: a + ((b - a) * (k + 1)) / n, stopB: k === n - 1 });
      }
    }
    return out;
  }

  /** A pressure pipe or duct run at constant depth to the top. */
  function pressureRun(
    cls: Exclude<DemoClass, "YS" | "WS">,
    ew: boolean,
    fixed: number,
    stops: Stop[],
    maxSeg: number,
    props: LinkProps,
    plain = "",
  ): void {
    const depth = TOP_DEPTH[cls];
    for (const s of stops) net.node(cls, ...pointOf(ew, fixed, s.at), s.appurtenance ?? "", depth);
    for (const p of pieces(stops, maxSeg)) {
      const from = net.node(cls, ...pointOf(ew, fixed, p.a), "", depth);
      const to = net.node(cls, ...pointOf(ew, fixed, p.b), p.stopB ? "" : plain, depth);
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

  // --- 给水 JS: looped grid, valves on every branch of every junction, hydrants ~120 m, metered services --------
  const waterDiameter = (ew: boolean, i: number) => {
    if ((ew && i === 3) || (!ew && i === 4)) return "DN500";
    if ((ew && (i === 0 || i === ROWS)) || (!ew && (i === 0 || i === COLS))) return "DN400";
    return "DN300";
  };
  const waterProps = (diameter: string): LinkProps => ({
    diameter,
    section: "",
    material: "球墨铸铁",
    pressure: "0.3MPa",
    cables: "",
    burial: "直埋",
    owner: OWNER.water,
    year: int(2008, 2022),
  });
  const services: { x: number; tee: number; meter: number }[][] = Array.from({ length: ROWS + 1 }, () => []);
  for (const [row, col] of METERED_BLOCKS) {
    for (const dx of [40, 120]) {
      services[row].push({
        x: XS[col] + HALF + dx + Math.round(between(rand, -6, 6)),
        tee: YS[row] + OFFSET.JS,
        meter: YS[row] + HALF + 2,
      });
    }
  }
  for (const ew of [true, false]) {
    const lines = ew ? YS : XS;
    const cross = ew ? XS : YS;
    lines.forEach((centre, i) => {
      const fixed = centre + OFFSET.JS;
      const junctions = cross.map((c) => c + OFFSET.JS);
      const first = junctions[0];
      const last = junctions[junctions.length - 1];
      const stops: Stop[] = [];
      for (const j of junctions) {
        stops.push({ at: j });
        if (j > first) stops.push({ at: j - 3, appurtenance: "阀门井" });
        if (j < last) stops.push({ at: j + 3, appurtenance: "阀门井" });
      }
      if (ew) for (const s of services[i]) stops.push({ at: s.x });
      for (let at = first + 60; at < last - 20; at += 120) {
        let h = at;
        while (stops.some((s) => Math.abs(s.at - h) < 12)) h += 15;
        if (h < last - 12) stops.push({ at: h, appurtenance: "消防栓" });
      }
      pressureRun("JS", ew, fixed, stops, 50, waterProps(waterDiameter(ew, i)));
    });
  }
  for (const row of services) {
    for (const s of row) {
      const tee = net.node("JS", s.x, s.tee);
      const meter = net.node("JS", s.x, s.meter, "水表", TOP_DEPTH.JS);
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

  // --- 燃气 RQ: DN200 PE medium-pressure mains on three east-west streets, fed by regulators at the west end -----
  for (const r of [1, 3, 5]) {
    const stops: Stop[] = [
      { at: XS[0] - 3, appurtenance: "调压箱" },
      { at: XS[COLS] + 3, appurtenance: "阀门" },
    ];
    for (let c = 1; c < COLS; c++) stops.push({ at: XS[c], appurtenance: c % 2 === 0 ? "阀门" : "" });
    pressureRun("RQ", true, YS[r] + OFFSET.RQ, stops, 50, {
      diameter: "DN200",
      section: "",
      material: "PE",
      pressure: "0.4MPa",
      cables: "",
      burial: "直埋",
      owner: OWNER.gas,
      year: int(2010, 2021),
    });
  }

  // --- 电力 DL: 800x500 duct banks on every east-west street, fed by a collector along the west street ---------
  const powerProps = (cables: number): LinkProps => ({
    diameter: "",
    section: "800x500",
    material: "MPP",
    pressure: "",
    cables: String(cables),
    burial: "排管",
    owner: OWNER.power,
    year: int(2012, 2023),
  });
  {
    const x = XS[0] + OFFSET.DL;
    const stops: Stop[] = YS.map((y, r) => ({
      at: y + OFFSET.DL,
      appurtenance: r === 0 ? "开关站" : "电力井",
    }));
    pressureRun("DL", false, x, stops, 50, powerProps(12));
    for (let r = 0; r <= ROWS; r++) {
      const rowStops: Stop[] = [{ at: x }, { at: XS[COLS] - HALF, appurtenance: "电力井" }];
      for (let c = 1; c < COLS; c++) rowStops.push({ at: XS[c], appurtenance: "电力井" });
      pressureRun("DL", true, YS[r] + OFFSET.DL, rowStops, 50, powerProps(int(6, 12)));
    }
  }

  // --- 通信 TX: 400x300 ducts on every east-west street, fed by a collector along the east street -------------
  const telecomProps = (cables: number): LinkProps => ({
    diameter: "",
    section: "400x300",
    material: "PVC",
    pressure: "",
    cables: String(cables),
    burial: "排管",
    owner: OWNER.telecom,
    year: int(2012, 2023),
  });
  {
    const x = XS[COLS] + OFFSET.TX;
    const stops: Stop[] = YS.map((y, r) => ({
      at: y + OFFSET.TX,
      appurtenance: r === ROWS ? "通信基站" : "人孔",
    }));
    pressureRun("TX", false, x, stops, 50, telecomProps(24));
    for (let r = 0; r <= ROWS; r++) {
      const rowStops: Stop[] = [{ at: XS[0], appurtenance: "人孔" }, { at: x }];
      for (let c = 1; c < COLS; c++) rowStops.push({ at: XS[c], appurtenance: "人孔" });
      pressureRun("TX", true, YS[r] + OFFSET.TX, rowStops, 50, telecomProps(int(12, 24)));
    }
  }

  // --- 雨水 YS / 污水 WS: north-south laterals to an interceptor on the south street, flowing to the centre -------
  type Size = { diameter: string; section: string; h: number };
  const dn = (mm: number): Size => ({ diameter: `DN${mm}`, section: "", h: mm / 1000 });
  const CULVERT: Size = { diameter: "", section: "1600x1200", h: 1.2 };
  const drainProps = (size: Size, year: number): LinkProps => ({
    diameter: size.diameter,
    section: size.section,
    material: "钢筋混凝土",
    pressure: "",
    cables: "",
    burial: "直埋",
    owner: OWNER.water,
    year,
  });
  interface Flow {
    invert: number;
    h: number;
  }
  /**
   * A gravity run from `a` to `b` (positions along the street) starting at `start` (invert, size of the pipe
   * arriving or null at a head); returns the invert and size where it ends.
   */
  function gravityRun(
    cls: "YS" | "WS",
    ew: boolean,
    fixed: number,
    a: number,
    b: number,
    startInvert: number,
    size: Size,
    year: number,
    head: boolean,
    endAppurtenance: string,
  ): Flow {
    let invert = startInvert;
    const well = cls === "YS" ? "雨水检查井" : "污水检查井";
    const ps = pieces([{ at: a }, { at: b }], ew ? 50 : 40, true);
    ps.forEach((p, k) => {
      const from = net.node(cls, ...pointOf(ew, fixed, p.a), well);
      const to = net.node(cls, ...pointOf(ew, fixed, p.b), well);
      if (k === ps.length - 1) to.appurtenance = endAppurtenance;
      const slope = head && k === 0 ? SLOPE_HEAD : SLOPE;
      // Centimetre inverts, the fall rounded per segment so that every slope stays within 0.3-0.5 %.
      const fromInvert = round2(invert);
      const toInvert = round2(fromInvert - slope * Math.abs(p.b - p.a));
      const end = toInvert;
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
      invert = end;
    });
    return { invert, h: size.h };
  }
  /** Invert of a pipe of height h leaving a manhole: crowns aligned with, and never above, the arriving pipes. */
  const leaving = (arriving: Flow[], h: number) =>
    Math.min(...arriving.map((f) => Math.min(f.invert, f.invert + f.h - h)));

  function drainage(
    cls: "YS" | "WS",
    lateralSizes: Size[],
    westSize: Size,
    eastSize: Size,
    interceptorCap: number,
  ): Flow[] {
    const off = OFFSET[cls];
    const well = cls === "YS" ? "雨水检查井" : "污水检查井";
    const lateralEnds: Flow[] = [];
    for (let c = 0; c <= COLS; c++) {
      const x = XS[c] + off;
      const year = int(2005, 2020);
      const headNode = net.node(cls, x, YS[ROWS] + off, well);
      let flow: Flow = { invert: headNode.ground - DRAIN_HEAD_TOP - lateralSizes[0].h, h: lateralSizes[0].h };
      for (let r = ROWS; r > 0; r--) {
        const size = lateralSizes[Math.floor((ROWS - r) / 2)];
        const start = r === ROWS ? flow.invert : leaving([flow], size.h);
        flow = gravityRun(cls, false, x, YS[r] + off, YS[r - 1] + off, start, size, year, r === ROWS, well);
      }
      lateralEnds.push(flow);
    }
    const centre = COLS / 2;
    const y = YS[0] + off;
    const arrivals: Flow[] = [lateralEnds[centre]];
    for (const [from, step, size] of [
      [0, 1, westSize],
      [COLS, -1, eastSize],
    ] as const) {
      const year = int(2005, 2015);
      let flow: Flow | null = null;
      for (let c = from; c !== centre; c += step) {
        const arriving = flow ? [flow, lateralEnds[c]] : [lateralEnds[c]];
        const start = Math.min(leaving(arriving, size.h), flow ? Number.POSITIVE_INFINITY : interceptorCap);
        const end = c + step === centre ? (cls === "WS" ? "排放口" : well) : well;
        flow = gravityRun(cls, true, y, XS[c] + off, XS[c + step] + off, start, size, year, false, end);
      }
      if (flow) arrivals.push(flow);
    }
    return arrivals;
  }

  const storm = drainage("YS", [dn(400), dn(600), dn(800)], dn(1000), CULVERT, Number.POSITIVE_INFINITY);
  {
    // The storm outfall (出水口) at the south edge of the south street, below the centre of the district.
    const x = XS[COLS / 2] + OFFSET.YS;
    const start = leaving(storm, CULVERT.h);
    gravityRun(
      "YS",
      false,
      x,
      YS[0] + OFFSET.YS,
      YS[0] - HALF + 1,
      start,
      CULVERT,
      int(2005, 2015),
      false,
      "出水口",
    );
  }
  // The sewer interceptor passes under every storm lateral (which end at about the same invert) with 0.15 m + margin.
  const sewerSize = dn(800);
  const lowestStorm = Math.min(
    ...net.links
      .filter(
        (l) =>
          l.cls === "YS" && net.get(l.to).y === YS[0] + OFFSET.YS && net.get(l.from).y > YS[0] + OFFSET.YS,
      )
      .map((l) => l.toInvert!),
  );
  drainage("WS", [dn(400), dn(500), dn(600)], sewerSize, sewerSize, lowestStorm - 0.25 - sewerSize.h);

  return writeTables(net, projectTo4548);
}

let projection: proj4.Converter | null = null;

/** Local metres → CGCS2000 / 3-degree Gauss-Kruger CM 117E (X northing, Y easting). */
function projectTo4548(x: number, y: number): { X: number; Y: number } {
  projection ??= proj4("EPSG:4326", epsgDefinition(4548)!);
  const [E, N] = projection.forward(demoLocalToLonLat(x, y));
  return { X: N, Y: E };
}
