/**
 * Geodetic <-> ECEF and local east-north-up frames on the WGS84 ellipsoid. CGCS2000's ellipsoid differs from
 * WGS84's only in the flattening's 11th digit (sub-millimetre on the surface), so one implementation serves both.
 * Hand-written because these few closed-form lines are all the tiler needs per vertex, and calling proj4 per
 * vertex would cost an order of magnitude more.
 */
export const WGS84_A = 6378137.0;
export const WGS84_F = 1 / 298.257223563;
const E2 = WGS84_F * (2 - WGS84_F);
const DEG = Math.PI / 180;

export type Vec3 = [number, number, number];
/** 4x4 matrix, column-major (glTF / 3D Tiles order). */
export type Mat4 = number[];

export function geodeticToEcef(lonDeg: number, latDeg: number, h: number, out: Vec3 = [0, 0, 0]): Vec3 {
  const lon = lonDeg * DEG;
  const lat = latDeg * DEG;
  const sinLat = Math.sin(lat);
  const cosLat = Math.cos(lat);
  const n = WGS84_A / Math.sqrt(1 - E2 * sinLat * sinLat);
  out[0] = (n + h) * cosLat * Math.cos(lon);
  out[1] = (n + h) * cosLat * Math.sin(lon);
  out[2] = (n * (1 - E2) + h) * sinLat;
  return out;
}

/** Bowring's iteration; converges to sub-millimetre in three steps for terrestrial heights. */
export function ecefToGeodetic(x: number, y: number, z: number): Vec3 {
  const lon = Math.atan2(y, x);
  const p = Math.hypot(x, y);
  let lat = Math.atan2(z, p * (1 - E2));
  let h = 0;
  for (let i = 0; i < 5; i++) {
    const sinLat = Math.sin(lat);
    const n = WGS84_A / Math.sqrt(1 - E2 * sinLat * sinLat);
    h = p / Math.cos(lat) - n;
    lat = Math.atan2(z, p * (1 - (E2 * n) / (n + h)));
  }
  return [lon / DEG, lat / DEG, h];
}

/** Matrix that takes local ENU metres at (lon, lat, h) to ECEF. */
export function enuToEcefMatrix(lonDeg: number, latDeg: number, h: number): Mat4 {
  const lon = lonDeg * DEG;
  const lat = latDeg * DEG;
  const [ox, oy, oz] = geodeticToEcef(lonDeg, latDeg, h);
  const sinLon = Math.sin(lon);
  const cosLon = Math.cos(lon);
  const sinLat = Math.sin(lat);
  const cosLat = Math.cos(lat);
  // Columns: east, north, up, origin.
  return [
    -sinLon,
    cosLon,
    0,
    0,
    -sinLat * cosLon,
    -sinLat * sinLon,
    cosLat,
    0,
    cosLat * cosLon,
    cosLat * sinLon,
    sinLat,
    0,
    ox,
    oy,
    oz,
    1,
  ];
}

/** ECEF -> local ENU for a frame built by enuToEcefMatrix (inverse of a rigid transform). */
export function ecefToEnu(m: Mat4, x: number, y: number, z: number, out: Vec3 = [0, 0, 0]): Vec3 {
  const dx = x - m[12];
  const dy = y - m[13];
  const dz = z - m[14];
  out[0] = m[0] * dx + m[1] * dy + m[2] * dz;
  out[1] = m[4] * dx + m[5] * dy + m[6] * dz;
  out[2] = m[8] * dx + m[9] * dy + m[10] * dz;
  return out;
}

export function transformPoint(m: Mat4, x: number, y: number, z: number): Vec3 {
  return [
    m[0] * x + m[4] * y + m[8] * z + m[12],
    m[1] * x + m[5] * y + m[9] * z + m[13],
    m[2] * x + m[6] * y + m[10] * z + m[14],
  ];
}

export const degToRad = (d: number): number => d * DEG;

export const IDENTITY: Mat4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

export function multiply(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16);
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
      out[c * 4 + r] = s;
    }
  }
  return out;
}

/** Inverse of a rotation + translation matrix (the only kind tiles use). */
export function invertRigid(m: Mat4): Mat4 {
  const t = [m[12], m[13], m[14]];
  return [
    m[0],
    m[4],
    m[8],
    0,
    m[1],
    m[5],
    m[9],
    0,
    m[2],
    m[6],
    m[10],
    0,
    -(m[0] * t[0] + m[1] * t[1] + m[2] * t[2]),
    -(m[4] * t[0] + m[5] * t[1] + m[6] * t[2]),
    -(m[8] * t[0] + m[9] * t[1] + m[10] * t[2]),
    1,
  ];
}
