import { Cartesian3, Matrix4, Transforms } from "cesium";

/** A polygon of the flatten tool: outline in degrees, flat height in metres above the ellipsoid. */
export interface FlattenPolygonSpec {
  ring: readonly { lon: number; lat: number }[];
  height: number;
  mode: "flatten" | "clip";
}

/** Texels per row of the polygon table (shaders/flatten-polygons.glsl). */
const TABLE_WIDTH = 256;

/**
 * The east-north-up frame the shaders test polygons in: centred on the polygons, so their corners and
 * the camera stay within a few kilometres of its origin and float32 keeps millimetres.
 */
export class FlattenFrame {
  readonly enuToFixed: Matrix4;
  readonly fixedToEnu: Matrix4;

  constructor(lon: number, lat: number) {
    this.enuToFixed = Transforms.eastNorthUpToFixedFrame(Cartesian3.fromDegrees(lon, lat, 0));
    this.fixedToEnu = Matrix4.inverseTransformation(this.enuToFixed, new Matrix4());
  }

  /** The frame centred on the middle of these polygons' bounding box (degrees). */
  static around(polygons: readonly FlattenPolygonSpec[]): FlattenFrame {
    const pts = polygons.flatMap((p) => p.ring);
    const lons = pts.map((p) => p.lon);
    const lats = pts.map((p) => p.lat);
    return new FlattenFrame(
      (Math.min(...lons) + Math.max(...lons)) / 2,
      (Math.min(...lats) + Math.max(...lats)) / 2,
    );
  }

  /** Metres east and north of the origin (on the frame's plane). */
  toLocal(lon: number, lat: number): [number, number] {
    const p = Matrix4.multiplyByPoint(this.fixedToEnu, Cartesian3.fromDegrees(lon, lat, 0), new Cartesian3());
    return [p.x, p.y];
  }
}

/** The polygon table as RGBA float texels (layout in shaders/flatten-polygons.glsl). */
export function packPolygons(
  frame: FlattenFrame,
  polygons: readonly FlattenPolygonSpec[],
): { data: Float32Array; width: number; height: number } {
  const vertexTexels = polygons.reduce((n, p) => n + p.ring.length, 0);
  const texels = Math.max(1, 2 * polygons.length + vertexTexels);
  const width = TABLE_WIDTH;
  const height = Math.ceil(texels / width);
  const data = new Float32Array(width * height * 4);
  let next = 2 * polygons.length;
  polygons.forEach((polygon, i) => {
    const local = polygon.ring.map((p) => frame.toLocal(p.lon, p.lat));
    const xs = local.map((p) => p[0]);
    const ys = local.map((p) => p[1]);
    data.set([next, local.length, polygon.height, polygon.mode === "clip" ? 1 : 0], 8 * i);
    data.set([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], 8 * i + 4);
    for (const [x, y] of local) {
      data.set([x, y, 0, 0], 4 * next);
      next++;
    }
  });
  return { data, width, height };
}
