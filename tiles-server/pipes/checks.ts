import type {
  ClearanceCheckResult,
  ClearanceViolation,
  CoverCheckResult,
} from "../../models/pipe-analysis.ts";
import { PIPE_CLASSES, type PipeClass } from "../../models/pipes.ts";
import type { NetworkLink, PipeGraph } from "./pipe-graph.ts";
import {
  type Clearance,
  DEFAULT_CLEARANCE,
  DEFAULT_CLEARANCE_TABLE,
  DEFAULT_MIN_COVER,
} from "./standards.ts";

const EARTH_RADIUS = 6_378_137;
const DEG = Math.PI / 180;

function halfSizes(link: NetworkLink): { rh: number; rv: number } {
  const s = link.section;
  if (s === null) return { rh: 0, rv: 0 };
  if (s.shape === "circular") return { rh: s.diameter / 2, rv: s.diameter / 2 };
  return { rh: s.width / 2, rv: s.height / 2 };
}

/** Required clearance between two classes, or undefined when the pair is not checked. */
export function requiredClearance(
  a: PipeClass,
  b: PipeClass,
  table: Readonly<Record<string, Clearance>> = DEFAULT_CLEARANCE_TABLE,
): Clearance | undefined {
  if (a === b || a === "UNKNOWN" || b === "UNKNOWN") return undefined;
  const [x, y] = PIPE_CLASSES.indexOf(a) < PIPE_CLASSES.indexOf(b) ? [a, b] : [b, a];
  return table[`${x}-${y}`] ?? DEFAULT_CLEARANCE;
}

/**
 * Closest points of plan segments p0-p1 and q0-q1 (Ericson, Real-Time Collision Detection 5.1.9):
 * returns the parameters s, t in [0, 1] and the squared distance.
 */
function closestSegments(
  p0x: number,
  p0y: number,
  p1x: number,
  p1y: number,
  q0x: number,
  q0y: number,
  q1x: number,
  q1y: number,
): [number, number, number] {
  const d1x = p1x - p0x;
  const d1y = p1y - p0y;
  const d2x = q1x - q0x;
  const d2y = q1y - q0y;
  const rx = p0x - q0x;
  const ry = p0y - q0y;
  const a = d1x * d1x + d1y * d1y;
  const e = d2x * d2x + d2y * d2y;
  const f = d2x * rx + d2y * ry;
  let s: number;
  let t: number;
  const EPS = 1e-12;
  if (a <= EPS && e <= EPS) {
    s = 0;
    t = 0;
  } else if (a <= EPS) {
    s = 0;
    t = Math.min(1, Math.max(0, f / e));
  } else {
    const cc = d1x * rx + d1y * ry;
    if (e <= EPS) {
      t = 0;
      s = Math.min(1, Math.max(0, -cc / a));
    } else {
      const b = d1x * d2x + d1y * d2y;
      const denom = a * e - b * b;
      s = denom > EPS ? Math.min(1, Math.max(0, (b * f - cc * e) / denom)) : 0;
      t = (b * s + f) / e;
      if (t < 0) {
        t = 0;
        s = Math.min(1, Math.max(0, -cc / a));
      } else if (t > 1) {
        t = 1;
        s = Math.min(1, Math.max(0, (b - cc) / a));
      }
    }
  }
  const dx = p0x + d1x * s - (q0x + d2x * t);
  const dy = p0y + d1y * s - (q0y + d2y * t);
  return [s, t, dx * dx + dy * dy];
}

/**
 * Pairs of links of different classes closer than the required clearance. At the plan-closest points
 * of two path segments, clear horizontal = plan distance − both half widths and clear vertical =
 * axis height difference − both half heights; a pair violates when BOTH are below the requirement
 * (a pipe that passes far enough above or beside the other is fine). One violation per link pair (its
 * tightest place). Candidates come from a uniform grid over path segments in local metres.
 */
export function checkClearance(
  graph: PipeGraph,
  table: Readonly<Record<string, Clearance>> = DEFAULT_CLEARANCE_TABLE,
): ClearanceCheckResult {
  const links = graph.links;
  let maxReq = 0;
  for (const k of Object.values(table)) maxReq = Math.max(maxReq, k.horizontal);
  maxReq = Math.max(maxReq, DEFAULT_CLEARANCE.horizontal);
  let maxR = 0;
  let lat0 = 0;
  let lon0 = 0;
  let nPts = 0;
  for (const l of links) {
    maxR = Math.max(maxR, halfSizes(l).rh);
    for (const p of l.path) {
      lon0 += p[0];
      lat0 += p[1];
      nPts++;
    }
  }
  if (nPts === 0) return { violations: [], count: 0 };
  lon0 /= nPts;
  lat0 /= nPts;
  const kx = EARTH_RADIUS * DEG * Math.cos(lat0 * DEG);
  const ky = EARTH_RADIUS * DEG;
  const reach = maxReq + 2 * maxR;
  const cell = Math.max(reach, 5);
  // Segments: link index and the two path vertices, in metres.
  const segLink: number[] = [];
  const seg: number[] = [];
  for (let e = 0; e < links.length; e++) {
    if (links[e].pipeClass === "UNKNOWN") continue;
    const p = links[e].path;
    for (let i = 0; i + 1 < p.length; i++) {
      segLink.push(e);
      seg.push(
        (p[i][0] - lon0) * kx,
        (p[i][1] - lat0) * ky,
        p[i][2],
        (p[i + 1][0] - lon0) * kx,
        (p[i + 1][1] - lat0) * ky,
        p[i + 1][2],
      );
    }
  }
  const grid = new Map<string, number[]>();
  for (let s = 0; s < segLink.length; s++) {
    const o = s * 6;
    const x0 = Math.floor((Math.min(seg[o], seg[o + 3]) - reach) / cell);
    const x1 = Math.floor((Math.max(seg[o], seg[o + 3]) + reach) / cell);
    const y0 = Math.floor((Math.min(seg[o + 1], seg[o + 4]) - reach) / cell);
    const y1 = Math.floor((Math.max(seg[o + 1], seg[o + 4]) + reach) / cell);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > 1_000_000) continue; // absurdly long segment: skip
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const key = `${x},${y}`;
        const list = grid.get(key);
        if (list) list.push(s);
        else grid.set(key, [s]);
      }
    }
  }
  const best = new Map<string, ClearanceViolation & { score: number }>();
  const tested = new Set<number>();
  const nSeg = segLink.length;
  for (const list of grid.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const sa = Math.min(list[i], list[j]);
        const sb = Math.max(list[i], list[j]);
        const ea = segLink[sa];
        const eb = segLink[sb];
        const la = links[ea];
        const lb = links[eb];
        if (la.pipeClass === lb.pipeClass) continue;
        const req = requiredClearance(la.pipeClass, lb.pipeClass, table);
        if (req === undefined) continue;
        if (la.from === lb.from || la.from === lb.to || la.to === lb.from || la.to === lb.to) continue;
        const pairKey = sa * nSeg + sb;
        if (tested.has(pairKey)) continue;
        tested.add(pairKey);
        const a = sa * 6;
        const b = sb * 6;
        const [s, t, d2] = closestSegments(
          seg[a],
          seg[a + 1],
          seg[a + 3],
          seg[a + 4],
          seg[b],
          seg[b + 1],
          seg[b + 3],
          seg[b + 4],
        );
        const ha = halfSizes(la);
        const hb = halfSizes(lb);
        const horizontal = Math.sqrt(d2) - ha.rh - hb.rh;
        if (horizontal >= req.horizontal) continue;
        const za = seg[a + 2] + (seg[a + 5] - seg[a + 2]) * s;
        const zb = seg[b + 2] + (seg[b + 5] - seg[b + 2]) * t;
        const vertical = Math.abs(za - zb) - ha.rv - hb.rv;
        if (vertical >= req.vertical) continue;
        const score = Math.max(horizontal / req.horizontal, vertical / req.vertical);
        const key = ea < eb ? `${ea},${eb}` : `${eb},${ea}`;
        const prior = best.get(key);
        if (prior && prior.score <= score) continue;
        const x = seg[a] + (seg[a + 3] - seg[a]) * s;
        const y = seg[a + 1] + (seg[a + 4] - seg[a + 1]) * s;
        const [first, second] = ea < eb ? [la, lb] : [lb, la];
        best.set(key, {
          a: first.id,
          b: second.id,
          horizontal: round(horizontal),
          vertical: round(vertical),
          required: { ...req },
          position: [lon0 + x / kx, lat0 + y / ky, round((za + zb) / 2)],
          score,
        });
      }
    }
  }
  const violations = [...best.values()]
    .sort((p, q) => p.score - q.score || p.a.localeCompare(q.a) || p.b.localeCompare(q.b))
    .map(({ score: _score, ...v }) => v);
  return { violations, count: violations.length };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Links whose smallest cover depth along the path is below the class minimum. Ground at each path vertex
 * is interpolated by plan distance between the end nodes' ground elevations; the top of pipe is the path
 * (axis) height plus half the section height. Links with an end lacking ground are counted as unchecked.
 */
export function checkCover(
  graph: PipeGraph,
  minCover: Readonly<Partial<Record<PipeClass, number>>> = DEFAULT_MIN_COVER,
): CoverCheckResult {
  const violations: CoverCheckResult["violations"] = [];
  let unchecked = 0;
  for (let e = 0; e < graph.linkCount; e++) {
    const link = graph.links[e];
    const required = minCover[link.pipeClass];
    if (required === undefined) continue;
    const g0 = graph.nodes[graph.linkFrom[e]].groundElevation;
    const g1 = graph.nodes[graph.linkTo[e]].groundElevation;
    const path = link.path;
    if (g0 === null || g1 === null || path.length < 2) {
      unchecked++;
      continue;
    }
    const kx = Math.cos(path[0][1] * DEG);
    const cum = [0];
    for (let i = 1; i < path.length; i++) {
      const dx = (path[i][0] - path[i - 1][0]) * kx;
      const dy = path[i][1] - path[i - 1][1];
      cum.push(cum[i - 1] + Math.hypot(dx, dy));
    }
    const total = cum[cum.length - 1];
    const { rv } = halfSizes(link);
    let worst = Number.POSITIVE_INFINITY;
    let at = 0;
    for (let i = 0; i < path.length; i++) {
      const f = total > 0 ? cum[i] / total : i / (path.length - 1);
      const cover = g0 + (g1 - g0) * f - (path[i][2] + rv);
      if (cover < worst) {
        worst = cover;
        at = i;
      }
    }
    if (worst < required) {
      violations.push({
        link: link.id,
        cover: round(worst),
        required,
        position: [path[at][0], path[at][1], path[at][2]],
      });
    }
  }
  violations.sort((a, b) => a.cover - b.cover || a.link.localeCompare(b.link));
  return { violations, count: violations.length, unchecked };
}
