import { booleanIntersects, polygon as turfPolygon } from "@turf/turf";
import type { BuildingGeometry } from "./building-geometry.ts";

export interface HeightLimitRow {
  id: string;
  name: string;
  height: number;
  /** Metres above the limit. */
  excess: number;
  centre: [number, number];
}

export interface HeightLimitResult {
  /** The drawn area, [lon, lat] degrees, not closed. */
  ring: [number, number][];
  limit: number;
  /** Buildings over the limit, highest excess first. */
  rows: HeightLimitRow[];
  /** Buildings in the area at all (over the limit or not). */
  inArea: number;
}

/**
 * The rule: a building counts when its footprint intersects the drawn area (touching or overlapping it, or lying
 * inside it; turf's booleanIntersects) and its top above ground is higher than the limit. Footprints are the
 * buildings' roof faces read from the tiles, so the answer does not depend on which tiles are on screen.
 */
export function heightLimit(
  buildings: readonly BuildingGeometry[],
  ring: [number, number][],
  limit: number,
): HeightLimitResult {
  const area = turfPolygon([[...ring, ring[0]]]);
  const [west, south, east, north] = bounds(ring);
  const rows: HeightLimitRow[] = [];
  let inArea = 0;
  for (const b of buildings) {
    const [bw, bs, be, bn] = bounds(b.roof.flat());
    if (be < west || bw > east || bn < south || bs > north) continue;
    const touches = b.roof.some((tri) => booleanIntersects(turfPolygon([[...tri, tri[0]]]), area));
    if (!touches) continue;
    inArea++;
    if (b.height > limit)
      rows.push({
        id: b.id,
        name: b.name,
        height: b.height,
        excess: Math.round((b.height - limit) * 100) / 100,
        centre: b.centre,
      });
  }
  rows.sort((a, b) => b.excess - a.excess);
  return { ring, limit, rows, inArea };
}

function bounds(points: readonly [number, number][]): [number, number, number, number] {
  let w = Number.POSITIVE_INFINITY;
  let s = Number.POSITIVE_INFINITY;
  let e = Number.NEGATIVE_INFINITY;
  let n = Number.NEGATIVE_INFINITY;
  for (const [x, y] of points) {
    w = Math.min(w, x);
    e = Math.max(e, x);
    s = Math.min(s, y);
    n = Math.max(n, y);
  }
  return [w, s, e, n];
}
