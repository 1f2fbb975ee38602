import { Cartesian3, Cartographic, Math as CesiumMath, Transforms } from "cesium";
import type { BuildingGeometry } from "./building-geometry.ts";

export interface SkylinePoint {
  /** Azimuth from the viewpoint, degrees clockwise from north. */
  azimuth: number;
  /** Elevation angle of the skyline, degrees (0 where no building rises above the horizon). */
  elevation: number;
  /** The building edge point forming the skyline at this azimuth, or null for open sky. */
  position: { lon: number; lat: number; height: number } | null;
  building: string | null;
}

export interface SkylineResult {
  viewpoint: { lon: number; lat: number; height: number };
  points: SkylinePoint[];
}

/** Spacing of the points sampled along roof edges, metres. */
const EDGE_STEP = 2;

/**
 * Skyline seen from a viewpoint: for each azimuth bin, the highest elevation angle of any building roof edge
 * (roofs are flat: their edges at the building's top form the outline against the sky) or, for BIM elements and
 * reality meshes (no roofs), of any triangle edge. Nothing needs hiding: the skyline is the highest angle per
 * azimuth whatever stands in front. Sampled, so the outline is exact at the sample spacing.
 */
export function skylineFrom(
  buildings: readonly BuildingGeometry[],
  viewpoint: { lon: number; lat: number; height: number },
  binDegrees = 1,
): SkylineResult {
  const origin = Cartesian3.fromDegrees(viewpoint.lon, viewpoint.lat, viewpoint.height);
  const toLocal = Transforms.eastNorthUpToFixedFrame(origin);
  const east = new Cartesian3(toLocal[0], toLocal[1], toLocal[2]);
  const north = new Cartesian3(toLocal[4], toLocal[5], toLocal[6]);
  const up = new Cartesian3(toLocal[8], toLocal[9], toLocal[10]);
  const bins = Math.round(360 / binDegrees);
  const points: SkylinePoint[] = Array.from({ length: bins }, (_, i) => ({
    azimuth: i * binDegrees,
    elevation: 0,
    position: null,
    building: null,
  }));
  const p = new Cartesian3();
  const d = new Cartesian3();
  /** Takes a point (ECEF) of a building's outline into its azimuth bin; the position is computed lazily. */
  const consider = (point: Cartesian3, b: BuildingGeometry, position: () => SkylinePoint["position"]) => {
    Cartesian3.subtract(point, origin, d);
    const e = Cartesian3.dot(d, east);
    const nn = Cartesian3.dot(d, north);
    const u = Cartesian3.dot(d, up);
    const horizontal = Math.hypot(e, nn);
    if (horizontal < 1) return;
    const elevation = CesiumMath.toDegrees(Math.atan2(u, horizontal));
    const azimuth = (CesiumMath.toDegrees(Math.atan2(e, nn)) + 360) % 360;
    const bin = points[Math.floor(azimuth / binDegrees) % bins];
    if (elevation > bin.elevation) {
      bin.elevation = Math.round(elevation * 100) / 100;
      bin.position = position();
      bin.building = b.id;
    }
  };
  const a = new Cartesian3();
  const c = new Cartesian3();
  for (const b of buildings) {
    for (const tri of b.roof) {
      for (let k = 0; k < 3; k++) {
        const [lon0, lat0] = tri[k];
        const [lon1, lat1] = tri[(k + 1) % 3];
        Cartesian3.fromDegrees(lon0, lat0, b.topElevation, undefined, a);
        Cartesian3.fromDegrees(lon1, lat1, b.topElevation, undefined, c);
        const n = Math.max(1, Math.ceil(Cartesian3.distance(a, c) / EDGE_STEP));
        for (let s = 0; s <= n; s++) {
          Cartesian3.lerp(a, c, s / n, p);
          consider(p, b, () => ({
            lon: lon0 + ((lon1 - lon0) * s) / n,
            lat: lat0 + ((lat1 - lat0) * s) / n,
            height: b.topElevation,
          }));
        }
      }
    }
    if (b.roof.length > 0) continue;
    const t = b.triangles;
    for (let i = 0; i < t.length; i += 9) {
      for (let k = 0; k < 3; k++) {
        const j = i + ((k + 1) % 3) * 3;
        Cartesian3.fromElements(t[i + k * 3], t[i + k * 3 + 1], t[i + k * 3 + 2], a);
        Cartesian3.fromElements(t[j], t[j + 1], t[j + 2], c);
        const n = Math.max(1, Math.ceil(Cartesian3.distance(a, c) / EDGE_STEP));
        for (let s = 0; s < n; s++) {
          Cartesian3.lerp(a, c, s / n, p);
          consider(p, b, () => {
            const g = Cartographic.fromCartesian(p);
            return {
              lon: CesiumMath.toDegrees(g.longitude),
              lat: CesiumMath.toDegrees(g.latitude),
              height: g.height,
            };
          });
        }
      }
    }
  }
  return { viewpoint, points };
}
