import type { Cartesian3 } from "cesium";
import type { BuildingGeometry } from "./building-geometry.ts";

/** Hits closer than this (metres) are the surface the ray starts on (a facade point), not an obstacle. */
const SELF_HIT = 0.05;

export interface RayHit {
  distance: number;
  building: BuildingGeometry;
}

/**
 * First building a ray meets within maxDistance (ECEF, direction unit length), or undefined. Written by hand:
 * an exact ray/triangle test (Möller–Trumbore) over the buildings' own triangles answers the same way in any
 * browser, whereas picking through the renderer depends on what is loaded and drawn on screen.
 */
export function firstHit(
  buildings: readonly BuildingGeometry[],
  origin: Cartesian3,
  direction: Cartesian3,
  maxDistance = Number.POSITIVE_INFINITY,
): RayHit | undefined {
  let best: RayHit | undefined;
  for (const b of buildings) {
    const limit = best ? best.distance : maxDistance;
    if (!rayHitsBox(b.box, origin, direction, limit)) continue;
    const d = nearestTriangle(b.triangles, origin, direction, limit);
    if (d !== undefined) best = { distance: d, building: b };
  }
  return best;
}

function rayHitsBox(box: Float64Array, o: Cartesian3, d: Cartesian3, limit: number): boolean {
  let t0 = 0;
  let t1 = limit;
  const os = [o.x, o.y, o.z];
  const ds = [d.x, d.y, d.z];
  for (let k = 0; k < 3; k++) {
    const inv = 1 / ds[k];
    let a = (box[k] - 0.01 - os[k]) * inv;
    let b = (box[3 + k] + 0.01 - os[k]) * inv;
    if (a > b) [a, b] = [b, a];
    t0 = Math.max(t0, a);
    t1 = Math.min(t1, b);
    if (t0 > t1) return false;
  }
  return true;
}

function nearestTriangle(
  tris: Float64Array,
  o: Cartesian3,
  d: Cartesian3,
  limit: number,
): number | undefined {
  let best: number | undefined;
  for (let i = 0; i < tris.length; i += 9) {
    const e1x = tris[i + 3] - tris[i];
    const e1y = tris[i + 4] - tris[i + 1];
    const e1z = tris[i + 5] - tris[i + 2];
    const e2x = tris[i + 6] - tris[i];
    const e2y = tris[i + 7] - tris[i + 1];
    const e2z = tris[i + 8] - tris[i + 2];
    const px = d.y * e2z - d.z * e2y;
    const py = d.z * e2x - d.x * e2z;
    const pz = d.x * e2y - d.y * e2x;
    const det = e1x * px + e1y * py + e1z * pz;
    if (Math.abs(det) < 1e-12) continue;
    const inv = 1 / det;
    const tx = o.x - tris[i];
    const ty = o.y - tris[i + 1];
    const tz = o.z - tris[i + 2];
    const u = (tx * px + ty * py + tz * pz) * inv;
    if (u < 0 || u > 1) continue;
    const qx = ty * e1z - tz * e1y;
    const qy = tz * e1x - tx * e1z;
    const qz = tx * e1y - ty * e1x;
    const v = (d.x * qx + d.y * qy + d.z * qz) * inv;
    if (v < 0 || u + v > 1) continue;
    const t = (e2x * qx + e2y * qy + e2z * qz) * inv;
    if (t > SELF_HIT && t < limit && (best === undefined || t < best)) best = t;
  }
  return best;
}
