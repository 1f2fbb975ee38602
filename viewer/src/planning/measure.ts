import { polygon, area as turfArea } from "@turf/turf";
import { Cartesian3, Cartographic, EllipsoidGeodesic } from "cesium";
import type { GroundPoint } from "../pipes/draw-tool.ts";

export type MeasureKind = "distance" | "area" | "height" | "angle";

export interface Measurement {
  kind: MeasureKind;
  points: GroundPoint[];
  /** distance: metres along the straight 3D segments; area: m² in plan; height: metres; angle: degrees. */
  value: number;
  /** distance: metres along the ground (geodesic, plan); height: plan distance between the two points. */
  secondary?: number;
}

/** Length along the ellipsoid surface (Cesium's geodesic on WGS84; turf's great circle is 0.2 % short here). */
function groundLength(points: GroundPoint[]): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const a = Cartographic.fromDegrees(points[i - 1].lon, points[i - 1].lat);
    const b = Cartographic.fromDegrees(points[i].lon, points[i].lat);
    total += new EllipsoidGeodesic(a, b).surfaceDistance;
  }
  return total;
}

const cart = (p: GroundPoint) => Cartesian3.fromDegrees(p.lon, p.lat, p.height);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Measures what the user clicked: 3D lengths from ECEF, ground lengths on the ellipsoid, plan areas from turf. */
export function measure(kind: MeasureKind, points: GroundPoint[]): Measurement {
  switch (kind) {
    case "distance": {
      let space = 0;
      for (let i = 1; i < points.length; i++)
        space += Cartesian3.distance(cart(points[i - 1]), cart(points[i]));
      const ground = groundLength(points);
      return { kind, points, value: round(space), secondary: round(ground) };
    }
    case "area": {
      const ring = points.map((p) => [p.lon, p.lat]);
      return { kind, points, value: round(turfArea(polygon([[...ring, ring[0]]]))) };
    }
    case "height": {
      const [a, b] = points;
      const plan = groundLength([a, b]);
      return { kind, points, value: round(Math.abs(b.height - a.height)), secondary: round(plan) };
    }
    case "angle": {
      const [a, vertex, c] = points.map(cart);
      const u = Cartesian3.subtract(a, vertex, new Cartesian3());
      const v = Cartesian3.subtract(c, vertex, new Cartesian3());
      return { kind, points, value: round((Cartesian3.angleBetween(u, v) * 180) / Math.PI) };
    }
  }
}

/** Points each kind needs before it can be measured. */
export const MIN_POINTS: Record<MeasureKind, number> = { distance: 2, area: 3, height: 2, angle: 3 };
