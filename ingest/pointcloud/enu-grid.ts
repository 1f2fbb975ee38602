import { ecefToEnu, geodeticToEcef, type Mat4 } from "../crs/geodesy.ts";
import type { LasCrs } from "./las-crs.ts";

/**
 * Source (x, y, z) -> local ENU (metres) by bilinear interpolation of exact proj4 conversions on a grid over the
 * data's extent. Calling proj4 per point would cost more than everything else in the ingest; with grid cells of
 * at most ~60 m the interpolation error of a map projection plus Earth curvature is far below a millimetre (it
 * grows with the square of the cell size over the Earth radius). Heights enter linearly (position + h * normal),
 * so two z levels are exact. The ingest measures the real error against proj4 on a sample of points.
 */
export class EnuGrid {
  private readonly nx: number;
  private readonly ny: number;
  private readonly x0: number;
  private readonly y0: number;
  private readonly dx: number;
  private readonly dy: number;
  /** Per grid node: ENU of (x, y, z0) and the ENU change per unit of source z. */
  private readonly base: Float64Array;
  private readonly up: Float64Array;

  constructor(
    crs: LasCrs,
    readonly frame: Mat4,
    min: [number, number, number],
    max: [number, number, number],
    metresPerUnit: number,
  ) {
    const spanX = Math.max(max[0] - min[0], 1e-9);
    const spanY = Math.max(max[1] - min[1], 1e-9);
    const cell = 60 / metresPerUnit;
    this.nx = Math.min(512, Math.max(1, Math.ceil(spanX / cell)));
    this.ny = Math.min(512, Math.max(1, Math.ceil(spanY / cell)));
    this.x0 = min[0];
    this.y0 = min[1];
    this.dx = spanX / this.nx;
    this.dy = spanY / this.ny;
    const count = (this.nx + 1) * (this.ny + 1);
    this.base = new Float64Array(count * 3);
    this.up = new Float64Array(count * 3);
    const z0 = min[2];
    const z1 = max[2] > min[2] ? max[2] : min[2] + 1;
    for (let j = 0; j <= this.ny; j++) {
      for (let i = 0; i <= this.nx; i++) {
        const x = this.x0 + i * this.dx;
        const y = this.y0 + j * this.dy;
        const a = this.exact(crs, x, y, z0);
        const b = this.exact(crs, x, y, z1);
        const k = 3 * (j * (this.nx + 1) + i);
        for (let c = 0; c < 3; c++) {
          this.up[k + c] = (b[c] - a[c]) / (z1 - z0);
          this.base[k + c] = a[c] - z0 * this.up[k + c];
        }
      }
    }
  }

  private exact(crs: LasCrs, x: number, y: number, z: number): [number, number, number] {
    const [lon, lat, h] = crs.toGeodetic(x, y, z);
    const e = geodeticToEcef(lon, lat, h);
    const l = ecefToEnu(this.frame, e[0], e[1], e[2]);
    return [l[0], l[1], l[2]];
  }

  /** Writes the ENU position of source (x, y, z) into out[0..2]. Points outside the grid are extrapolated. */
  toEnu(x: number, y: number, z: number, out: Float64Array): void {
    let fx = (x - this.x0) / this.dx;
    let fy = (y - this.y0) / this.dy;
    let i = Math.floor(fx);
    let j = Math.floor(fy);
    if (i < 0) i = 0;
    else if (i >= this.nx) i = this.nx - 1;
    if (j < 0) j = 0;
    else if (j >= this.ny) j = this.ny - 1;
    fx -= i;
    fy -= j;
    const w = this.nx + 1;
    const k00 = 3 * (j * w + i);
    const k10 = k00 + 3;
    const k01 = k00 + 3 * w;
    const k11 = k01 + 3;
    const a00 = (1 - fx) * (1 - fy);
    const a10 = fx * (1 - fy);
    const a01 = (1 - fx) * fy;
    const a11 = fx * fy;
    const b = this.base;
    const u = this.up;
    for (let c = 0; c < 3; c++) {
      out[c] =
        a00 * (b[k00 + c] + z * u[k00 + c]) +
        a10 * (b[k10 + c] + z * u[k10 + c]) +
        a01 * (b[k01 + c] + z * u[k01 + c]) +
        a11 * (b[k11 + c] + z * u[k11 + c]);
    }
  }
}
