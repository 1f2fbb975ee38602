import { Cartesian3, Cartesian4, Math as CesiumMath, Matrix4, Transforms } from "cesium";
import type { Camera } from "../../../models/cameras.ts";

/** The pose fields of a registered camera (models/cameras.ts conventions). */
export type CameraPose = Pick<
  Camera,
  "lon" | "lat" | "height" | "heading" | "pitch" | "hfov" | "vfov" | "range"
>;

/**
 * Camera frame -> ECEF, with the camera looking down its -z axis, x to the right and y up (the GL eye
 * convention, so the same matrix serves the frustum lines and the projection shader). The axes are those of
 * tiles-server/cameras/frustum.ts, which decides whether a camera "sees" a point: forward from heading
 * (clockwise from north) and pitch (up positive), right level with the horizon (no roll), up = right × forward.
 */
export function cameraToWorld(pose: CameraPose, result = new Matrix4()): Matrix4 {
  const h = CesiumMath.toRadians(pose.heading);
  const p = CesiumMath.toRadians(pose.pitch);
  const forward = new Cartesian3(Math.sin(h) * Math.cos(p), Math.cos(h) * Math.cos(p), Math.sin(p));
  const right = new Cartesian3(Math.cos(h), -Math.sin(h), 0);
  const up = Cartesian3.cross(right, forward, new Cartesian3());
  // Columns in the local east-north-up frame: x = right, y = up, z = -forward.
  // biome-ignore format: a 4x4 matrix reads best as rows
  const inEnu = new Matrix4(
    right.x, up.x, -forward.x, 0,
    right.y, up.y, -forward.y, 0,
    right.z, up.z, -forward.z, 0,
    0, 0, 0, 1,
  );
  const enuToEcef = Transforms.eastNorthUpToFixedFrame(position(pose));
  return Matrix4.multiply(enuToEcef, inEnu, result);
}

export function position(pose: Pick<CameraPose, "lon" | "lat" | "height">): Cartesian3 {
  return Cartesian3.fromDegrees(pose.lon, pose.lat, pose.height);
}

/** Near plane of the projection (m): anything closer to the lens is not worth painting. */
export const PROJECTION_NEAR = 0.5;

/** GL perspective projection of the camera's field of view (hfov × vfov) out to its range. */
export function cameraProjection(pose: CameraPose, result = new Matrix4()): Matrix4 {
  const vfov = CesiumMath.toRadians(pose.vfov);
  const aspect = Math.tan(CesiumMath.toRadians(pose.hfov) / 2) / Math.tan(vfov / 2);
  return Matrix4.computePerspectiveFieldOfView(vfov, aspect, PROJECTION_NEAR, pose.range, result);
}

/**
 * The frustum's apex and the four corners of its far face (ECEF), in the order top-left, top-right,
 * bottom-right, bottom-left as the camera sees them. The far face is the sphere of radius `range` cut
 * by the four side planes, flattened to its corners: a corner ray has length `range`, like the server's test.
 */
export function frustumCorners(pose: CameraPose): { apex: Cartesian3; corners: Cartesian3[] } {
  const toWorld = cameraToWorld(pose);
  const tx = Math.tan(CesiumMath.toRadians(pose.hfov) / 2);
  const ty = Math.tan(CesiumMath.toRadians(pose.vfov) / 2);
  const corners = [
    [-tx, ty],
    [tx, ty],
    [tx, -ty],
    [-tx, -ty],
  ].map(([x, y]) => {
    const dir = new Cartesian3(x, y, -1);
    Cartesian3.multiplyByScalar(Cartesian3.normalize(dir, dir), pose.range, dir);
    const world = Matrix4.multiplyByVector(toWorld, new Cartesian4(dir.x, dir.y, dir.z, 1), new Cartesian4());
    return new Cartesian3(world.x, world.y, world.z);
  });
  return { apex: Matrix4.getTranslation(toWorld, new Cartesian3()), corners };
}

/**
 * Where the frustum meets flat ground `groundHeight` metres above the ellipsoid (ECEF): the foot of the
 * camera and, for each corner ray, the point it hits the ground or, for a ray that misses it within range,
 * the ground point under its end. Enough to frame the area a camera watches.
 */
export function groundFootprint(pose: CameraPose, groundHeight = 0): Cartesian3[] {
  const h = CesiumMath.toRadians(pose.heading);
  const p = CesiumMath.toRadians(pose.pitch);
  const forward = [Math.sin(h) * Math.cos(p), Math.cos(h) * Math.cos(p), Math.sin(p)];
  const right = [Math.cos(h), -Math.sin(h), 0];
  const up = [
    right[1] * forward[2] - right[2] * forward[1],
    right[2] * forward[0] - right[0] * forward[2],
    right[0] * forward[1] - right[1] * forward[0],
  ];
  const tx = Math.tan(CesiumMath.toRadians(pose.hfov) / 2);
  const ty = Math.tan(CesiumMath.toRadians(pose.vfov) / 2);
  const above = pose.height - groundHeight;
  const enuToEcef = Transforms.eastNorthUpToFixedFrame(position(pose));
  const toWorld = (e: number, n: number, u: number) =>
    Matrix4.multiplyByPoint(enuToEcef, new Cartesian3(e, n, u), new Cartesian3());
  const points = [toWorld(0, 0, -above)];
  for (const [x, y] of [
    [-tx, ty],
    [tx, ty],
    [tx, -ty],
    [-tx, -ty],
  ]) {
    const d = [0, 1, 2].map((i) => x * right[i] + y * up[i] + forward[i]);
    const len = Math.hypot(d[0], d[1], d[2]);
    const hit = d[2] < 0 ? above / -d[2] : Number.POSITIVE_INFINITY;
    const t = Math.min(hit, pose.range / len);
    points.push(toWorld(d[0] * t, d[1] * t, -above));
  }
  return points;
}
