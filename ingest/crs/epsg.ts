/**
 * proj4 definitions for the coordinate systems Chinese CIM data arrives in. proj4js ships only EPSG:4326,
 * 4269, 3857 and a few others, so CGCS2000 and its Gauss-Krüger zones are defined here from their EPSG
 * parameters. CGCS2000 is treated as coincident with WGS84 (the datums agree to a few centimetres, below
 * the accuracy of the survey data they carry).
 */
const CGCS2000 = "+ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs";

function gaussKruger(centralMeridian: number, falseEasting: number): string {
  return `+proj=tmerc +lat_0=0 +lon_0=${centralMeridian} +k=1 +x_0=${falseEasting} +y_0=0 ${CGCS2000}`;
}

/** Returns a proj4 string for a supported EPSG code, or undefined. */
export function epsgDefinition(code: number): string | undefined {
  if (code === 4326) return "+proj=longlat +datum=WGS84 +no_defs";
  if (code === 4490) return `+proj=longlat ${CGCS2000}`;
  if (code === 3857 || code === 900913) {
    return "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs";
  }
  // CGCS2000 / 6-degree Gauss-Kruger zone 13..23 (false easting carries the zone number).
  if (code >= 4491 && code <= 4501) {
    const zone = code - 4491 + 13;
    return gaussKruger(zone * 6 - 3, zone * 1_000_000 + 500_000);
  }
  // CGCS2000 / 6-degree Gauss-Kruger CM 75E..135E.
  if (code >= 4502 && code <= 4512) return gaussKruger(75 + (code - 4502) * 6, 500_000);
  // CGCS2000 / 3-degree Gauss-Kruger zone 25..45.
  if (code >= 4513 && code <= 4533) {
    const zone = code - 4513 + 25;
    return gaussKruger(zone * 3, zone * 1_000_000 + 500_000);
  }
  // CGCS2000 / 3-degree Gauss-Kruger CM 75E..135E.
  if (code >= 4534 && code <= 4554) return gaussKruger(75 + (code - 4534) * 3, 500_000);
  // WGS 84 / UTM north and south.
  if (code >= 32601 && code <= 32660) return `+proj=utm +zone=${code - 32600} +datum=WGS84 +units=m +no_defs`;
  if (code >= 32701 && code <= 32760) {
    return `+proj=utm +zone=${code - 32700} +south +datum=WGS84 +units=m +no_defs`;
  }
  return undefined;
}

/** True for geographic (degree) definitions. */
export function isGeographic(def: string): boolean {
  return /\+proj=longlat\b/.test(def);
}
