import { ecefToEnu, geodeticToEcef, type Mat4, type Vec3 } from "../../crs/geodesy.ts";
import type { ColoredMesh } from "../../tiles3d/feature-glb.ts";
import { cumulativeLengths } from "./flow-distance.ts";
import type { PipeFeature } from "./pipe-features.ts";

interface Part {
  color: ColoredMesh["color"];
  positions: number[];
  featureIds: number[];
  /** Metres along the flow (see flow-distance.ts). */
  flow: number[];
  indices: number[];
}

/**
 * The far level of detail of pipes: each link's centreline as glTF LINES in the tile's ENU frame (glTF y-up), one
 * part per colour. Lines have no normals, so Cesium draws them unlit in the class colour, one pixel wide at any
 * distance (a 0.3 m tube is sub-pixel beyond a few hundred metres); they carry the same feature ids and property
 * rows as the tubes, so picking and 3D Tiles styling by `id` work on every level.
 */
export class PipeLineBuilder {
  private readonly parts = new Map<string, Part>();
  private readonly scratch: Vec3 = [0, 0, 0];

  constructor(private readonly frame: Mat4) {}

  /** Adds a link's centreline; node symbols (cylinders) are not drawn at this level. */
  add(featureId: number, f: PipeFeature): void {
    if (f.shape.type === "cylinder") return;
    const key = f.color.join(",");
    let part = this.parts.get(key);
    if (!part) {
      part = { color: f.color, positions: [], featureIds: [], flow: [], indices: [] };
      this.parts.set(key, part);
    }
    const v0 = part.positions.length / 3;
    const path = f.shape.path;
    const enu = path.map(([lon, lat, h]) => {
      const e = geodeticToEcef(lon, lat, h, this.scratch);
      const p = ecefToEnu(this.frame, e[0], e[1], e[2]);
      return [p[0], p[1], p[2]] as [number, number, number];
    });
    const cum = cumulativeLengths(enu);
    const total = cum[cum.length - 1];
    enu.forEach((p, i) => {
      // ENU (east, north, up) -> glTF y-up (east, up, -north).
      part.positions.push(p[0], p[2], -p[1]);
      part.featureIds.push(featureId);
      part.flow.push(f.flowReversed ? total - cum[i] : cum[i]);
    });
    for (let i = 1; i < path.length; i++) part.indices.push(v0 + i - 1, v0 + i);
  }

  build(): ColoredMesh[] {
    return [...this.parts.values()].map((p) => ({
      color: p.color,
      mesh: {
        mode: "LINES",
        positions: Float32Array.from(p.positions),
        normals: new Float32Array(0),
        featureIds: Uint16Array.from(p.featureIds),
        indices: Uint32Array.from(p.indices),
        extraAttributes: { _FLOW: Float32Array.from(p.flow) },
      },
    }));
  }
}
