import { epsgDefinition } from "../../crs/epsg.ts";
import { resolveSourceCrs } from "../../crs/source-crs.ts";

/**
 * Plausibility of Gauss-Krüger / transverse Mercator coordinates, used to detect swapped X/Y columns. Chinese
 * surveys write X = northing and Y = easting; a table exported the "mathematical" way round has them exchanged.
 */

/** (easting, northing) → true when the point lies in the CRS's valid extent. */
export type ExtentTest = (easting: number, northing: number) => boolean;

/** Half-width of the accepted band around the central meridian: a 6° zone plus its overlap. */
const MAX_DLON = 3.5;

/**
 * The extent test for a CRS: for transverse Mercator (GK zones EPSG:4491-4554, UTM, "+proj=tmerc" / "+proj=utm"
 * strings, WKT with a central meridian) the point must map to within 3.5° of the central meridian and, for the
 * CGCS2000 zones, to China's latitudes (0-56°N). Other CRSs (geographic, Web Mercator, ENU) have no test.
 * Without a CRS the Chinese GK value ranges are used: northing 0.3-6.2 Mm; easting 0-1 Mm, or 13-46 Mm with the
 * zone number in front.
 */
export function extentTest(crs: string | undefined): ExtentTest | null {
  if (!crs) return chinaGkRanges;
  const text = crs.trim();
  const epsg = /^EPSG:(\d+)$/i.exec(text);
  const code = epsg ? Number(epsg[1]) : undefined;
  const def = code !== undefined ? epsgDefinition(code) : text;
  if (!def) return null;
  let lon0: number | undefined;
  const tmerc = /\+proj=tmerc\b/.test(def) && /\+lon_0=([-\d.]+)/.exec(def);
  const utm = /\+proj=utm\b/.test(def) && /\+zone=(\d+)/.exec(def);
  const wkt = /PARAMETER\["central_meridian",\s*([-\d.]+)\]/i.exec(def);
  if (tmerc) lon0 = Number(tmerc[1]);
  else if (utm) lon0 = Number(utm[1]) * 6 - 183;
  else if (wkt && /Transverse_Mercator|Gauss/i.test(def)) lon0 = Number(wkt[1]);
  if (lon0 === undefined || !Number.isFinite(lon0)) return null;
  const source = resolveSourceCrs(text);
  const china = code !== undefined && code >= 4491 && code <= 4554;
  const [minLat, maxLat] = china ? [0, 56] : [-84, 84];
  const centre = lon0;
  return (easting, northing) => {
    if (!Number.isFinite(easting) || !Number.isFinite(northing)) return false;
    let lon: number;
    let lat: number;
    try {
      [lon, lat] = source.toGeodetic(easting, northing, 0);
    } catch {
      return false;
    }
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) return false;
    const dLon = Math.abs(((lon - centre + 540) % 360) - 180);
    return dLon <= MAX_DLON && lat >= minLat && lat <= maxLat;
  };
}

function chinaGkRanges(easting: number, northing: number): boolean {
  const eastingOk = (easting > 0 && easting < 1_000_000) || (easting >= 13_000_000 && easting < 46_000_000);
  return eastingOk && northing >= 300_000 && northing <= 6_200_000;
}

/** Decision for one point table: whether to read X as easting (swapped), with the counts behind it. */
export interface SwapDecision {
  swapped: boolean;
  /** Points that fit as surveyed (X = northing) and as swapped. */
  fitGiven: number;
  fitSwapped: number;
  total: number;
}

/**
 * A table is swapped when more of its points fit the extent as (easting = X, northing = Y) than as surveyed
 * (easting = Y, northing = X): a table's columns are swapped as a whole, never row by row.
 */
export function decideSwap(
  points: readonly { X: number; Y: number }[],
  test: ExtentTest | null,
): SwapDecision {
  let fitGiven = 0;
  let fitSwapped = 0;
  if (test) {
    for (const p of points) {
      if (test(p.Y, p.X)) fitGiven++;
      if (test(p.X, p.Y)) fitSwapped++;
    }
  }
  return { swapped: fitSwapped > fitGiven, fitGiven, fitSwapped, total: points.length };
}
