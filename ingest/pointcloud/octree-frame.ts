import { enuToEcefMatrix, type Mat4 } from "../crs/geodesy.ts";
import { EnuGrid } from "./enu-grid.ts";
import type { LasCrs } from "./las-crs.ts";
import type { LasHeader } from "./las-header.ts";

export const LEVELS = 31; // the cube is 2^31 quantization steps wide
export const CUBE = 2 ** LEVELS;

export type Vec3Tuple = [number, number, number];

/**
 * Where the octree's cube lies and how source points enter it: `toOctree` maps source (x, y, z) to the octree's
 * coordinates (metres of a local ENU frame for 3D Tiles, the source CRS itself for Potree), and a point is stored
 * as its offset from `origin` in steps of `quantum`.
 */
export interface OctreeFrame {
  origin: Vec3Tuple;
  /** Edge of the cube in octree units. */
  cubeSize: number;
  quantum: number;
  toOctree(x: number, y: number, z: number, out: Float64Array): void;
}

/** The ENU frame of a 3D Tiles point cloud: octree units are metres east, north, up of `frame`'s origin. */
export interface EnuFrame extends OctreeFrame {
  frame: Mat4;
}

export function quantizeTo(v: number, origin: number, quantum: number): number {
  const q = Math.round((v - origin) / quantum);
  return q < 0 ? 0 : q >= CUBE ? CUBE - 1 : q;
}

/** The ENU frame at the data's centre, the interpolation grid and the octree's cube for source bounds min..max. */
export function enuFrame(crs: LasCrs, smin: Vec3Tuple, smax: Vec3Tuple): EnuFrame {
  const cx = (smin[0] + smax[0]) / 2;
  const cy = (smin[1] + smax[1]) / 2;
  const [lon0, lat0, h0] = crs.toGeodetic(cx, cy, (smin[2] + smax[2]) / 2);
  const frame = enuToEcefMatrix(lon0, lat0, h0);
  const metresPerUnit = approxMetresPerUnit(crs, cx, cy, smin[2]);
  const grid = new EnuGrid(crs, frame, smin, smax, metresPerUnit);
  // ENU extent of the data: interpolated positions stay inside the hull of grid-node values, so sampling the box's
  // boundary densely bounds them up to the curvature inside a cell, covered by the margin.
  const emin = [Infinity, Infinity, Infinity];
  const emax = [-Infinity, -Infinity, -Infinity];
  const tmp = new Float64Array(3);
  for (let s = 0; s <= 64; s++)
    for (let t = 0; t <= 64; t++)
      for (const z of [smin[2], smax[2]]) {
        grid.toEnu(
          smin[0] + ((smax[0] - smin[0]) * s) / 64,
          smin[1] + ((smax[1] - smin[1]) * t) / 64,
          z,
          tmp,
        );
        for (let c = 0; c < 3; c++) {
          if (tmp[c] < emin[c]) emin[c] = tmp[c];
          if (tmp[c] > emax[c]) emax[c] = tmp[c];
        }
      }
  const extent = Math.max(emax[0] - emin[0], emax[1] - emin[1], emax[2] - emin[2]);
  const cubeSize = extent * 1.01 + 1;
  return {
    frame,
    origin: [0, 1, 2].map((c) => (emin[c] + emax[c]) / 2 - cubeSize / 2) as Vec3Tuple,
    cubeSize,
    quantum: cubeSize / CUBE,
    toOctree: (x, y, z, out) => grid.toEnu(x, y, z, out),
  };
}

/**
 * The source CRS itself as the octree's space (Potree keeps the file's coordinates). The step is the LAS scale
 * divided by a power of two and the origin sits on the LAS grid, so when the three axes share one scale (the usual
 * case) every stored position is exactly the file's.
 */
export function sourceFrame(h: LasHeader, smin: Vec3Tuple, smax: Vec3Tuple): OctreeFrame {
  const extent = Math.max(smax[0] - smin[0], smax[1] - smin[1], smax[2] - smin[2]);
  const scales = h.scale.map((s) => Math.abs(s)).filter((s) => s > 0 && Number.isFinite(s));
  const step = scales.length ? Math.min(...scales) : Math.max(extent, 1) / 2 ** 20;
  const needed = extent + 8 * step;
  const shift = Math.floor(Math.log2((CUBE * step) / needed));
  const quantum = step / 2 ** shift;
  const cubeSize = CUBE * quantum;
  const origin = [0, 1, 2].map((c) => {
    const centre = (smin[c] + smax[c]) / 2;
    const s = Math.abs(h.scale[c]) > 0 ? Math.abs(h.scale[c]) : step;
    const offset = Number.isFinite(h.offset[c]) ? h.offset[c] : 0;
    return offset + Math.floor((centre - cubeSize / 2 - offset) / s) * s;
  }) as Vec3Tuple;
  return {
    origin,
    cubeSize,
    quantum,
    toOctree: (x, y, z, out) => {
      out[0] = x;
      out[1] = y;
      out[2] = z;
    },
  };
}

/** Minimum corner of a node's cube in quantized units; keys are "r" plus one octant digit (x = 1, y = 2, z = 4). */
export function nodeOriginQ(key: string): Vec3Tuple {
  const o: Vec3Tuple = [0, 0, 0];
  let size = CUBE;
  for (let i = 1; i < key.length; i++) {
    size /= 2;
    const d = key.charCodeAt(i) - 48;
    if (d & 1) o[0] += size;
    if (d & 2) o[1] += size;
    if (d & 4) o[2] += size;
  }
  return o;
}

export function nodeOrigin(key: string, f: OctreeFrame): Vec3Tuple {
  return nodeOriginQ(key).map((q, c) => f.origin[c] + (q / CUBE) * f.cubeSize) as Vec3Tuple;
}

function approxMetresPerUnit(
  crs: { toGeodetic(x: number, y: number, z: number): [number, number, number] },
  x: number,
  y: number,
  z: number,
): number {
  const a = crs.toGeodetic(x, y, z);
  const b = crs.toGeodetic(x + 1, y, z);
  const k = Math.PI / 180;
  const dx = (b[0] - a[0]) * k * 6378137 * Math.cos(a[1] * k);
  const dy = (b[1] - a[1]) * k * 6378137;
  return Math.max(Math.hypot(dx, dy), 1e-9);
}
