import earcut from "earcut";
import { ecefToEnu, geodeticToEcef, type Mat4, type Vec3 } from "../crs/geodesy.ts";
import type { FeatureMesh } from "../tiles3d/feature-glb.ts";
import { growableF32, growableU32 } from "../util/growable.ts";
import type { Footprint } from "./footprint.ts";

/**
 * Builds the white-model mesh of one tile: flat-shaded walls, roof and (for raised parts) a bottom face,
 * in the tile's local ENU frame, emitted in glTF's y-up axes (x = east, y = up, z = -north).
 * Every vertex is placed exactly through ECEF, so walls stay true to the ellipsoid however large the tile.
 */
export class WhiteModelBuilder {
  private readonly positions = growableF32();
  private readonly normals = growableF32();
  private readonly featureIds = growableU32();
  private readonly indices = growableU32();
  private readonly tmp: Vec3 = [0, 0, 0];
  private readonly ecef: Vec3 = [0, 0, 0];

  constructor(private readonly frame: Mat4) {}

  get vertexCount(): number {
    return this.positions.length / 3;
  }

  addBuilding(featureId: number, polygons: Footprint[], base: number, top: number): void {
    for (const p of polygons) this.addPolygon(featureId, p, base, top);
  }

  private localRing(ring: Float64Array, h: number): Float64Array {
    const n = ring.length / 2;
    const out = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      geodeticToEcef(ring[2 * i], ring[2 * i + 1], h, this.ecef);
      ecefToEnu(this.frame, this.ecef[0], this.ecef[1], this.ecef[2], this.tmp);
      out[3 * i] = this.tmp[0];
      out[3 * i + 1] = this.tmp[1];
      out[3 * i + 2] = this.tmp[2];
    }
    return out;
  }

  private addPolygon(fid: number, p: Footprint, base: number, top: number): void {
    const rings = [p.outer, ...p.holes];
    const bottoms = rings.map((r) => this.localRing(r, base));
    const tops = rings.map((r) => this.localRing(r, top));
    // Outer ring counter-clockwise and holes clockwise seen from above, so wall normals face outwards.
    rings.forEach((_, r) => {
      const ccw = signedArea(bottoms[r]) > 0;
      if (ccw !== (r === 0)) {
        reverseRing(bottoms[r]);
        reverseRing(tops[r]);
      }
      this.addWalls(fid, bottoms[r], tops[r]);
    });
    this.addCap(fid, tops, true);
    if (base > 0.01) this.addCap(fid, bottoms, false);
  }

  private addWalls(fid: number, bottom: Float64Array, top: Float64Array): void {
    const n = bottom.length / 3;
    for (let i = 0; i < n; i++) {
      const j = (i + 1) % n;
      const dx = bottom[3 * j] - bottom[3 * i];
      const dy = bottom[3 * j + 1] - bottom[3 * i + 1];
      const len = Math.hypot(dx, dy);
      if (len < 1e-6) continue;
      const nx = dy / len;
      const ny = -dx / len;
      const v0 = this.vertexCount;
      this.vertex(fid, bottom, i, nx, ny, 0);
      this.vertex(fid, bottom, j, nx, ny, 0);
      this.vertex(fid, top, j, nx, ny, 0);
      this.vertex(fid, top, i, nx, ny, 0);
      this.tri(v0, v0 + 1, v0 + 2);
      this.tri(v0, v0 + 2, v0 + 3);
    }
  }

  /** Roof (facing up) or bottom (facing down) of a polygon with holes, triangulated by earcut. */
  private addCap(fid: number, rings: Float64Array[], up: boolean): void {
    const flat: number[] = [];
    const holeIndices: number[] = [];
    for (let r = 0; r < rings.length; r++) {
      if (r > 0) holeIndices.push(flat.length / 2);
      const ring = rings[r];
      for (let i = 0; i < ring.length; i += 3) flat.push(ring[i], ring[i + 1]);
    }
    const tris = earcut(flat, holeIndices, 2);
    if (tris.length === 0) return;
    const v0 = this.vertexCount;
    const nz = up ? 1 : -1;
    for (const ring of rings) for (let i = 0; i < ring.length / 3; i++) this.vertex(fid, ring, i, 0, 0, nz);
    for (let t = 0; t < tris.length; t += 3) {
      const a = tris[t];
      const b = tris[t + 1];
      const c = tris[t + 2];
      const cross =
        (flat[2 * b] - flat[2 * a]) * (flat[2 * c + 1] - flat[2 * a + 1]) -
        (flat[2 * b + 1] - flat[2 * a + 1]) * (flat[2 * c] - flat[2 * a]);
      if (cross > 0 === up) this.tri(v0 + a, v0 + b, v0 + c);
      else this.tri(v0 + a, v0 + c, v0 + b);
    }
  }

  /** Appends a vertex, converting ENU (east, north, up) to glTF y-up (x, y, z) = (east, up, -north). */
  private vertex(fid: number, ring: Float64Array, i: number, ne: number, nn: number, nu: number): void {
    this.positions.push3(ring[3 * i], ring[3 * i + 2], -ring[3 * i + 1]);
    this.normals.push3(ne, nu, -nn);
    this.featureIds.push(fid);
  }

  private tri(a: number, b: number, c: number): void {
    this.indices.push(a);
    this.indices.push(b);
    this.indices.push(c);
  }

  build(): FeatureMesh {
    return {
      positions: this.positions.view(),
      normals: this.normals.view(),
      featureIds: Uint16Array.from(this.featureIds.view()),
      indices: this.indices.view(),
    };
  }
}

function signedArea(ring: Float64Array): number {
  let a = 0;
  const n = ring.length / 3;
  for (let i = 0, j = n - 1; i < n; j = i++)
    a += ring[3 * j] * ring[3 * i + 1] - ring[3 * i] * ring[3 * j + 1];
  return a / 2;
}

function reverseRing(ring: Float64Array): void {
  const n = ring.length / 3;
  for (let i = 0; i < n / 2; i++) {
    const j = n - 1 - i;
    for (let k = 0; k < 3; k++) {
      const t = ring[3 * i + k];
      ring[3 * i + k] = ring[3 * j + k];
      ring[3 * j + k] = t;
    }
  }
}
