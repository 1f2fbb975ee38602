import { ecefToEnu, geodeticToEcef, type Mat4, type Vec3 } from "../../crs/geodesy.ts";
import type { ColoredMesh } from "../../tiles3d/feature-glb.ts";
import { circleProfile, cylinder, rectProfile, type SweptMesh, sweep, type V3 } from "../geometry/sweep.ts";
import { cumulativeLengths, distanceAlong, NO_FLOW } from "./flow-distance.ts";
import type { Geo, PipeFeature } from "./pipe-features.ts";

export const TUBE_SEGMENTS = 16;

/**
 * Sides of a round section: 8 for service pipes and small mains (< 0.4 m), 12 up to 1.1 m, 16 above. Seen from the
 * street a smooth-shaded 8-sided DN200 is indistinguishable from a 16-sided one, and tubes are most of a city's
 * tile bytes.
 */
export function tubeSegments(radius: number): number {
  if (radius < 0.2) return 8;
  if (radius < 0.55) return 12;
  return TUBE_SEGMENTS;
}

interface Part {
  color: ColoredMesh["color"];
  positions: number[];
  normals: number[];
  featureIds: number[];
  /** Metres along the flow (see flow-distance.ts). */
  flow: number[];
  indices: number[];
}

/** Meshes the features of one tile in its ENU frame (`frame`: ENU -> ECEF), one part per colour, glTF y-up. */
export class PipeTileBuilder {
  private readonly parts = new Map<string, Part>();
  private readonly scratch: Vec3 = [0, 0, 0];

  constructor(private readonly frame: Mat4) {}

  private enu([lon, lat, h]: Geo): V3 {
    const e = geodeticToEcef(lon, lat, h, this.scratch);
    const p = ecefToEnu(this.frame, e[0], e[1], e[2]);
    return [p[0], p[1], p[2]];
  }

  add(featureId: number, f: PipeFeature): void {
    const s = f.shape;
    let mesh: SweptMesh;
    let path: V3[] | null = null;
    if (s.type === "cylinder") {
      // Vertical in the feature's own up direction: its ENU position at z0 and z1, swept between them.
      const bottom = this.enu([s.centre[0], s.centre[1], s.z0]);
      const top = this.enu([s.centre[0], s.centre[1], s.z1]);
      mesh =
        Math.hypot(top[0] - bottom[0], top[1] - bottom[1]) < 1e-3
          ? cylinder([bottom[0], bottom[1]], bottom[2], top[2], s.radius, tubeSegments(s.radius))
          : sweep([bottom, top], circleProfile(s.radius, tubeSegments(s.radius)), true);
    } else {
      path = s.path.map((g) => this.enu(g));
      mesh =
        s.type === "tube"
          ? sweep(path, circleProfile(s.diameter / 2, tubeSegments(s.diameter / 2)), true)
          : sweep(path, rectProfile(s.width, s.height), false);
    }
    const key = f.color.join(",");
    let part = this.parts.get(key);
    if (!part) {
      part = { color: f.color, positions: [], normals: [], featureIds: [], flow: [], indices: [] };
      this.parts.set(key, part);
    }
    const v0 = part.positions.length / 3;
    const p = mesh.positions;
    const n = mesh.normals;
    const cum = path ? cumulativeLengths(path) : null;
    const total = cum ? cum[cum.length - 1] : 0;
    // ENU (east, north, up) -> glTF y-up (east, up, -north).
    for (let i = 0; i < p.length; i += 3) {
      part.positions.push(p[i], p[i + 2], -p[i + 1]);
      part.normals.push(n[i], n[i + 2], -n[i + 1]);
      part.featureIds.push(featureId);
      if (!path || !cum) part.flow.push(NO_FLOW);
      else {
        const d = distanceAlong(path, cum, p[i], p[i + 1], p[i + 2]);
        part.flow.push(f.flowReversed ? total - d : d);
      }
    }
    for (const i of mesh.indices) part.indices.push(v0 + i);
  }

  get vertexCount(): number {
    let c = 0;
    for (const p of this.parts.values()) c += p.positions.length / 3;
    return c;
  }

  build(): ColoredMesh[] {
    return [...this.parts.values()].map((p) => ({
      color: p.color,
      mesh: {
        positions: Float32Array.from(p.positions),
        normals: Float32Array.from(p.normals),
        featureIds: Uint16Array.from(p.featureIds),
        indices: Uint32Array.from(p.indices),
        extraAttributes: { _FLOW: Float32Array.from(p.flow) },
      },
    }));
  }
}
