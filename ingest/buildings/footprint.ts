import type { SourceCrs } from "../crs/source-crs.ts";

/** One polygon of a footprint in geodetic degrees, lon/lat interleaved, rings open (no repeated last vertex). */
export interface Footprint {
  outer: Float64Array;
  holes: Float64Array[];
}

export class FeatureError extends Error {
  constructor(
    readonly featureIndex: number,
    message: string,
  ) {
    super(message);
  }
}

export type GeoJsonGeometry = { type: string; coordinates?: unknown; geometries?: GeoJsonGeometry[] } | null;

/**
 * Converts a GeoJSON Polygon / MultiPolygon (or a GeometryCollection of them) in the source CRS to geodetic
 * footprints. Returns an empty list for geometries without area (Points, LineStrings) so the caller can
 * count them as skipped; throws FeatureError for malformed coordinates.
 */
export function footprintsOf(geometry: GeoJsonGeometry, crs: SourceCrs, featureIndex: number): Footprint[] {
  if (!geometry) return [];
  switch (geometry.type) {
    case "Polygon":
      return polygon(geometry.coordinates, crs, featureIndex);
    case "MultiPolygon": {
      if (!Array.isArray(geometry.coordinates))
        throw new FeatureError(featureIndex, "MultiPolygon without coordinates");
      return geometry.coordinates.flatMap((p) => polygon(p, crs, featureIndex));
    }
    case "GeometryCollection":
      return (geometry.geometries ?? []).flatMap((g) => footprintsOf(g, crs, featureIndex));
    default:
      return [];
  }
}

function polygon(coords: unknown, crs: SourceCrs, featureIndex: number): Footprint[] {
  if (!Array.isArray(coords) || coords.length === 0) {
    throw new FeatureError(featureIndex, "Polygon without rings");
  }
  const rings = coords.map((ring, r) => ringOf(ring, crs, featureIndex, r));
  const [outer, ...holes] = rings;
  if (outer.length < 6) return [];
  return [{ outer, holes: holes.filter((h) => h.length >= 6) }];
}

function ringOf(ring: unknown, crs: SourceCrs, featureIndex: number, r: number): Float64Array {
  if (!Array.isArray(ring)) throw new FeatureError(featureIndex, `ring ${r} is not an array of positions`);
  const out: number[] = [];
  for (let i = 0; i < ring.length; i++) {
    const pos = ring[i];
    if (!Array.isArray(pos) || pos.length < 2 || !Number.isFinite(pos[0]) || !Number.isFinite(pos[1])) {
      throw new FeatureError(
        featureIndex,
        `ring ${r} position ${i} is not a pair of numbers: ${JSON.stringify(pos)}`,
      );
    }
    const [lon, lat] = crs.toGeodetic(pos[0], pos[1], 0);
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      throw new FeatureError(
        featureIndex,
        `ring ${r} position ${i} (${pos[0]}, ${pos[1]}) is outside ${crs.id}'s valid area (is --crs right?)`,
      );
    }
    const n = out.length;
    // Drop consecutive duplicates and the closing vertex: they make zero-length walls.
    if (n >= 2 && out[n - 2] === lon && out[n - 1] === lat) continue;
    out.push(lon, lat);
  }
  if (out.length >= 4 && out[0] === out[out.length - 2] && out[1] === out[out.length - 1]) out.length -= 2;
  return Float64Array.from(out);
}
