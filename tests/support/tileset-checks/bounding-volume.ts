/**
 * 3D Tiles bounding volumes in world (ECEF) space: parsing, point containment with a distance, and sample
 * points for volume-in-volume checks. Boxes and spheres are given in the tile's frame (tile transform
 * applies); regions are always geographic (EPSG:4979) and ignore transforms, per the 3D Tiles spec.
 */
import {
  dot,
  ecefToGeodetic,
  geodeticToEcef,
  length,
  type Mat4,
  radiiOfCurvature,
  sub,
  transformPoint,
  transformVector,
  type Vec3,
} from "./geodesy.ts";

export type WorldVolume =
  | { kind: "box"; center: Vec3; halfAxes: [Vec3, Vec3, Vec3] }
  | { kind: "region"; west: number; south: number; east: number; north: number; minH: number; maxH: number }
  | { kind: "sphere"; center: Vec3; radius: number };

function isNumberArray(v: unknown, n: number): v is number[] {
  return Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number" && Number.isFinite(x));
}

/** Parses a boundingVolume object; returns an error string when it is not a valid one. */
export function toWorldVolume(bv: unknown, world: Mat4): WorldVolume | string {
  if (typeof bv !== "object" || bv === null) return "boundingVolume is missing";
  const o = bv as Record<string, unknown>;
  if (o.region !== undefined) {
    if (!isNumberArray(o.region, 6)) return "boundingVolume.region must be 6 finite numbers";
    const [west, south, east, north, minH, maxH] = o.region;
    if (Math.abs(west) > Math.PI || Math.abs(east) > Math.PI) return "region west/east outside [-pi, pi]";
    if (south < -Math.PI / 2 || north > Math.PI / 2 || south > north) return "region south/north invalid";
    if (minH > maxH) return `region minimum height ${minH} > maximum height ${maxH}`;
    return { kind: "region", west, south, east, north, minH, maxH };
  }
  if (o.box !== undefined) {
    if (!isNumberArray(o.box, 12)) return "boundingVolume.box must be 12 finite numbers";
    const b = o.box;
    return {
      kind: "box",
      center: transformPoint(world, b.slice(0, 3)),
      halfAxes: [
        transformVector(world, b.slice(3, 6)),
        transformVector(world, b.slice(6, 9)),
        transformVector(world, b.slice(9, 12)),
      ],
    };
  }
  if (o.sphere !== undefined) {
    if (!isNumberArray(o.sphere, 4) || o.sphere[3] < 0)
      return "boundingVolume.sphere must be [x, y, z, r>=0]";
    const scale = Math.max(
      length(transformVector(world, [1, 0, 0])),
      length(transformVector(world, [0, 1, 0])),
      length(transformVector(world, [0, 0, 1])),
    );
    return { kind: "sphere", center: transformPoint(world, o.sphere), radius: o.sphere[3] * scale };
  }
  return "boundingVolume has none of region, box, sphere";
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function scale(a: Vec3, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

/**
 * Orthonormal frame and half-lengths of a box. Flat boxes (a zero half-axis, e.g. a ground plane) are
 * legal, so missing directions are completed with cross products instead of inverting the axes matrix.
 */
function boxFrame(halfAxes: [Vec3, Vec3, Vec3]): { dirs: Vec3[]; half: number[] } {
  const dirs: Vec3[] = [];
  const half: number[] = [];
  for (const a of halfAxes) {
    const l = length(a);
    if (l > 1e-9) {
      dirs.push(scale(a, 1 / l));
      half.push(l);
    }
  }
  const seeds: Vec3[] = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  while (dirs.length < 3) {
    const candidate =
      dirs.length === 2
        ? cross(dirs[0], dirs[1])
        : (seeds
            .map((s) => (dirs.length === 0 ? s : cross(dirs[0], s)))
            .find((c) => length(c) > 1e-6) as Vec3);
    dirs.push(scale(candidate, 1 / length(candidate)));
    half.push(0);
  }
  return { dirs, half };
}

/** True when the half-axes are not mutually orthogonal, in which case containment is approximate. */
export function isSkewedBox(v: WorldVolume): boolean {
  if (v.kind !== "box") return false;
  const [a, b, c] = v.halfAxes;
  const n = (x: Vec3, y: Vec3) => Math.abs(dot(x, y)) / Math.max(length(x) * length(y), 1e-12);
  return n(a, b) > 1e-6 || n(a, c) > 1e-6 || n(b, c) > 1e-6;
}

function angularExcess(value: number, lo: number, hi: number): number {
  if (value < lo) return lo - value;
  if (value > hi) return value - hi;
  return 0;
}

function longitudeExcess(lon: number, west: number, east: number): number {
  if (west <= east) return angularExcess(lon, west, east);
  // Region crosses the antimeridian: inside when east of west or west of east.
  if (lon >= west || lon <= east) return 0;
  return Math.min(west - lon, lon - east);
}

/** Euclidean-ish distance in metres from a world point to the volume; 0 when inside. */
export function distanceOutside(v: WorldVolume, p: Vec3): number {
  if (v.kind === "sphere") return Math.max(0, length(sub(p, v.center)) - v.radius);
  if (v.kind === "box") {
    const { dirs, half } = boxFrame(v.halfAxes);
    const d = sub(p, v.center);
    let sq = 0;
    for (let i = 0; i < 3; i++) sq += Math.max(0, Math.abs(dot(d, dirs[i])) - half[i]) ** 2;
    return Math.sqrt(sq);
  }
  const g = ecefToGeodetic(p);
  const radii = radiiOfCurvature(g.lat);
  const east = longitudeExcess(g.lon, v.west, v.east) * (radii.east + g.height) * Math.cos(g.lat);
  const north = angularExcess(g.lat, v.south, v.north) * (radii.north + g.height);
  const up = angularExcess(g.height, v.minH, v.maxH);
  return Math.hypot(east, north, up);
}

/** Points whose containment stands in for containment of the whole volume (corners, plus a grid for regions). */
export function samplePoints(v: WorldVolume): Vec3[] {
  if (v.kind === "box") {
    const [a, b, c] = v.halfAxes;
    const out: Vec3[] = [];
    for (const i of [-1, 1])
      for (const j of [-1, 1])
        for (const k of [-1, 1])
          out.push([0, 1, 2].map((n) => v.center[n] + i * a[n] + j * b[n] + k * c[n]) as Vec3);
    return out;
  }
  if (v.kind === "sphere") {
    const out: Vec3[] = [];
    for (let n = 0; n < 3; n++)
      for (const s of [-1, 1]) {
        const p: Vec3 = [...v.center];
        p[n] += s * v.radius;
        out.push(p);
      }
    return out;
  }
  const span = v.west <= v.east ? v.east - v.west : v.east + 2 * Math.PI - v.west;
  const steps = 4;
  const out: Vec3[] = [];
  for (let i = 0; i <= steps; i++)
    for (let j = 0; j <= steps; j++)
      for (const h of [v.minH, v.maxH]) {
        const lon = v.west + (span * i) / steps;
        const lat = v.south + ((v.north - v.south) * j) / steps;
        out.push(geodeticToEcef(lon > Math.PI ? lon - 2 * Math.PI : lon, lat, h));
      }
  return out;
}

/** Size of the volume (diagonal, metres), the base of the relative containment tolerance. */
export function diagonal(v: WorldVolume): number {
  if (v.kind === "sphere") return 2 * v.radius;
  if (v.kind === "box") return 2 * Math.hypot(...v.halfAxes.map(length));
  const a = geodeticToEcef(v.west, v.south, v.minH);
  const b = geodeticToEcef(v.east, v.north, v.maxH);
  return length(sub(a, b));
}
