import proj4 from "proj4";
import { epsgDefinition } from "../crs/epsg.ts";
import { type CrsError, resolveSourceCrs } from "../crs/source-crs.ts";
import type { LasHeader, LasVlr } from "./las-header.ts";

/** The CRS of a point cloud, with heights converted to metres (LAS heights are in the CRS's vertical unit). */
export interface LasCrs {
  id: string;
  /** Where it came from: "--crs", "GeoTIFF keys" or "WKT VLR". */
  source: string;
  verticalToMetres: number;
  /** The CRS for other tools: the file's OGC WKT when it has one, else a proj4 definition. */
  projection: string;
  /** Source x, y, z -> lon, lat (degrees), ellipsoidal height (m). */
  toGeodetic(x: number, y: number, z: number): [number, number, number];
  /** Source x, y, z -> ECEF through proj4 alone, the reference for the accuracy check. */
  toEcefReference(x: number, y: number, z: number): [number, number, number];
}

export class LasCrsError extends Error {}

const UNIT_METRES: Record<number, number> = { 9001: 1, 9002: 0.3048, 9003: 1200 / 3937 };
const LONLAT = "+proj=longlat +datum=WGS84 +no_defs";
const GEOCENT = "+proj=geocent +datum=WGS84 +units=m +no_defs";

export function resolveLasCrs(header: LasHeader, override?: string): LasCrs {
  const keys = geoKeys(header.vlrs);
  const vertical = keys?.short.get(4099) ?? keys?.short.get(3076);
  const verticalFromKeys = vertical !== undefined ? UNIT_METRES[vertical] : undefined;
  if (override) {
    const def = override.trim();
    return wrap(def, "--crs", verticalFromKeys ?? unitsOf(def), isWkt(def) ? def : undefined);
  }
  const wkt = header.vlrs.find((v) => v.userId === "LASF_Projection" && v.recordId === 2112);
  const wktText = wkt ? wkt.data.toString("utf8").replace(/\0+$/, "").trim() : "";
  if (keys) {
    const pcs = keys.short.get(3072);
    const def =
      pcs && pcs !== 32767
        ? `EPSG:${pcs}`
        : keys.short.get(1024) === 2 && (keys.short.get(2048) ?? 32767) !== 32767
          ? `EPSG:${keys.short.get(2048)}`
          : userDefinedProjection(header.file, keys);
    try {
      return wrap(def, "GeoTIFF keys", verticalFromKeys ?? unitsOf(def), wktText || undefined);
    } catch (err) {
      if (!wktText) throw err;
    }
  }
  if (wktText) return wrap(wktText, "WKT VLR", unitsOf(wktText), wktText);
  throw new LasCrsError(
    `${header.file}: no CRS in the file (no GeoTIFF GeoKeyDirectory or OGC WKT VLR): give it with --crs EPSG:xxxx`,
  );
}

function wrap(def: string, source: string, verticalToMetres: number, wkt?: string): LasCrs {
  let crs: ReturnType<typeof resolveSourceCrs>;
  try {
    crs = resolveSourceCrs(def);
  } catch (err) {
    throw new LasCrsError(`${(err as CrsError).message} (CRS from ${source})`);
  }
  const toGeocent = proj4(LONLAT, GEOCENT);
  return {
    id: crs.id,
    source,
    verticalToMetres,
    projection: wkt ?? proj4Definition(def),
    toGeodetic(x, y, z) {
      const p = crs.toGeodetic(x, y, z);
      return [p[0], p[1], z * verticalToMetres];
    },
    toEcefReference(x, y, z) {
      // Horizontal through proj4's own projection, vertical scaled here: proj4js does not scale z by +to_meter.
      const g = crs.toGeodetic(x, y, z);
      const p = toGeocent.forward([g[0], g[1], z * verticalToMetres]) as number[];
      return [p[0], p[1], p[2]];
    },
  };
}

function isWkt(def: string): boolean {
  return /^(PROJCS|GEOGCS|PROJCRS|GEOGCRS|COMPD_CS|COMPOUNDCRS)\[/i.test(def);
}

function proj4Definition(def: string): string {
  const epsg = /^EPSG:(\d+)$/i.exec(def);
  return (epsg && epsgDefinition(Number(epsg[1]))) || def;
}

function unitsOf(def: string): number {
  const toMeter = /\+to_meter=([\d.eE+-]+)/.exec(def);
  if (toMeter) return Number(toMeter[1]);
  if (/\+units=us-ft\b/.test(def) || /UNIT\["US survey foot"/i.test(def) || /Foot_US/i.test(def))
    return 1200 / 3937;
  if (/\+units=ft\b/.test(def) || /UNIT\["(international )?foot"/i.test(def) || /UNIT\["Foot"/i.test(def))
    return 0.3048;
  return 1;
}

interface GeoKeys {
  short: Map<number, number>;
  doubles: Map<number, number>;
}

function geoKeys(vlrs: LasVlr[]): GeoKeys | undefined {
  const dir = vlrs.find((v) => v.userId === "LASF_Projection" && v.recordId === 34735);
  if (!dir || dir.data.length < 8) return undefined;
  const dbl = vlrs.find((v) => v.userId === "LASF_Projection" && v.recordId === 34736);
  const short = new Map<number, number>();
  const doubles = new Map<number, number>();
  const n = dir.data.readUInt16LE(6);
  for (let i = 0; i < n && 8 + i * 8 + 8 <= dir.data.length; i++) {
    const at = 8 + i * 8;
    const id = dir.data.readUInt16LE(at);
    const location = dir.data.readUInt16LE(at + 2);
    const value = dir.data.readUInt16LE(at + 6);
    if (location === 0) short.set(id, value);
    else if (location === 34736 && dbl && value * 8 + 8 <= dbl.data.length)
      doubles.set(id, dbl.data.readDoubleLE(value * 8));
  }
  return { short, doubles };
}

/**
 * A user-defined projected CRS (ProjectedCSTypeGeoKey 32767, as in autzen's Oregon Lambert in feet) rebuilt as a
 * proj4 string from the GeoTIFF projection keys. False eastings/northings are in the linear unit; proj4 wants
 * metres. The datum is taken as WGS84-compatible (NAD83/GRS80 agree with it to about a metre at most).
 */
function userDefinedProjection(file: string, k: GeoKeys): string {
  const unitCode = k.short.get(3076) ?? 9001;
  const unit = UNIT_METRES[unitCode];
  if (!unit) throw new LasCrsError(`${file}: unsupported GeoTIFF linear unit ${unitCode}: give --crs`);
  const d = (id: number, fallback?: number) => {
    const v = k.doubles.get(id) ?? fallback;
    if (v === undefined)
      throw new LasCrsError(`${file}: GeoTIFF key ${id} missing for the user-defined projection`);
    return v;
  };
  const a = k.doubles.get(2057) ?? 6378137;
  const invF = k.doubles.get(2059) ?? 298.257222101;
  const ellps = `+a=${a} +rf=${invF} +towgs84=0,0,0,0,0,0,0 +to_meter=${unit} +no_defs`;
  const ct = k.short.get(3075);
  if (ct === 8) {
    return `+proj=lcc +lat_1=${d(3078)} +lat_2=${d(3079)} +lat_0=${d(3085, d(3081, 0))} +lon_0=${d(3084, d(3080, 0))} +x_0=${d(3086, d(3082, 0)) * unit} +y_0=${d(3087, d(3083, 0)) * unit} ${ellps}`;
  }
  if (ct === 9) {
    return `+proj=lcc +lat_1=${d(3081)} +lat_0=${d(3081)} +lon_0=${d(3080)} +k_0=${d(3092, 1)} +x_0=${d(3082, 0) * unit} +y_0=${d(3083, 0) * unit} ${ellps}`;
  }
  if (ct === 1) {
    return `+proj=tmerc +lat_0=${d(3081, 0)} +lon_0=${d(3080)} +k=${d(3092, 1)} +x_0=${d(3082, 0) * unit} +y_0=${d(3083, 0) * unit} ${ellps}`;
  }
  throw new LasCrsError(
    `${file}: user-defined GeoTIFF projection with coordinate transformation ${ct ?? "(none)"} is not supported: give --crs`,
  );
}
