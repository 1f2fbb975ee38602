/**
 * Does a camera see a point? Pure geometry, written by hand: it is a dozen lines of vector algebra on
 * the ellipsoid (geodetic -> ECEF -> the camera's east-north-up frame) that no small library offers
 * without pulling in a whole 3D engine.
 */

/** CGCS2000 ellipsoid (its flattening differs from WGS84's by ~1e-11: irrelevant at camera range). */
const A = 6_378_137;
const F = 1 / 298.257222101;
const E2 = F * (2 - F);
const RAD = Math.PI / 180;

export interface GeoPoint {
  lon: number;
  lat: number;
  /** Metres above the ellipsoid. */
  height: number;
}

export interface CameraView extends GeoPoint {
  /** Degrees clockwise from north. */
  heading: number;
  /** Degrees above the horizon (down is negative). */
  pitch: number;
  hfov: number;
  vfov: number;
  /** Farthest distance (m) at which it sees. */
  range: number;
}

function toEcef(p: GeoPoint): [number, number, number] {
  const lat = p.lat * RAD;
  const lon = p.lon * RAD;
  const sinLat = Math.sin(lat);
  const cosLat = Math.cos(lat);
  const n = A / Math.sqrt(1 - E2 * sinLat * sinLat);
  return [
    (n + p.height) * cosLat * Math.cos(lon),
    (n + p.height) * cosLat * Math.sin(lon),
    (n * (1 - E2) + p.height) * sinLat,
  ];
}

/** East, north, up (m) of `target` in the local tangent frame at `origin`. */
export function enu(origin: GeoPoint, target: GeoPoint): [number, number, number] {
  const [ox, oy, oz] = toEcef(origin);
  const [tx, ty, tz] = toEcef(target);
  const dx = tx - ox;
  const dy = ty - oy;
  const dz = tz - oz;
  const lat = origin.lat * RAD;
  const lon = origin.lon * RAD;
  const sinLat = Math.sin(lat);
  const cosLat = Math.cos(lat);
  const sinLon = Math.sin(lon);
  const cosLon = Math.cos(lon);
  return [
    -sinLon * dx + cosLon * dy,
    -sinLat * cosLon * dx - sinLat * sinLon * dy + cosLat * dz,
    cosLat * cosLon * dx + cosLat * sinLon * dy + sinLat * dz,
  ];
}

export interface ViewTest {
  /** Inside the frustum: in front, within both half-angles and within range. */
  sees: boolean;
  /** 3D distance (m). */
  distance: number;
  /** Horizontal distance (m). */
  horizontal: number;
  /** Bearing from the camera, degrees clockwise from north in [0, 360). */
  bearing: number;
  /** Angle right of the optical axis in the image plane's horizontal (degrees; NaN when behind). */
  yaw: number;
  /** Angle above the optical axis (degrees; NaN when behind). */
  tilt: number;
}

/** Tolerance for points exactly on the frustum's edge (floating point noise). */
const EDGE_EPS_DEG = 1e-9;

export function viewTest(camera: CameraView, point: GeoPoint): ViewTest {
  const [e, n, u] = enu(camera, point);
  const distance = Math.hypot(e, n, u);
  const horizontal = Math.hypot(e, n);
  const bearing = (((Math.atan2(e, n) / RAD) % 360) + 360) % 360;
  const h = camera.heading * RAD;
  const p = camera.pitch * RAD;
  // Camera axes in ENU: forward along heading/pitch, right level with the horizon (no roll), up = right x forward.
  const fwd = [Math.sin(h) * Math.cos(p), Math.cos(h) * Math.cos(p), Math.sin(p)];
  const right = [Math.cos(h), -Math.sin(h), 0];
  const up = [
    right[1] * fwd[2] - right[2] * fwd[1],
    right[2] * fwd[0] - right[0] * fwd[2],
    right[0] * fwd[1] - right[1] * fwd[0],
  ];
  const depth = e * fwd[0] + n * fwd[1] + u * fwd[2];
  const x = e * right[0] + n * right[1] + u * right[2];
  const y = e * up[0] + n * up[1] + u * up[2];
  if (distance === 0) return { sees: true, distance, horizontal, bearing, yaw: 0, tilt: 0 };
  if (depth <= 0)
    return { sees: false, distance, horizontal, bearing: bearing, yaw: Number.NaN, tilt: Number.NaN };
  const yaw = Math.atan2(x, depth) / RAD;
  const tilt = Math.atan2(y, depth) / RAD;
  const sees =
    Math.abs(yaw) <= camera.hfov / 2 + EDGE_EPS_DEG &&
    Math.abs(tilt) <= camera.vfov / 2 + EDGE_EPS_DEG &&
    distance <= camera.range;
  return { sees, distance, horizontal, bearing, yaw, tilt };
}
