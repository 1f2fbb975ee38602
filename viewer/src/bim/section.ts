import {
  Cartesian3,
  type Cesium3DTileset,
  ClippingPlane,
  ClippingPlaneCollection,
  Color,
  Matrix4,
  Transforms,
} from "cesium";
import type { BBox } from "../../../models/layer.ts";

export type Axis = "x" | "y" | "z";
/** Free clipping plane: none, horizontal (moves along z), or vertical moving along x (east) or y (north). */
export type PlaneAxis = "none" | Axis;

/** The section box, as fractions (0..1) of the building's extent along east (x), north (y) and up (z). */
export interface SectionBoxState {
  enabled: boolean;
  min: Record<Axis, number>;
  max: Record<Axis, number>;
}

export interface ClipPlaneState {
  axis: PlaneAxis;
  /** Fraction (0..1) of the building's extent along the plane's axis. */
  position: number;
  /** Keep the other side: by default a horizontal cut keeps what is below, a vertical one what is west/south. */
  flip: boolean;
}

export interface SectionState {
  box: SectionBoxState;
  plane: ClipPlaneState;
}

export function defaultSection(): SectionState {
  return {
    box: { enabled: false, min: { x: 0, y: 0, z: 0 }, max: { x: 1, y: 1, z: 1 } },
    plane: { axis: "none", position: 0.5, flip: false },
  };
}

const EDGE_COLOR = Color.fromCssColorString("#ff7a45");
/** The full box stands this far (metres) outside the building, so it cuts nothing until shrunk. */
const PADDING = 0.5;

const AXES: Axis[] = ["x", "y", "z"];
const UNIT: Record<Axis, Cartesian3> = { x: Cartesian3.UNIT_X, y: Cartesian3.UNIT_Y, z: Cartesian3.UNIT_Z };

/**
 * Section box and free clipping plane of one tileset. Planes are defined in a local east-north-up
 * frame in metres whose origin is the centre of the layer's bbox at its lowest height.
 *
 * A tileset's clipping planes are interpreted in `tileset.clippingPlanesOriginMatrix` (CesiumJS:
 * the root tile's transform times an ENU frame at the root bounding volume's centre — for a tileset
 * with a root transform and a region bounding volume, that is not a meaningful frame) followed by
 * `clippingPlanes.modelMatrix`. So the collection's modelMatrix is set to
 * inverse(originMatrix) x localFrame, which makes the planes live in our local frame whatever the
 * tileset's root transform is. CesiumJS discards a fragment on the negative side of a plane; with
 * `unionClippingRegions` it does so for any plane, so every plane's normal points to the kept side
 * and the kept region is the intersection of those half-spaces.
 */
export class Section {
  /** Local frame (ENU at the bbox centre, lowest height) to ECEF. */
  readonly frame: Matrix4;
  /** Extent of the building in the local frame, metres, padded. */
  readonly min: Cartesian3;
  readonly max: Cartesian3;
  private collection: ClippingPlaneCollection | undefined;

  constructor(
    private readonly tileset: Cesium3DTileset,
    bbox: BBox,
  ) {
    const [west, south, east, north, minH, maxH] = bbox;
    this.frame = Transforms.eastNorthUpToFixedFrame(
      Cartesian3.fromDegrees((west + east) / 2, (south + north) / 2, minH),
    );
    const toLocal = Matrix4.inverseTransformation(this.frame, new Matrix4());
    const min = new Cartesian3(Infinity, Infinity, Infinity);
    const max = new Cartesian3(-Infinity, -Infinity, -Infinity);
    for (const lon of [west, east])
      for (const lat of [south, north])
        for (const height of [minH, maxH]) {
          const p = Matrix4.multiplyByPoint(
            toLocal,
            Cartesian3.fromDegrees(lon, lat, height),
            new Cartesian3(),
          );
          Cartesian3.minimumByComponent(min, p, min);
          Cartesian3.maximumByComponent(max, p, max);
        }
    this.min = Cartesian3.subtract(min, new Cartesian3(PADDING, PADDING, PADDING), min);
    this.max = Cartesian3.add(max, new Cartesian3(PADDING, PADDING, PADDING), max);
  }

  /** Metres (local frame) of a fraction of the extent along an axis. */
  at(axis: Axis, fraction: number): number {
    const lo = this.min[axis];
    return lo + Math.min(1, Math.max(0, fraction)) * (this.max[axis] - lo);
  }

  /** Height above the bbox's lowest point, for display. */
  heightAt(fraction: number): number {
    return this.at("z", fraction);
  }

  /** The planes the state asks for, as (unit normal towards the kept side, distance) in the local frame. */
  planes(state: SectionState): { normal: Cartesian3; distance: number }[] {
    const out: { normal: Cartesian3; distance: number }[] = [];
    if (state.box.enabled) {
      for (const axis of AXES) {
        const lo = this.at(axis, Math.min(state.box.min[axis], state.box.max[axis]));
        const hi = this.at(axis, Math.max(state.box.min[axis], state.box.max[axis]));
        // Keep lo <= p <= hi: n = +axis, d = -lo and n = -axis, d = hi.
        out.push({ normal: Cartesian3.clone(UNIT[axis]), distance: -lo });
        out.push({ normal: Cartesian3.negate(UNIT[axis], new Cartesian3()), distance: hi });
      }
    }
    const { axis, position, flip } = state.plane;
    if (axis !== "none") {
      const c = this.at(axis, position);
      out.push(
        flip
          ? { normal: Cartesian3.clone(UNIT[axis]), distance: -c }
          : { normal: Cartesian3.negate(UNIT[axis], new Cartesian3()), distance: c },
      );
    }
    return out;
  }

  /**
   * Applies the state to the tileset. The collection is created once and kept: CesiumJS (1.140)
   * leaves a tile's model holding a replaced collection after it is destroyed, so planes are
   * switched off with `enabled` and changed in place (moving a plane only rewrites its texture;
   * a different number of planes recompiles the shaders).
   */
  apply(state: SectionState): number {
    const planes = this.planes(state);
    if (planes.length === 0) {
      if (this.collection) this.collection.enabled = false;
      return 0;
    }
    if (!this.collection) {
      this.collection = new ClippingPlaneCollection({
        unionClippingRegions: true,
        edgeColor: EDGE_COLOR,
        edgeWidth: 2,
      });
      this.tileset.clippingPlanes = this.collection;
    }
    const collection = this.collection;
    // Recomputed each time: the origin frame follows the tileset's transform.
    collection.modelMatrix = Matrix4.multiply(
      Matrix4.inverse(originMatrix(this.tileset), new Matrix4()),
      this.frame,
      new Matrix4(),
    );
    if (collection.length === planes.length) {
      planes.forEach((p, i) => {
        const plane = collection.get(i);
        plane.normal = p.normal;
        plane.distance = p.distance;
      });
    } else {
      collection.removeAll();
      for (const p of planes) collection.add(new ClippingPlane(p.normal, p.distance));
    }
    collection.enabled = true;
    return planes.length;
  }
}

/** CesiumJS's (undocumented but stable) frame of a tileset's clipping planes. */
function originMatrix(tileset: Cesium3DTileset): Matrix4 {
  const m = (tileset as unknown as { clippingPlanesOriginMatrix?: Matrix4 }).clippingPlanesOriginMatrix;
  return m ?? tileset.root.computedTransform;
}
