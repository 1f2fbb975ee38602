import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { appendFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { LayerManifest } from "../../models/layer.ts";
import { ecefToGeodetic, enuToEcefMatrix, type Mat4, multiply, transformPoint } from "../crs/geodesy.ts";
import { publishAtomically } from "../publish.ts";
import { Region, type TileJson, type TilesetJson } from "../tiles3d/tileset-json.ts";
import { EnuGrid } from "./enu-grid.ts";
import { type LasCrs, resolveLasCrs } from "./las-crs.ts";
import type { LasHeader } from "./las-header.ts";
import { openLas, type PointBatch } from "./las-reader.ts";
import { buildSubtree, GRID, WORDS } from "./octree.ts";
import { writePointGlb } from "./point-glb.ts";

export interface IngestLasOptions {
  input: string;
  out: string;
  crs?: string;
  name?: string;
  /** Most points held in memory for one subtree (bounds peak memory, not the file size). */
  maxPointsInMemory?: number;
  /** Points kept whole in a leaf. */
  leafPoints?: number;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

export interface IngestLasSummary {
  input: string;
  out: string;
  version: string;
  pointFormat: number;
  compressed: boolean;
  crs: string;
  crsSource: string;
  points: number;
  pointsWritten: number;
  tiles: number;
  chunks: number;
  depth: number;
  bytes: number;
  seconds: number;
  maxPositionErrorMetres: number;
  positionSamples: number;
  bbox: [number, number, number, number, number, number];
}

const LEVELS = 31; // the cube is 2^31 quantization steps wide
const CUBE = 2 ** LEVELS;
const HIST_LEVEL = 6;
const HIST = 1 << HIST_LEVEL;
const MAX_SAMPLES = 2000;

interface NodeInfo {
  key: string;
  count: number;
  /** Bounds of the node's own points, quantized. */
  min: [number, number, number];
  max: [number, number, number];
  children: Set<string>;
}

/** Ingests a LAS/LAZ point cloud as a 3D Tiles 1.1 octree (additive refinement, glTF point primitives). */
export async function ingestLas(opts: IngestLasOptions): Promise<IngestLasSummary> {
  const started = performance.now();
  const maxInMemory = opts.maxPointsInMemory ?? 2_000_000;
  const leafMax = opts.leafPoints ?? 50_000;
  const reader = await openLas(opts.input);
  const h = reader.header;
  try {
    const crs = resolveLasCrs(h, opts.crs);
    const total = h.pointCount;
    const progress = function progress(phase: string, done: number) {
      return opts.onProgress?.({ phase, done, total });
    };

    // The header's bounds place the octree; the histogram pass checks them against every point (headers can be
    // stale) and, if a point lies outside, the pass is repeated with the true bounds.
    let bounds = usableHeaderBounds(h);
    let setup: FrameSetup | undefined;
    let hist = new Uint32Array(0);
    let maxRgb = 0;
    const histShift = LEVELS - HIST_LEVEL;
    const tmp = new Float64Array(3);
    for (let attempt = 0; attempt < 2 && !setup; attempt++) {
      const s = setupFrame(crs, bounds.min, bounds.max);
      const { grid, origin, quantum } = s;
      hist = new Uint32Array(HIST * HIST * HIST);
      const amin: [number, number, number] = [Infinity, Infinity, Infinity];
      const amax: [number, number, number] = [-Infinity, -Infinity, -Infinity];
      let seen = 0;
      for await (const b of reader.batches()) {
        for (let i = 0; i < b.count; i++) {
          const x = b.x[i];
          const y = b.y[i];
          const z = b.z[i];
          if (x < amin[0]) amin[0] = x;
          if (x > amax[0]) amax[0] = x;
          if (y < amin[1]) amin[1] = y;
          if (y > amax[1]) amax[1] = y;
          if (z < amin[2]) amin[2] = z;
          if (z > amax[2]) amax[2] = z;
          grid.toEnu(x, y, z, tmp);
          const hx = quantizeTo(tmp[0], origin[0], quantum) >>> histShift;
          const hy = quantizeTo(tmp[1], origin[1], quantum) >>> histShift;
          const hz = quantizeTo(tmp[2], origin[2], quantum) >>> histShift;
          hist[hx + HIST * (hy + HIST * hz)]++;
        }
        if (b.rgb) for (let i = 0; i < 3 * b.count; i++) if (b.rgb[i] > maxRgb) maxRgb = b.rgb[i];
        seen += b.count;
        progress("histogram", seen);
      }
      if (seen === 0) throw new Error(`${opts.input}: the file holds no points`);
      const slack = (c: number) => Math.abs(h.scale[c]) * 2;
      const inside = [0, 1, 2].every(
        (c) => amin[c] >= bounds.min[c] - slack(c) && amax[c] <= bounds.max[c] + slack(c),
      );
      if (inside) setup = s;
      else bounds = { min: amin, max: amax };
    }
    if (!setup) throw new Error(`${opts.input}: internal error: point bounds did not settle`);
    const { frame, grid, origin, cubeMetres, quantum } = setup;
    const rgbShift = maxRgb > 255 ? 8 : 0;
    const { chunkOf, chunks, upper } = partition(hist, maxInMemory);
    hist = new Uint32Array(0);

    return await publishAtomically(opts.out, async (dir) => {
      const tmpDir = join(dir, ".chunks");
      mkdirSync(tmpDir);
      mkdirSync(join(dir, "tiles"));
      const nodes = new Map<string, NodeInfo>();
      const writes = new WriteQueue(8);
      let bytes = 0;
      let pointsWritten = 0;
      const rootCentre = origin.map((o) => o + cubeMetres / 2);

      const writeNode = async function writeNode(key: string, pts: Uint32Array, count: number) {
        if (count === 0) return;
        const size = cubeMetres / 2 ** (key.length - 1);
        const nodeOrigin = nodeOriginMetres(key, origin, cubeMetres);
        const centre = nodeOrigin.map((o) => o + size / 2);
        const positions = new Float32Array(3 * count);
        const colors = RGB_FORMATS.has(h.pointFormat) ? new Uint8Array(4 * count) : null;
        const intensity = new Float32Array(count);
        const classification = new Float32Array(count);
        const min: [number, number, number] = [CUBE, CUBE, CUBE];
        const max: [number, number, number] = [0, 0, 0];
        for (let i = 0; i < count; i++) {
          const p = i * WORDS;
          for (let c = 0; c < 3; c++) {
            const q = pts[p + c];
            if (q < min[c]) min[c] = q;
            if (q > max[c]) max[c] = q;
            positions[3 * i + c] = origin[c] + q * quantum - centre[c];
          }
          const a = pts[p + 3];
          intensity[i] = a & 0xffff;
          classification[i] = (a >>> 16) & 0xff;
          if (colors) {
            const rgba = pts[p + 4];
            colors[4 * i] = rgba & 0xff;
            colors[4 * i + 1] = (rgba >>> 8) & 0xff;
            colors[4 * i + 2] = (rgba >>> 16) & 0xff;
            colors[4 * i + 3] = 255;
          }
        }
        const glb = writePointGlb({ count, positions, colors, intensity, classification });
        await writes.add(writeFile(join(dir, "tiles", `${key}.glb`), glb));
        bytes += glb.length;
        pointsWritten += count;
        nodes.set(key, { key, count, min, max, children: new Set() });
      };

      // Pass 3: every point goes to the shallowest node above its subtree whose sampling cell is still free, or
      // else to its subtree's chunk file on disk.
      interface UpperNode {
        key: string;
        shift: number;
        bits: Uint8Array;
        words: Uint32Array;
        count: number;
      }
      const upperNodes = new Map<string, UpperNode>();
      for (const key of upper)
        upperNodes.set(key, {
          key,
          // GRID = 2^7 sampling cells per node edge: a node at level L has cells of 2^(31 - L - 7) steps.
          shift: LEVELS - (key.length - 1) - 7,
          bits: new Uint8Array((GRID * GRID * GRID) / 8),
          words: new Uint32Array(1024 * WORDS),
          count: 0,
        });
      const CHUNK_BUFFER = 16384;
      const chunkState = chunks.map((key) => ({
        key,
        // Shallowest first: the key's proper prefixes.
        ancestors: Array.from(
          { length: key.length - 1 },
          (_, d) => upperNodes.get(key.slice(0, d + 1)) as UpperNode,
        ),
        words: new Uint32Array(0),
        count: 0,
      }));
      const flushChunk = (c: (typeof chunkState)[number]) => {
        if (c.count === 0) return;
        // Points of a chunk are a set, so concurrent appends to one file may land in any order.
        const full = c.words.subarray(0, c.count * WORDS);
        c.words = new Uint32Array(CHUNK_BUFFER * WORDS);
        c.count = 0;
        return writes.add(appendFile(join(tmpDir, c.key), new Uint8Array(full.buffer, 0, full.byteLength)));
      };
      const record = new Uint32Array(WORDS);
      const probe: Array<{ src: [number, number, number]; q: [number, number, number] }> = [];
      const sampleEvery = Math.max(1, Math.floor(total / MAX_SAMPLES));
      let seen = 0;
      for await (const b of reader.batches()) {
        for (let i = 0; i < b.count; i++) {
          grid.toEnu(b.x[i], b.y[i], b.z[i], tmp);
          const qx = quantizeTo(tmp[0], origin[0], quantum);
          const qy = quantizeTo(tmp[1], origin[1], quantum);
          const qz = quantizeTo(tmp[2], origin[2], quantum);
          pack(b, i, qx, qy, qz, rgbShift, record);
          if ((seen + i) % sampleEvery === 0 && probe.length < MAX_SAMPLES)
            probe.push({ src: [b.x[i], b.y[i], b.z[i]], q: [qx, qy, qz] });
          const c =
            chunkState[chunkOf[(qx >>> histShift) + HIST * ((qy >>> histShift) + HIST * (qz >>> histShift))]];
          let placed = false;
          for (let a = 0; a < c.ancestors.length; a++) {
            const u = c.ancestors[a];
            const cell =
              ((qx >>> u.shift) & (GRID - 1)) +
              GRID * (((qy >>> u.shift) & (GRID - 1)) + GRID * ((qz >>> u.shift) & (GRID - 1)));
            const bit = 1 << (cell & 7);
            if (u.bits[cell >>> 3] & bit) continue;
            u.bits[cell >>> 3] |= bit;
            if ((u.count + 1) * WORDS > u.words.length) {
              const grown = new Uint32Array(u.words.length * 2);
              grown.set(u.words);
              u.words = grown;
            }
            u.words.set(record, u.count * WORDS);
            u.count++;
            placed = true;
            break;
          }
          if (placed) continue;
          if (c.words.length === 0) c.words = new Uint32Array(CHUNK_BUFFER * WORDS);
          const k = c.count * WORDS;
          const w = c.words;
          w[k] = record[0];
          w[k + 1] = record[1];
          w[k + 2] = record[2];
          w[k + 3] = record[3];
          w[k + 4] = record[4];
          if (++c.count === CHUNK_BUFFER) await flushChunk(c);
        }
        seen += b.count;
        progress("distribute", seen);
      }
      for (const c of chunkState) {
        await flushChunk(c);
        c.words = new Uint32Array(0);
      }
      await writes.drain();

      // Pass 4: each subtree in memory, written as soon as it is built.
      let built = 0;
      for (const key of chunks) {
        const file = join(tmpDir, key);
        let data: Buffer;
        try {
          data = readFileSync(file);
        } catch {
          continue; // every point of this cell went to upper levels
        }
        rmSync(file);
        const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4);
        const count = words.length / WORDS;
        const size = CUBE / 2 ** (key.length - 1);
        const [ox, oy, oz] = nodeOriginQ(key);
        const pending: Array<{ key: string; points: Uint32Array; count: number }> = [];
        buildSubtree(key, key.length - 1, words, count, ox, oy, oz, size, leafMax, (n) => {
          pending.push({ key: n.key, points: n.points, count: n.count });
        });
        for (const n of pending) await writeNode(n.key, n.points, n.count);
        built += count;
        progress("tiles", built + sumUpper(upperNodes));
      }
      for (const [key, u] of upperNodes) await writeNode(key, u.words, u.count);
      await writes.drain();
      progress("tiles", total);
      rmSync(tmpDir, { recursive: true, force: true });

      // Tree structure: link every written node to its closest written ancestor.
      for (const key of nodes.keys()) {
        for (let d = key.length - 1; d >= 1; d--) {
          const parent = nodes.get(key.slice(0, d));
          if (parent) {
            parent.children.add(key);
            break;
          }
        }
      }
      const rootKeys = [...nodes.keys()].filter(
        (k) => ![...Array(k.length - 1).keys()].some((d) => nodes.has(k.slice(0, d + 1))),
      );
      const rootFrame = multiply(frame, translation(rootCentre[0], rootCentre[1], rootCentre[2]));
      const region = new Region();
      let maxDepth = 0;
      const tileJson = (
        key: string,
        parentCentre: number[],
      ): { tile: TileJson; min: number[]; max: number[] } => {
        const n = nodes.get(key) as NodeInfo;
        const size = cubeMetres / 2 ** (key.length - 1);
        const centre = nodeOriginMetres(key, origin, cubeMetres).map((o) => o + size / 2);
        maxDepth = Math.max(maxDepth, key.length - 1);
        const min = n.min.map((q, c) => origin[c] + q * quantum);
        const max = n.max.map((q, c) => origin[c] + q * quantum);
        const children: TileJson[] = [];
        for (const ck of [...n.children].sort()) {
          const child = tileJson(ck, centre);
          children.push(child.tile);
          for (let c = 0; c < 3; c++) {
            min[c] = Math.min(min[c], child.min[c]);
            max[c] = Math.max(max[c], child.max[c]);
          }
        }
        const pad = 0.01;
        const boxCentre = [0, 1, 2].map((c) => (min[c] + max[c]) / 2 - centre[c]);
        const halves = [0, 1, 2].map((c) => (max[c] - min[c]) / 2 + pad);
        const tile: TileJson = {
          boundingVolume: {
            box: [...boxCentre, halves[0], 0, 0, 0, halves[1], 0, 0, 0, halves[2]],
          },
          // Twice the sampling spacing: CesiumJS refines once the points would be drawn more than a few pixels apart.
          geometricError: children.length ? (2 * size) / GRID : 0,
          refine: "ADD",
          transform: translation(
            centre[0] - parentCentre[0],
            centre[1] - parentCentre[1],
            centre[2] - parentCentre[2],
          ),
          content: { uri: `tiles/${key}.glb` },
        };
        if (children.length) tile.children = children;
        return { tile, min, max };
      };
      let root: TileJson;
      if (rootKeys.length === 1 && rootKeys[0] === "r") {
        root = tileJson("r", rootCentre).tile;
      } else {
        // The root cell kept no points (every point went below a deeper cut): an empty root groups the subtrees.
        const built = rootKeys.sort().map((k) => tileJson(k, rootCentre));
        const min = [0, 1, 2].map((c) => Math.min(...built.map((b) => b.min[c])));
        const max = [0, 1, 2].map((c) => Math.max(...built.map((b) => b.max[c])));
        root = {
          boundingVolume: {
            box: [
              ...[0, 1, 2].map((c) => (min[c] + max[c]) / 2 - rootCentre[c]),
              (max[0] - min[0]) / 2 + 0.01,
              0,
              0,
              0,
              (max[1] - min[1]) / 2 + 0.01,
              0,
              0,
              0,
              (max[2] - min[2]) / 2 + 0.01,
            ],
          },
          geometricError: (2 * cubeMetres) / GRID,
          refine: "ADD",
          children: built.map((b) => b.tile),
        };
      }
      root.transform = rootFrame;
      // Geographic extent for the catalog: corners of the ENU data bounds.
      for (const n of nodes.values())
        for (const corner of [n.min, n.max]) {
          const e = transformPoint(
            frame,
            ...(corner.map((q, c) => origin[c] + q * quantum) as [number, number, number]),
          );
          const g = ecefToGeodetic(e[0], e[1], e[2]);
          region.addPoint(g[0], g[1], g[2]);
        }

      const tileset: TilesetJson = {
        asset: { version: "1.1", generator: "CIM Twin cim ingest las" },
        geometricError: (cubeMetres / GRID) * 4,
        root,
      };
      await writeFile(join(dir, "tileset.json"), JSON.stringify(tileset));
      const manifest: LayerManifest = {
        formatVersion: 1,
        type: "pointcloud",
        name: opts.name ?? basename(opts.input).replace(/\.la[sz]$/i, ""),
        crs: crs.id,
        bbox: region.toBBox(),
        featureCount: 0,
        tileCount: nodes.size,
        createdAt: new Date().toISOString(),
        generator: `cim ingest las ${opts.input}`,
      };
      await writeFile(join(dir, "layer.json"), JSON.stringify(manifest, null, 2));

      // Accuracy: ECEF a reader reconstructs (float32 offset from the root centre, the largest offsets any tile
      // has, plus the float64 transform) vs proj4 applied directly to the source coordinates.
      let maxErr = 0;
      for (const s of probe) {
        const local = s.q.map((q, c) => Math.fround(origin[c] + q * quantum - rootCentre[c])) as [
          number,
          number,
          number,
        ];
        const stored = transformPoint(rootFrame, local[0], local[1], local[2]);
        const ref = crs.toEcefReference(s.src[0], s.src[1], s.src[2]);
        maxErr = Math.max(maxErr, Math.hypot(stored[0] - ref[0], stored[1] - ref[1], stored[2] - ref[2]));
      }
      if (pointsWritten !== total)
        throw new Error(`${opts.input}: internal error: wrote ${pointsWritten} of ${total} points`);
      return {
        input: opts.input,
        out: opts.out,
        version: `${h.versionMajor}.${h.versionMinor}`,
        pointFormat: h.pointFormat,
        compressed: h.compressed,
        crs: crs.id,
        crsSource: crs.source,
        points: total,
        pointsWritten,
        tiles: nodes.size,
        chunks: chunks.length,
        depth: maxDepth,
        bytes,
        seconds: (performance.now() - started) / 1000,
        maxPositionErrorMetres: maxErr,
        positionSamples: probe.length,
        bbox: region.toBBox(),
      };
    });
  } finally {
    await reader.close();
  }
}

const RGB_FORMATS = new Set([2, 3, 5, 7, 8, 10]);

/** Keeps up to `limit` file writes in flight so encoding overlaps the disk; the first failure is rethrown. */
class WriteQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  constructor(private readonly limit: number) {}

  async add(write: Promise<void>): Promise<void> {
    const tracked = write.then(
      () => {
        this.inFlight.delete(tracked);
      },
      (err) => {
        this.inFlight.delete(tracked);
        this.failure ??= err;
      },
    );
    this.inFlight.add(tracked);
    if (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}

function quantizeTo(v: number, origin: number, quantum: number): number {
  const q = Math.round((v - origin) / quantum);
  return q < 0 ? 0 : q >= CUBE ? CUBE - 1 : q;
}

type Bounds = { min: [number, number, number]; max: [number, number, number] };

function usableHeaderBounds(h: LasHeader): Bounds {
  const ok = [0, 1, 2].every(
    (c) => Number.isFinite(h.min[c]) && Number.isFinite(h.max[c]) && h.min[c] <= h.max[c],
  );
  // Unusable header bounds give a box that the first histogram pass is sure to reject, so it re-runs on true ones.
  return ok ? { min: h.min, max: h.max } : { min: [0, 0, 0], max: [0, 0, 0] };
}

interface FrameSetup {
  frame: Mat4;
  grid: EnuGrid;
  origin: number[];
  cubeMetres: number;
  quantum: number;
}

/** The ENU frame at the data's centre, the interpolation grid and the octree's cube for source bounds min..max. */
function setupFrame(crs: LasCrs, smin: [number, number, number], smax: [number, number, number]): FrameSetup {
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
  const cubeMetres = extent * 1.01 + 1;
  return {
    frame,
    grid,
    origin: [0, 1, 2].map((c) => (emin[c] + emax[c]) / 2 - cubeMetres / 2),
    cubeMetres,
    quantum: cubeMetres / CUBE,
  };
}

function pack(
  b: PointBatch,
  i: number,
  qx: number,
  qy: number,
  qz: number,
  rgbShift: number,
  out: Uint32Array,
): void {
  out[0] = qx;
  out[1] = qy;
  out[2] = qz;
  out[3] =
    (b.intensity[i] |
      (b.classification[i] << 16) |
      ((b.returnNumber[i] | (b.numberOfReturns[i] << 4)) << 24)) >>>
    0;
  if (b.rgb) {
    const r = Math.min(255, b.rgb[3 * i] >> rgbShift);
    const g = Math.min(255, b.rgb[3 * i + 1] >> rgbShift);
    const bl = Math.min(255, b.rgb[3 * i + 2] >> rgbShift);
    out[4] = (r | (g << 8) | (bl << 16) | (255 << 24)) >>> 0;
  } else out[4] = 0xffffffff;
}

function sumUpper(m: Map<string, { count: number }>): number {
  let s = 0;
  for (const v of m.values()) s += v.count;
  return s;
}

/**
 * Cuts the octree where a subtree's points fit in memory, from the histogram of the 64^3 grid. Returns, per
 * histogram cell, the key of its subtree ("chunk"), the chunks, and the nodes above them.
 */
function partition(
  hist: Uint32Array,
  maxInMemory: number,
): { chunkOf: Int32Array; chunks: string[]; upper: string[] } {
  const chunkOf = new Int32Array(hist.length).fill(-1);
  const chunks: string[] = [];
  const upper: string[] = [];
  const count = (level: number, x: number, y: number, z: number): number => {
    const span = HIST >> level;
    let s = 0;
    for (let k = z * span; k < (z + 1) * span; k++)
      for (let j = y * span; j < (y + 1) * span; j++)
        for (let i = x * span; i < (x + 1) * span; i++) s += hist[i + HIST * (j + HIST * k)];
    return s;
  };
  const visit = (key: string, level: number, x: number, y: number, z: number, n: number) => {
    if (n === 0) return;
    if (n <= maxInMemory || level === HIST_LEVEL) {
      const index = chunks.push(key) - 1;
      const span = HIST >> level;
      for (let k = z * span; k < (z + 1) * span; k++)
        for (let j = y * span; j < (y + 1) * span; j++)
          for (let i = x * span; i < (x + 1) * span; i++) chunkOf[i + HIST * (j + HIST * k)] = index;
      return;
    }
    upper.push(key);
    for (let o = 0; o < 8; o++) {
      const cx = 2 * x + (o & 1);
      const cy = 2 * y + ((o >> 1) & 1);
      const cz = 2 * z + ((o >> 2) & 1);
      visit(key + o, level + 1, cx, cy, cz, count(level + 1, cx, cy, cz));
    }
  };
  let totalPoints = 0;
  for (const v of hist) totalPoints += v;
  visit("r", 0, 0, 0, 0, totalPoints);
  return { chunkOf, chunks, upper };
}

function nodeOriginQ(key: string): [number, number, number] {
  const o: [number, number, number] = [0, 0, 0];
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

function nodeOriginMetres(key: string, origin: number[], cubeMetres: number): number[] {
  return nodeOriginQ(key).map((q, c) => origin[c] + (q / CUBE) * cubeMetres);
}

function translation(x: number, y: number, z: number): Mat4 {
  return [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, x, y, z, 1];
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
