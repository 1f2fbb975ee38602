/**
 * Minimal WGS84 and 4x4 matrix math for the tileset checker. Kept independent of the product's own
 * geodesy code on purpose: a checker that shares the writer's math would share its bugs.
 * Matrices are column-major (glTF / 3D Tiles convention), 16 numbers.
 */

export type Vec3 = [number, number, number];
export type Mat4 = number[];

const WGS84_A = 6378137.0;
const WGS84_F = 1 / 298.257223563;
const WGS84_E2 = WGS84_F * (2 - WGS84_F);
const WGS84_B = WGS84_A * (1 - WGS84_F);
const WGS84_EP2 = (WGS84_A * WGS84_A - WGS84_B * WGS84_B) / (WGS84_B * WGS84_B);

export const IDENTITY: Mat4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

/** glTF content is y-up, 3D Tiles is z-up: (x, y, z) -> (x, -z, y). */
export const Y_UP_TO_Z_UP: Mat4 = [1, 0, 0, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1];

/** Geodetic (radians, metres above the ellipsoid) to ECEF metres. */
export function geodeticToEcef(lon: number, lat: number, height: number): Vec3 {
  const sinLat = Math.sin(lat);
  const cosLat = Math.cos(lat);
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * sinLat * sinLat);
  return [
    (n + height) * cosLat * Math.cos(lon),
    (n + height) * cosLat * Math.sin(lon),
    (n * (1 - WGS84_E2) + height) * sinLat,
  ];
}

/** ECEF metres to geodetic (radians, metres); Bowring's closed form, sub-millimetre near the surface. */
export function ecefToGeodetic(p: Vec3): { lon: number; lat: number; height: number } {
  const [x, y, z] = p;
  const r = Math.hypot(x, y);
  const lon = Math.atan2(y, x);
  const theta = Math.atan2(z * WGS84_A, r * WGS84_B);
  const sinT = Math.sin(theta);
  const cosT = Math.cos(theta);
  const lat = Math.atan2(z + WGS84_EP2 * WGS84_B * sinT ** 3, r - WGS84_E2 * WGS84_A * cosT ** 3);
  const sinLat = Math.sin(lat);
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * sinLat * sinLat);
  // Near the poles cos(lat) -> 0, so switch to the z-based height formula there.
  const height = Math.abs(lat) < Math.PI / 4 ? r / Math.cos(lat) - n : z / sinLat - n * (1 - WGS84_E2);
  return { lon, lat, height };
}

/** Prime-vertical (east-west) and meridional (north-south) radii of curvature at a latitude, metres. */
export function radiiOfCurvature(lat: number): { east: number; north: number } {
  const w2 = 1 - WGS84_E2 * Math.sin(lat) ** 2;
  return { east: WGS84_A / Math.sqrt(w2), north: (WGS84_A * (1 - WGS84_E2)) / w2 ** 1.5 };
}

/** Local east-north-up frame at a geodetic point, as a matrix from ENU metres to ECEF metres. */
export function enuToEcef(lon: number, lat: number, height: number): Mat4 {
  const o = geodeticToEcef(lon, lat, height);
  const sLon = Math.sin(lon);
  const cLon = Math.cos(lon);
  const sLat = Math.sin(lat);
  const cLat = Math.cos(lat);
  const east = [-sLon, cLon, 0];
  const north = [-sLat * cLon, -sLat * sLon, cLat];
  const up = [cLat * cLon, cLat * sLon, sLat];
  return [...east, 0, ...north, 0, ...up, 0, o[0], o[1], o[2], 1];
}

export function multiply(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16);
  for (let col = 0; col < 4; col++) {
    for (let row = 0; row < 4; row++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + row] * b[col * 4 + k];
      out[col * 4 + row] = s;
    }
  }
  return out;
}

export function transformPoint(m: Mat4, p: ArrayLike<number>): Vec3 {
  const [x, y, z] = [p[0], p[1], p[2]];
  return [
    m[0] * x + m[4] * y + m[8] * z + m[12],
    m[1] * x + m[5] * y + m[9] * z + m[13],
    m[2] * x + m[6] * y + m[10] * z + m[14],
  ];
}

/** Direction transform (no translation), used for box half-axes. */
export function transformVector(m: Mat4, v: ArrayLike<number>): Vec3 {
  return [
    m[0] * v[0] + m[4] * v[1] + m[8] * v[2],
    m[1] * v[0] + m[5] * v[1] + m[9] * v[2],
    m[2] * v[0] + m[6] * v[1] + m[10] * v[2],
  ];
}

/** glTF node TRS to a column-major matrix (T * R * S). */
export function fromTrs(t: ArrayLike<number>, q: ArrayLike<number>, s: ArrayLike<number>): Mat4 {
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  const [sx, sy, sz] = [s[0], s[1], s[2]];
  return [
    (1 - 2 * (y * y + z * z)) * sx,
    2 * (x * y + z * w) * sx,
    2 * (x * z - y * w) * sx,
    0,
    2 * (x * y - z * w) * sy,
    (1 - 2 * (x * x + z * z)) * sy,
    2 * (y * z + x * w) * sy,
    0,
    2 * (x * z + y * w) * sz,
    2 * (y * z - x * w) * sz,
    (1 - 2 * (x * x + y * y)) * sz,
    0,
    t[0],
    t[1],
    t[2],
    1,
  ];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function length(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2]);
}
