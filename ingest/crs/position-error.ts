import type { GeoJsonGeometry } from "../buildings/footprint.ts";
import { ecefToEnu, geodeticToEcef, type Mat4, transformPoint } from "./geodesy.ts";
import type { SourceCrs } from "./source-crs.ts";

const MAX_SAMPLES = 5000;

/**
 * Accuracy check of the whole position pipeline: for a sample of source vertices, the ECEF position a reader
 * reconstructs from what we store (float32 local coordinates + the tile's float64 transform) is compared with
 * proj4's own direct conversion of the source coordinates. The maximum distance goes into the ingest summary.
 */
export class PositionErrorProbe {
  private readonly pending = new Map<number, [number, number, number]>();
  private offered = 0;
  maxError = 0;
  samples = 0;

  constructor(private readonly crs: SourceCrs) {}

  /** Considers the first vertex of a feature for sampling; keyed by the feature's id in the ingest. */
  offer(id: number, geometry: GeoJsonGeometry, height: number): void {
    this.offered++;
    if (this.pending.size + this.samples >= MAX_SAMPLES) return;
    if (this.offered > 1000 && this.offered % 97 !== 0) return;
    const p = firstPosition(geometry);
    if (p) this.pending.set(id, [p[0], p[1], height]);
  }

  /** Called when feature `id` is written in a tile whose local frame is `frame`. */
  measure(id: number, frame: Mat4): void {
    const src = this.pending.get(id);
    if (!src) return;
    this.pending.delete(id);
    const [lon, lat, h] = this.crs.toGeodetic(src[0], src[1], src[2]);
    const ecef = geodeticToEcef(lon, lat, h);
    const local = ecefToEnu(frame, ecef[0], ecef[1], ecef[2]);
    const stored = transformPoint(frame, Math.fround(local[0]), Math.fround(local[1]), Math.fround(local[2]));
    const ref = this.crs.toEcefReference(src[0], src[1], src[2]);
    const err = Math.hypot(stored[0] - ref[0], stored[1] - ref[1], stored[2] - ref[2]);
    if (err > this.maxError) this.maxError = err;
    this.samples++;
  }
}

function firstPosition(g: GeoJsonGeometry): number[] | undefined {
  if (!g) return undefined;
  if (g.type === "GeometryCollection") {
    for (const c of g.geometries ?? []) {
      const p = firstPosition(c);
      if (p) return p;
    }
    return undefined;
  }
  let c: unknown = g.coordinates;
  while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
  return Array.isArray(c) && typeof c[0] === "number" ? (c as number[]) : undefined;
}
