import { enuToEcefMatrix, geodeticToEcef, type Mat4, transformPoint, type Vec3 } from "../crs/geodesy.ts";
import { type Origin, resolveSourceCrs } from "../crs/source-crs.ts";
import type { ModelInfo } from "./ifc-types.ts";

/** How model coordinates (Z up, metres) reach the Earth. */
export interface Georeference {
  /** Which source decided it, for the summary. */
  method: string;
  /** CRS id written to layer.json. */
  crs: string;
  toEcef(x: number, y: number, z: number, out?: Vec3): Vec3;
  /** Rotation part for normals (model -> ECEF), exact for rigid placements. */
  rotation: Mat4;
}

export interface GeoreferenceFlags {
  origin?: Origin;
  /** Azimuth of the model's +Y axis, degrees clockwise from true north. */
  heading?: number;
  crs?: string;
}

export class GeoreferenceError extends Error {}

/**
 * The order of the issue: IfcMapConversion + IfcProjectedCRS (IFC4) -> IfcSite reference point with true north
 * -> --origin/--heading (or --crs for models drawn in map coordinates) -> fail naming the flags to give.
 */
export function resolveGeoreference(info: ModelInfo, flags: GeoreferenceFlags): Georeference {
  const mc = info.mapConversion;
  if (mc) {
    const crsSpec = epsgFromName(mc.crsName) ?? flags.crs;
    if (!crsSpec) {
      throw new GeoreferenceError(
        `IfcMapConversion names no usable CRS ("${mc.crsName ?? ""}"): give --crs EPSG:xxxx for its target CRS`,
      );
    }
    const crs = resolveSourceCrs(crsSpec);
    const norm = Math.hypot(mc.xAxisAbscissa, mc.xAxisOrdinate) || 1;
    const cos = mc.xAxisAbscissa / norm;
    const sin = mc.xAxisOrdinate / norm;
    const toEcef = (x: number, y: number, z: number, out: Vec3 = [0, 0, 0]): Vec3 => {
      const e = mc.eastings + mc.scale * (cos * x - sin * y);
      const n = mc.northings + mc.scale * (sin * x + cos * y);
      const [lon, lat, h] = crs.toGeodetic(e, n, mc.orthogonalHeight + z);
      return geodeticToEcef(lon, lat, h, out);
    };
    const [lon0, lat0] = crs.toGeodetic(mc.eastings, mc.northings, 0);
    // Grid convergence is ignored for normals: a fraction of a degree, invisible in shading.
    return {
      method: "IfcMapConversion",
      crs: crs.id,
      toEcef,
      rotation: rotationOf(lon0, lat0, azimuthOfY(cos, sin)),
    };
  }
  const site = info.site;
  if (
    site &&
    site.refLatitude !== null &&
    site.refLongitude !== null &&
    !(site.refLatitude === 0 && site.refLongitude === 0)
  ) {
    const heading = info.trueNorth ? headingFromTrueNorth(info.trueNorth) : 0;
    return local(
      "IfcSite reference point",
      { lon: site.refLongitude, lat: site.refLatitude, height: site.refElevation ?? 0 },
      heading,
      site.origin,
    );
  }
  if (flags.origin) return local("--origin", flags.origin, flags.heading ?? 0, [0, 0, 0]);
  if (flags.crs) {
    const crs = resolveSourceCrs(flags.crs);
    const toEcef = (x: number, y: number, z: number, out: Vec3 = [0, 0, 0]): Vec3 => {
      const [lon, lat, h] = crs.toGeodetic(x, y, z);
      return geodeticToEcef(lon, lat, h, out);
    };
    return { method: "--crs", crs: crs.id, toEcef, rotation: rotationOf(0, 0, 0) };
  }
  throw new GeoreferenceError(
    "the model is not georeferenced (no IfcMapConversion, no IfcSite RefLatitude/RefLongitude): give --origin lon,lat[,height] (and --heading deg if its +Y axis is not north), or --crs EPSG:xxxx if it is drawn in map coordinates",
  );
}

function epsgFromName(name: string | null): string | undefined {
  const m = /EPSG:?\s*(\d{4,5})/i.exec(name ?? "");
  return m ? `EPSG:${m[1]}` : undefined;
}

/** IFC's TrueNorth is the direction of north in model XY; our heading is where model +Y points. */
export function headingFromTrueNorth([x, y]: [number, number]): number {
  // North lies atan2(x, y) clockwise of +Y, so +Y lies that much anticlockwise of north.
  return (-Math.atan2(x, y) * 180) / Math.PI;
}

function azimuthOfY(cos: number, sin: number): number {
  // Map conversion rotates model +X to the grid direction (cos, sin) measured from east anticlockwise.
  return (-Math.atan2(sin, cos) * 180) / Math.PI;
}

function local(
  method: string,
  o: Origin,
  headingDeg: number,
  modelOrigin: [number, number, number],
): Georeference {
  const frame = enuToEcefMatrix(o.lon, o.lat, o.height);
  const rot = modelToEnu(headingDeg);
  const m = multiply3(frame, rot);
  const toEcef = (x: number, y: number, z: number, out: Vec3 = [0, 0, 0]): Vec3 => {
    const p = transformPoint(m, x - modelOrigin[0], y - modelOrigin[1], z - modelOrigin[2]);
    out[0] = p[0];
    out[1] = p[1];
    out[2] = p[2];
    return out;
  };
  return {
    method,
    crs: `ENU:${o.lat},${o.lon},${o.height}`,
    toEcef,
    rotation: m.map((v, i) => (i >= 12 && i < 15 ? 0 : v)),
  };
}

/** Model (X, Y, Z) -> local (east, north, up) when model +Y points `h` degrees clockwise from north. */
function modelToEnu(h: number): Mat4 {
  const r = (h * Math.PI) / 180;
  const c = Math.cos(r);
  const s = Math.sin(r);
  // Columns: images of model X and Y. +Y -> (sin h, cos h); +X -> (cos h, -sin h).
  return [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
}

function multiply3(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16).fill(0);
  for (let c = 0; c < 4; c++)
    for (let r = 0; r < 4; r++) for (let k = 0; k < 4; k++) out[c * 4 + r] += a[k * 4 + r] * b[c * 4 + k];
  return out;
}

function rotationOf(lon: number, lat: number, headingDeg: number): Mat4 {
  const m = multiply3(enuToEcefMatrix(lon, lat, 0), modelToEnu(headingDeg));
  m[12] = 0;
  m[13] = 0;
  m[14] = 0;
  return m;
}
