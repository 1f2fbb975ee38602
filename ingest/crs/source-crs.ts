import proj4 from "proj4";
import { epsgDefinition, isGeographic } from "./epsg.ts";
import { ecefToGeodetic, enuToEcefMatrix, type Mat4, transformPoint, type Vec3 } from "./geodesy.ts";

const WGS84_LONLAT = "+proj=longlat +datum=WGS84 +no_defs";
const WGS84_GEOCENT = "+proj=geocent +datum=WGS84 +units=m +no_defs";

/** A source coordinate system, resolved once per ingest. */
export interface SourceCrs {
  /** Canonical name written to layer.json, e.g. "EPSG:4547" or "ENU:31.23,121.47,0". */
  readonly id: string;
  readonly geographic: boolean;
  /** Source (x, y, z) -> geodetic lon, lat (degrees), ellipsoidal height (m). */
  toGeodetic(x: number, y: number, z: number): Vec3;
  /** Source (x, y, z) -> ECEF computed independently through proj4, the reference for the accuracy check. */
  toEcefReference(x: number, y: number, z: number): Vec3;
}

export class CrsError extends Error {}

/** Origin for local ENU data: lon, lat (degrees) and ellipsoidal height (m). */
export type Origin = { lon: number; lat: number; height: number };

export function parseOrigin(text: string): Origin {
  const parts = text.split(",").map((s) => Number(s.trim()));
  if (parts.length < 2 || parts.length > 3 || parts.some((v) => !Number.isFinite(v))) {
    throw new CrsError(`--origin must be "lon,lat[,height]", got "${text}"`);
  }
  const [lon, lat, height = 0] = parts;
  if (Math.abs(lon) > 180 || Math.abs(lat) > 90) throw new CrsError(`--origin out of range: "${text}"`);
  return { lon, lat, height };
}

/**
 * Resolves a CRS given as "EPSG:xxxx", "ENU:lat,lon[,h]", "ENU" / "LOCAL" with an origin, a proj4 string or WKT
 * (as in a shapefile's .prj).
 */
export function resolveSourceCrs(spec: string, origin?: Origin): SourceCrs {
  const text = spec.trim();
  const enu = /^ENU:\s*([-\d.]+)\s*,\s*([-\d.]+)(?:\s*,\s*([-\d.]+))?$/i.exec(text);
  if (enu) return localEnuCrs({ lat: Number(enu[1]), lon: Number(enu[2]), height: Number(enu[3] ?? 0) });
  if (/^(ENU|LOCAL)$/i.test(text)) {
    if (!origin) throw new CrsError(`CRS "${text}" needs --origin lon,lat[,height]`);
    return localEnuCrs(origin);
  }
  const epsg = /^EPSG:(\d+)$/i.exec(text) ?? wktAuthorityCode(text);
  if (epsg) {
    const code = Number(epsg[1]);
    const def = epsgDefinition(code);
    if (!def)
      throw new CrsError(
        `unsupported CRS EPSG:${code} (supported: 4326, 4490, 4491-4554, 3857, 326xx, 327xx)`,
      );
    return projCrs(`EPSG:${code}`, def);
  }
  if (text.startsWith("+proj=")) return projCrs(text, text);
  if (/^(PROJCS|GEOGCS|PROJCRS|GEOGCRS)\[/i.test(text)) return projCrs(wktName(text), text);
  throw new CrsError(
    `cannot understand CRS "${text.slice(0, 80)}": give EPSG:xxxx, ENU:lat,lon or a proj4 string`,
  );
}

/** Picks a top-level AUTHORITY["EPSG","xxxx"] from WKT1 when it is the last one (that of the whole CRS). */
function wktAuthorityCode(wkt: string): RegExpExecArray | null {
  if (!/^(PROJCS|GEOGCS)\[/i.test(wkt)) return null;
  const all = [...wkt.matchAll(/AUTHORITY\["EPSG","(\d+)"\]\]$/gi)];
  return all.length ? (all[all.length - 1] as unknown as RegExpExecArray) : null;
}

function wktName(wkt: string): string {
  const m = /^\w+\["([^"]+)"/.exec(wkt);
  return m ? m[1] : "WKT";
}

function projCrs(id: string, def: string): SourceCrs {
  let toLonLat: proj4.Converter;
  let toGeocent: proj4.Converter;
  try {
    toLonLat = proj4(def, WGS84_LONLAT);
    toGeocent = proj4(def, WGS84_GEOCENT);
  } catch (err) {
    throw new CrsError(`proj4 cannot use CRS ${id}: ${(err as Error).message}`);
  }
  const geographic = isGeographic(def) || /^GEOG/i.test(def);
  return {
    id,
    geographic,
    toGeodetic(x, y, z) {
      if (geographic) return [x, y, z];
      const p = toLonLat.forward([x, y]);
      return [p[0], p[1], z];
    },
    toEcefReference(x, y, z) {
      const p = toGeocent.forward([x, y, z]) as number[];
      return [p[0], p[1], p[2]];
    },
  };
}

function localEnuCrs(origin: Origin): SourceCrs {
  const frame: Mat4 = enuToEcefMatrix(origin.lon, origin.lat, origin.height);
  // The reference re-derives the origin through proj4 so that an error in our geodesy would show up.
  const refOrigin = proj4(WGS84_LONLAT, WGS84_GEOCENT).forward([
    origin.lon,
    origin.lat,
    origin.height,
  ]) as number[];
  return {
    id: `ENU:${origin.lat},${origin.lon},${origin.height}`,
    geographic: false,
    toGeodetic(x, y, z) {
      const p = transformPoint(frame, x, y, z);
      return ecefToGeodetic(p[0], p[1], p[2]);
    },
    toEcefReference(x, y, z) {
      return [
        refOrigin[0] + frame[0] * x + frame[4] * y + frame[8] * z,
        refOrigin[1] + frame[1] * x + frame[5] * y + frame[9] * z,
        refOrigin[2] + frame[2] * x + frame[6] * y + frame[10] * z,
      ];
    },
  };
}
