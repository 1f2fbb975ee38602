import { describe, expect, it } from "vitest";
import { ecefToGeodetic, enuToEcefMatrix, geodeticToEcef, transformPoint } from "../../ingest/crs/geodesy.ts";
import { CrsError, parseOrigin, resolveSourceCrs } from "../../ingest/crs/source-crs.ts";

/** Meridian arc length from the equator to 30°N on GRS80 / WGS84 (a published constant of the ellipsoid). */
const MERIDIAN_ARC_30N = 3320113.398;

describe("source CRS", () => {
  it("CGCS2000 3-degree Gauss-Kruger CM 114E (EPSG:4547) puts the central meridian at x = 500 km", () => {
    const crs = resolveSourceCrs("EPSG:4547");
    const [lon, lat] = crs.toGeodetic(500000, MERIDIAN_ARC_30N, 0);
    expect(lon).toBeCloseTo(114, 8);
    expect(lat).toBeCloseTo(30, 6);
  });

  it.each([
    ["EPSG:4513", 25_500_000, 75], // 3-degree zone 25
    ["EPSG:4527", 39_500_000, 117], // 3-degree zone 39
    ["EPSG:4554", 500_000, 135], // 3-degree CM 135E
    ["EPSG:4491", 13_500_000, 75], // 6-degree zone 13
    ["EPSG:4499", 21_500_000, 123], // 6-degree zone 21
    ["EPSG:4508", 500_000, 111], // 6-degree CM 111E
    ["EPSG:32650", 500_000, 117], // WGS 84 / UTM 50N
  ])("%s has its central meridian at easting %d", (code, easting, meridian) => {
    const [lon] = resolveSourceCrs(code).toGeodetic(easting, 3_500_000, 0);
    expect(lon).toBeCloseTo(meridian, 8);
  });

  it("Web Mercator's x at 180°E is half the equator", () => {
    const [lon, lat] = resolveSourceCrs("EPSG:3857").toGeodetic(20037508.342789244, 0, 0);
    expect(lon).toBeCloseTo(180, 8);
    expect(lat).toBeCloseTo(0, 8);
  });

  it("geographic CRSs pass degrees through and keep heights", () => {
    expect(resolveSourceCrs("EPSG:4490").toGeodetic(118.3, 33.9, 12)).toEqual([118.3, 33.9, 12]);
    expect(resolveSourceCrs("epsg:4326").geographic).toBe(true);
  });

  it("reads a shapefile .prj WKT", () => {
    const wkt = `PROJCS["CGCS2000_3_Degree_GK_CM_114E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",114.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`;
    const [lon, lat] = resolveSourceCrs(wkt).toGeodetic(500000, MERIDIAN_ARC_30N, 0);
    expect(lon).toBeCloseTo(114, 8);
    expect(lat).toBeCloseTo(30, 6);
  });

  it("local ENU: 100 m east of the origin is 100 m away in ECEF, at the origin's latitude", () => {
    const crs = resolveSourceCrs("ENU:31.23,121.47,5");
    const o = geodeticToEcef(121.47, 31.23, 5);
    const p = geodeticToEcef(...crs.toGeodetic(100, 0, 0));
    expect(Math.hypot(p[0] - o[0], p[1] - o[1], p[2] - o[2])).toBeCloseTo(100, 4);
    expect(crs.toGeodetic(0, 0, 0)[1]).toBeCloseTo(31.23, 9);
    expect(resolveSourceCrs("ENU", parseOrigin("121.47,31.23")).id).toBe("ENU:31.23,121.47,0");
  });

  it("rejects what it cannot honour, saying what to give instead", () => {
    expect(() => resolveSourceCrs("EPSG:2000")).toThrow(/unsupported CRS EPSG:2000/);
    expect(() => resolveSourceCrs("LOCAL")).toThrow(/--origin/);
    expect(() => resolveSourceCrs("somewhere")).toThrow(CrsError);
    expect(() => parseOrigin("121.5")).toThrow(/lon,lat/);
  });
});

describe("geodesy", () => {
  it("ECEF round trip is sub-millimetre across heights and latitudes", () => {
    for (const [lon, lat, h] of [
      [121.5, 31.2, 0],
      [-70, -45, 8848],
      [0, 89.9, -400],
    ]) {
      const e = geodeticToEcef(lon, lat, h);
      const [lon2, lat2, h2] = ecefToGeodetic(...e);
      const back = geodeticToEcef(lon2, lat2, h2);
      expect(Math.hypot(back[0] - e[0], back[1] - e[1], back[2] - e[2])).toBeLessThan(1e-3);
    }
  });

  it("the ENU frame's up axis points away from the Earth's centre at the origin", () => {
    const m = enuToEcefMatrix(118.29, 33.96, 0);
    const o = transformPoint(m, 0, 0, 0);
    const up = transformPoint(m, 0, 0, 1000);
    const [, , h] = ecefToGeodetic(...up);
    expect(h).toBeCloseTo(1000, 3);
    expect(Math.hypot(o[0], o[1], o[2])).toBeGreaterThan(6.3e6);
  });
});
