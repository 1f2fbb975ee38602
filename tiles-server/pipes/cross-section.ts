import {
  PIPE_SECTION_MAX_LENGTH,
  type PipeCrossing,
  type PipeCrossSectionResult,
} from "../../models/pipe-analysis.ts";
import type { NetworkLink, PipeGraph } from "./pipe-graph.ts";

const EARTH_RADIUS = 6_378_137;
const DEG = Math.PI / 180;

/** A cross-section request the network cannot answer as asked (answered 400). */
export class CrossSectionLineError extends Error {}

function halfSizes(link: NetworkLink): { rh: number; rv: number } {
  const s = link.section;
  if (s === null) return { rh: 0, rv: 0 };
  if (s.shape === "circular") return { rh: s.diameter / 2, rv: s.diameter / 2 };
  return { rh: s.width / 2, rv: s.height / 2 };
}

const round = (x: number, digits = 3) => {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
};

/**
 * Cuts the network along a drawn polyline (横断面): every crossing of a link centreline with the line,
 * ordered by distance along it. Positions are projected onto a local plane (equirectangular about the
 * line's first vertex: below a centimetre of error over the few hundred metres a section spans); the
 * axis height is interpolated along the crossed 3D path segment, and ground along the link by plan
 * distance between its end nodes' ground elevations (the same rule as the cover check).
 */
export function crossSection(graph: PipeGraph, line: readonly [number, number][]): PipeCrossSectionResult {
  const [lon0, lat0] = line[0];
  const kx = EARTH_RADIUS * DEG * Math.cos(lat0 * DEG);
  const ky = EARTH_RADIUS * DEG;
  const lx: number[] = [];
  const ly: number[] = [];
  const lcum: number[] = [0];
  for (const [i, [lon, lat]] of line.entries()) {
    lx.push((lon - lon0) * kx);
    ly.push((lat - lat0) * ky);
    if (i > 0) lcum.push(lcum[i - 1] + Math.hypot(lx[i] - lx[i - 1], ly[i] - ly[i - 1]));
  }
  const length = lcum[lcum.length - 1];
  if (length > PIPE_SECTION_MAX_LENGTH) {
    throw new CrossSectionLineError(
      `line: ${Math.round(length)} m long, longer than ${PIPE_SECTION_MAX_LENGTH} m`,
    );
  }
  const minX = Math.min(...lx);
  const maxX = Math.max(...lx);
  const minY = Math.min(...ly);
  const maxY = Math.max(...ly);

  const crossings: (PipeCrossing & { rh: number })[] = [];
  for (let e = 0; e < graph.linkCount; e++) {
    const link = graph.links[e];
    const path = link.path;
    if (path.length < 2) continue;
    // Bounding-box test without allocating: most links of a large network are far from the line.
    let outside = 0b1111;
    for (const p of path) {
      const x = (p[0] - lon0) * kx;
      const y = (p[1] - lat0) * ky;
      if (x >= minX) outside &= ~0b0001;
      if (x <= maxX) outside &= ~0b0010;
      if (y >= minY) outside &= ~0b0100;
      if (y <= maxY) outside &= ~0b1000;
    }
    if (outside !== 0) continue;
    const px = path.map((p) => (p[0] - lon0) * kx);
    const py = path.map((p) => (p[1] - lat0) * ky);
    const pcum = [0];
    for (let i = 1; i < path.length; i++)
      pcum.push(pcum[i - 1] + Math.hypot(px[i] - px[i - 1], py[i] - py[i - 1]));
    const total = pcum[pcum.length - 1];
    const g0 = graph.nodes[graph.linkFrom[e]].groundElevation;
    const g1 = graph.nodes[graph.linkTo[e]].groundElevation;
    const { rh, rv } = halfSizes(link);
    for (let i = 0; i + 1 < path.length; i++) {
      for (let j = 0; j + 1 < line.length; j++) {
        const hit = intersect(px[i], py[i], px[i + 1], py[i + 1], lx[j], ly[j], lx[j + 1], ly[j + 1]);
        if (!hit) continue;
        const [s, t, angle] = hit;
        const distance = lcum[j] + (lcum[j + 1] - lcum[j]) * t;
        // A crossing exactly at a shared path vertex is found on both segments: keep one.
        if (crossings.some((c) => c.link === link.id && Math.abs(c.distance - distance) < 1e-6)) continue;
        const axis = path[i][2] + (path[i + 1][2] - path[i][2]) * s;
        const along = pcum[i] + (pcum[i + 1] - pcum[i]) * s;
        const f = total > 0 ? along / total : 0;
        const ground = g0 !== null && g1 !== null ? g0 + (g1 - g0) * f : null;
        const x = lx[j] + (lx[j + 1] - lx[j]) * t;
        const y = ly[j] + (ly[j + 1] - ly[j]) * t;
        crossings.push({
          link: link.id,
          pipeClass: link.pipeClass,
          kind: link.kind,
          section: link.section,
          material: link.material,
          distance,
          position: [lon0 + x / kx, lat0 + y / ky],
          axis,
          top: axis + rv,
          bottom: axis - rv,
          ground,
          cover: ground === null ? null : ground - (axis + rv),
          angle,
          rh,
        });
      }
    }
  }
  crossings.sort((a, b) => a.distance - b.distance || a.link.localeCompare(b.link));
  const clearances: PipeCrossSectionResult["clearances"] = [];
  for (let i = 0; i + 1 < crossings.length; i++) {
    const a = crossings[i];
    const b = crossings[i + 1];
    clearances.push({ a: a.link, b: b.link, horizontal: round(b.distance - a.distance - a.rh - b.rh) });
  }
  return {
    line: { points: line.map(([lon, lat]) => [lon, lat]), length: round(length) },
    crossings: crossings.map(({ rh: _rh, ...c }) => ({
      ...c,
      distance: round(c.distance),
      position: [round(c.position[0], 9), round(c.position[1], 9)],
      axis: round(c.axis),
      top: round(c.top),
      bottom: round(c.bottom),
      ground: c.ground === null ? null : round(c.ground),
      cover: c.cover === null ? null : round(c.cover),
      angle: round(c.angle, 1),
    })),
    clearances,
    count: crossings.length,
  };
}

/**
 * Proper or touching intersection of plan segments p0-p1 and q0-q1: the parameters s (on p) and t (on
 * q) in [0, 1] and the angle between them in degrees (0–90); undefined when they miss or are parallel
 * (a pipe running along the line has no single crossing point).
 */
function intersect(
  p0x: number,
  p0y: number,
  p1x: number,
  p1y: number,
  q0x: number,
  q0y: number,
  q1x: number,
  q1y: number,
): [number, number, number] | undefined {
  const rx = p1x - p0x;
  const ry = p1y - p0y;
  const sx = q1x - q0x;
  const sy = q1y - q0y;
  const denom = rx * sy - ry * sx;
  const lr = Math.hypot(rx, ry);
  const ls = Math.hypot(sx, sy);
  if (lr === 0 || ls === 0 || Math.abs(denom) < 1e-9 * lr * ls) return undefined;
  const qpx = q0x - p0x;
  const qpy = q0y - p0y;
  const s = (qpx * sy - qpy * sx) / denom;
  const t = (qpx * ry - qpy * rx) / denom;
  const EPS = 1e-9;
  if (s < -EPS || s > 1 + EPS || t < -EPS || t > 1 + EPS) return undefined;
  const sin = Math.min(1, Math.abs(denom) / (lr * ls));
  return [Math.min(1, Math.max(0, s)), Math.min(1, Math.max(0, t)), Math.asin(sin) / DEG];
}
