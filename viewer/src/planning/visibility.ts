import { Cartesian3, Cartographic, Math as CesiumMath, Transforms } from "cesium";
import type { GroundPoint } from "../pipes/draw-tool.ts";
import type { BuildingGeometry } from "./building-geometry.ts";
import { firstHit } from "./ray-test.ts";

export interface LineOfSightResult {
  from: GroundPoint;
  to: GroundPoint;
  visible: boolean;
  /** Where the sight line first meets a building, when blocked. */
  blockedAt: GroundPoint | null;
  blockedBy: string | null;
  distance: number;
}

/** Observer eye above a picked ground point, metres. */
export const EYE_HEIGHT = 1.6;

/** Sight line from an observer (eye height added) to a target point, tested against every building. */
export function lineOfSight(
  buildings: readonly BuildingGeometry[],
  from: GroundPoint,
  to: GroundPoint,
): LineOfSightResult {
  const eye = { ...from, height: from.height + EYE_HEIGHT };
  const a = Cartesian3.fromDegrees(eye.lon, eye.lat, eye.height);
  const b = Cartesian3.fromDegrees(to.lon, to.lat, to.height);
  const distance = Cartesian3.distance(a, b);
  const dir = Cartesian3.normalize(Cartesian3.subtract(b, a, new Cartesian3()), new Cartesian3());
  // The target itself may lie on a facade: stop just short of it.
  const hit = firstHit(buildings, a, dir, distance - 0.1);
  if (!hit) return { from: eye, to, visible: true, blockedAt: null, blockedBy: null, distance };
  const at = Cartesian3.add(
    a,
    Cartesian3.multiplyByScalar(dir, hit.distance, new Cartesian3()),
    new Cartesian3(),
  );
  return {
    from: eye,
    to,
    visible: false,
    blockedAt: toGround(at),
    blockedBy: hit.building.id,
    distance,
  };
}

export interface ViewshedCell {
  /** Corners of the ring-sector cell on the ground, [lon, lat]. */
  ring: [number, number][];
  visible: boolean;
}

export interface ViewshedResult {
  observer: GroundPoint;
  radius: number;
  cells: ViewshedCell[];
  /** Share of the cells the observer sees, 0..1. */
  visibleShare: number;
}

/**
 * Viewshed on the ground around an observer: the disc is cut into ring sectors and each is visible when the
 * sight line from the eye to its centre (a little above the ground) meets no building. A CPU ray cast against
 * the buildings' triangles, so it is independent of the GPU (these machines often render in software).
 */
export function viewshed(
  buildings: readonly BuildingGeometry[],
  observer: GroundPoint,
  radius: number,
  sectors = 90,
  rings = 30,
): ViewshedResult {
  const eye = Cartesian3.fromDegrees(observer.lon, observer.lat, observer.height + EYE_HEIGHT);
  const frame = Transforms.eastNorthUpToFixedFrame(
    Cartesian3.fromDegrees(observer.lon, observer.lat, observer.height),
  );
  const near = buildings.filter((b) => {
    const centre = Cartesian3.fromDegrees(b.centre[0], b.centre[1], observer.height);
    const extent = Math.hypot(b.box[3] - b.box[0], b.box[4] - b.box[1], b.box[5] - b.box[2]);
    return Cartesian3.distance(centre, eye) < radius + extent;
  });
  const local = (east: number, north: number): [number, number] => {
    const p = new Cartesian3(
      frame[12] + frame[0] * east + frame[4] * north,
      frame[13] + frame[1] * east + frame[5] * north,
      frame[14] + frame[2] * east + frame[6] * north,
    );
    const g = toGround(p);
    return [g.lon, g.lat];
  };
  const cells: ViewshedCell[] = [];
  const dir = new Cartesian3();
  let visibleCount = 0;
  for (let s = 0; s < sectors; s++) {
    const a0 = (s / sectors) * 2 * Math.PI;
    const a1 = ((s + 1) / sectors) * 2 * Math.PI;
    const am = (a0 + a1) / 2;
    for (let r = 0; r < rings; r++) {
      const r0 = (r / rings) * radius;
      const r1 = ((r + 1) / rings) * radius;
      const rm = (r0 + r1) / 2;
      const target = Cartesian3.fromDegrees(
        ...local(Math.sin(am) * rm, Math.cos(am) * rm),
        observer.height + 0.3,
      );
      const distance = Cartesian3.distance(eye, target);
      Cartesian3.normalize(Cartesian3.subtract(target, eye, dir), dir);
      const visible = !firstHit(near, eye, dir, distance);
      if (visible) visibleCount++;
      cells.push({
        ring: [
          local(Math.sin(a0) * r0, Math.cos(a0) * r0),
          local(Math.sin(a0) * r1, Math.cos(a0) * r1),
          local(Math.sin(a1) * r1, Math.cos(a1) * r1),
          local(Math.sin(a1) * r0, Math.cos(a1) * r0),
        ],
        visible,
      });
    }
  }
  return { observer, radius, cells, visibleShare: cells.length ? visibleCount / cells.length : 0 };
}

function toGround(p: Cartesian3): GroundPoint {
  const g = Cartographic.fromCartesian(p);
  return { lon: CesiumMath.toDegrees(g.longitude), lat: CesiumMath.toDegrees(g.latitude), height: g.height };
}
