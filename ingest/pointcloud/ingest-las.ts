import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { publishAtomically } from "../publish.ts";
import { Region } from "../tiles3d/tileset-json.ts";
import { type LasCrs, resolveLasCrs } from "./las-crs.ts";
import type { LasHeader } from "./las-header.ts";
import { openLas, type PointBatch } from "./las-reader.ts";
import { buildSubtree, GRID, WORDS } from "./octree.ts";
import {
  CUBE,
  type EnuFrame,
  enuFrame,
  LEVELS,
  nodeOriginQ,
  type OctreeFrame,
  quantizeTo,
  sourceFrame,
  type Vec3Tuple,
} from "./octree-frame.ts";
import { type OctreeWriter, type PositionProbe, RGB_FORMATS } from "./octree-writer.ts";
import { PointTilesetWriter } from "./point-tileset-writer.ts";
import { PotreeWriter } from "./potree-writer.ts";
import { WriteQueue } from "./write-queue.ts";

export type PointCloudFormat = "3dtiles" | "potree";

export interface IngestLasOptions {
  input: string;
  out: string;
  /** "3dtiles" (default): 3D Tiles 1.1 in an ENU frame; "potree": Potree 2.0 in the source CRS. */
  format?: PointCloudFormat;
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
  format: PointCloudFormat;
  version: string;
  pointFormat: number;
  compressed: boolean;
  crs: string;
  crsSource: string;
  points: number;
  pointsWritten: number;
  /** Tiles (3D Tiles) or nodes holding points (Potree). */
  tiles: number;
  chunks: number;
  depth: number;
  bytes: number;
  seconds: number;
  maxPositionErrorMetres: number;
  positionSamples: number;
  bbox: [number, number, number, number, number, number];
}

const HIST_LEVEL = 6;
const HIST = 1 << HIST_LEVEL;
const HIST_SHIFT = LEVELS - HIST_LEVEL;
const MAX_SAMPLES = 2000;
const CHUNK_BUFFER = 16384;

/**
 * Ingests a LAS/LAZ point cloud as a Potree-style octree (additive refinement, spacing-based subsampling) written
 * as 3D Tiles 1.1 (glTF point tiles) or Potree 2.0.
 */
export async function ingestLas(opts: IngestLasOptions): Promise<IngestLasSummary> {
  const started = performance.now();
  const format = opts.format ?? "3dtiles";
  const maxInMemory = opts.maxPointsInMemory ?? 2_000_000;
  const leafMax = opts.leafPoints ?? 50_000;
  const reader = await openLas(opts.input);
  const h = reader.header;
  try {
    const crs = resolveLasCrs(h, opts.crs);
    const total = h.pointCount;
    const progress = (phase: string, done: number) => opts.onProgress?.({ phase, done, total });
    const makeFrame = (min: Vec3Tuple, max: Vec3Tuple): OctreeFrame =>
      format === "potree" ? sourceFrame(h, min, max) : enuFrame(crs, min, max);

    // The header's bounds place the octree; the histogram pass checks them against every point (headers can be
    // stale) and, if a point lies outside, the pass is repeated with the true bounds.
    let bounds = usableHeaderBounds(h);
    let frame: OctreeFrame | undefined;
    let hist = new Uint32Array(0);
    let maxRgb = 0;
    for (let attempt = 0; attempt < 2 && !frame; attempt++) {
      const f = makeFrame(bounds.min, bounds.max);
      hist = new Uint32Array(HIST * HIST * HIST);
      const amin: Vec3Tuple = [Infinity, Infinity, Infinity];
      const amax: Vec3Tuple = [-Infinity, -Infinity, -Infinity];
      let seen = 0;
      for await (const b of reader.batches()) {
        maxRgb = Math.max(maxRgb, histogramBatch(b, f, hist, amin, amax));
        seen += b.count;
        progress("histogram", seen);
      }
      if (seen === 0) throw new Error(`${opts.input}: the file holds no points`);
      const slack = (c: number) => Math.abs(h.scale[c]) * 2;
      const inside = [0, 1, 2].every(
        (c) => amin[c] >= bounds.min[c] - slack(c) && amax[c] <= bounds.max[c] + slack(c),
      );
      if (inside) frame = f;
      else bounds = { min: amin, max: amax };
    }
    if (!frame) throw new Error(`${opts.input}: internal error: point bounds did not settle`);
    const f = frame;
    const rgbShift = maxRgb > 255 ? 8 : 0;
    const { chunkOf, chunks, upper } = partition(hist, maxInMemory);
    hist = new Uint32Array(0);
    const name = opts.name ?? basename(opts.input).replace(/\.la[sz]$/i, "");
    const colour = RGB_FORMATS.has(h.pointFormat);

    return await publishAtomically(opts.out, async (dir) => {
      const tmpDir = join(dir, ".chunks");
      mkdirSync(tmpDir);
      const writer: OctreeWriter =
        format === "potree"
          ? await PotreeWriter.create(dir, f, {
              name,
              points: total,
              projection: crs.projection,
              colour,
              wideColour: rgbShift > 0,
              unitToMetres: crs.verticalToMetres,
              bbox: (min, max) => sourceBBox(crs, min, max),
            })
          : new PointTilesetWriter(dir, f as EnuFrame, {
              crs,
              colour,
              name,
              generator: `cim ingest las ${opts.input}`,
            });
      const probes = await distribute(reader.batches(), f, {
        chunkOf,
        chunks,
        upper,
        rgbShift,
        total,
        tmpDir,
        progress,
        // Upper nodes are written as soon as the pass ends; their points then leave memory.
        writeUpper: (key, words, count) => writer.writeNode(key, words, count),
      });

      // Each subtree in memory, written as soon as it is built.
      let pointsWritten = probes.upperPoints;
      // One buffer for every chunk file in turn: the writers have encoded a node's points by the time
      // writeNode returns, so the next chunk may overwrite them.
      let chunkBuffer = new Uint32Array(0);
      for (const key of chunks) {
        const file = join(tmpDir, key);
        if (!existsSync(file)) continue; // every point of this cell went to upper levels
        const byteLength = statSync(file).size;
        if (chunkBuffer.byteLength < byteLength) chunkBuffer = new Uint32Array(byteLength / 4);
        readInto(file, chunkBuffer, byteLength);
        rmSync(file);
        const count = byteLength / 4 / WORDS;
        const words = chunkBuffer.subarray(0, count * WORDS);
        const size = CUBE / 2 ** (key.length - 1);
        const [ox, oy, oz] = nodeOriginQ(key);
        const pending: Array<{ key: string; points: Uint32Array; count: number }> = [];
        buildSubtree(key, key.length - 1, words, count, ox, oy, oz, size, leafMax, (n) => {
          pending.push({ key: n.key, points: n.points, count: n.count });
        });
        for (const n of pending) await writer.writeNode(n.key, n.points, n.count);
        pointsWritten += count;
        progress("tiles", pointsWritten);
      }
      rmSync(tmpDir, { recursive: true, force: true });
      const written = await writer.finish(probes.samples);
      progress("tiles", total);
      if (pointsWritten !== total)
        throw new Error(`${opts.input}: internal error: wrote ${pointsWritten} of ${total} points`);
      return {
        input: opts.input,
        out: opts.out,
        format,
        version: `${h.versionMajor}.${h.versionMinor}`,
        pointFormat: h.pointFormat,
        compressed: h.compressed,
        crs: crs.id,
        crsSource: crs.source,
        points: total,
        pointsWritten,
        tiles: written.nodes,
        chunks: chunks.length,
        depth: written.depth,
        bytes: written.bytes,
        seconds: (performance.now() - started) / 1000,
        maxPositionErrorMetres: written.maxPositionErrorMetres,
        positionSamples: probes.samples.length,
        bbox: written.bbox,
      };
    });
  } finally {
    await reader.close();
  }
}

interface UpperNode {
  key: string;
  /** GRID = 2^7 sampling cells per node edge: a node at level L has cells of 2^(31 - L - 7) steps. */
  shift: number;
  bits: Uint8Array;
  words: Uint32Array;
  count: number;
}

interface ChunkBuffer {
  key: string;
  /** Upper nodes above this chunk, shallowest first. */
  ancestors: UpperNode[];
  words: Uint32Array;
  count: number;
}

interface DistributeOptions {
  chunkOf: Int32Array;
  chunks: string[];
  upper: string[];
  rgbShift: number;
  total: number;
  tmpDir: string;
  progress: (phase: string, done: number) => void;
  writeUpper: (key: string, words: Uint32Array, count: number) => Promise<void>;
}

/**
 * The distribution pass: every point goes to the shallowest node above its subtree whose sampling cell is still
 * free, or else to its subtree's chunk file on disk. Returns the accuracy probes and the points kept above.
 */
async function distribute(
  batches: AsyncGenerator<PointBatch>,
  f: OctreeFrame,
  o: DistributeOptions,
): Promise<{ samples: PositionProbe[]; upperPoints: number }> {
  const d = new Distributor(f, o);
  const writes = new WriteQueue(8);
  let seen = 0;
  for await (const b of batches) {
    d.add(b, seen);
    // Full buffers go to disk and come back as spares once written, so the pass allocates a bounded set.
    for (const full of d.full.splice(0)) await writes.add(d.append(full));
    seen += b.count;
    o.progress("distribute", seen);
  }
  for (const c of d.chunkState) {
    if (c.count) await writes.add(d.append({ key: c.key, words: c.words, count: c.count }));
    c.words = new Uint32Array(0);
  }
  await writes.drain();
  d.spare.length = 0;
  let upperPoints = 0;
  for (const [key, u] of d.upperNodes) {
    await o.writeUpper(key, u.words, u.count);
    upperPoints += u.count;
    u.words = new Uint32Array(0);
  }
  return { samples: d.samples, upperPoints };
}

/** The per-point work of the distribution pass, kept synchronous so that V8 optimizes it as one plain loop. */
class Distributor {
  readonly upperNodes = new Map<string, UpperNode>();
  readonly chunkState: ChunkBuffer[];
  readonly full: Array<{ key: string; words: Uint32Array; count: number }> = [];
  readonly spare: Uint32Array[] = [];
  readonly samples: PositionProbe[] = [];
  private readonly sampleEvery: number;
  private nextSample = 0;
  private readonly tmp = new Float64Array(3);
  private readonly record = new Uint32Array(WORDS);

  constructor(
    private readonly f: OctreeFrame,
    private readonly o: DistributeOptions,
  ) {
    for (const key of o.upper)
      this.upperNodes.set(key, {
        key,
        shift: LEVELS - (key.length - 1) - 7,
        bits: new Uint8Array((GRID * GRID * GRID) / 8),
        words: new Uint32Array(1024 * WORDS),
        count: 0,
      });
    this.chunkState = o.chunks.map((key) => ({
      key,
      ancestors: Array.from(
        { length: key.length - 1 },
        (_, d) => this.upperNodes.get(key.slice(0, d + 1)) as UpperNode,
      ),
      words: new Uint32Array(0),
      count: 0,
    }));
    this.sampleEvery = Math.max(1, Math.floor(o.total / MAX_SAMPLES));
  }

  /** Appends a full buffer to its chunk file; the buffer becomes a spare once written. */
  append(c: { key: string; words: Uint32Array; count: number }): Promise<void> {
    // Points of a chunk are a set, so concurrent appends to one file may land in any order.
    const bytes = new Uint8Array(c.words.buffer, c.words.byteOffset, c.count * WORDS * 4);
    return appendFile(join(this.o.tmpDir, c.key), bytes).then(() => {
      this.spare.push(c.words);
    });
  }

  add(b: PointBatch, seen: number): void {
    const { tmp, record, chunkState, samples } = this;
    const f = this.f;
    const { origin, quantum } = f;
    const [ox, oy, oz] = origin;
    const chunkOf = this.o.chunkOf;
    const rgbShift = this.o.rgbShift;
    for (let i = 0; i < b.count; i++) {
      f.toOctree(b.x[i], b.y[i], b.z[i], tmp);
      const qx = quantizeTo(tmp[0], ox, quantum);
      const qy = quantizeTo(tmp[1], oy, quantum);
      const qz = quantizeTo(tmp[2], oz, quantum);
      pack(b, i, qx, qy, qz, rgbShift, record);
      if (seen + i === this.nextSample) {
        if (samples.length < MAX_SAMPLES) samples.push({ src: [b.x[i], b.y[i], b.z[i]], q: [qx, qy, qz] });
        this.nextSample += this.sampleEvery;
      }
      const c =
        chunkState[chunkOf[(qx >>> HIST_SHIFT) + HIST * ((qy >>> HIST_SHIFT) + HIST * (qz >>> HIST_SHIFT))]];
      if (this.placeAbove(c, qx, qy, qz, record)) continue;
      if (c.words.length === 0) c.words = this.spare.pop() ?? new Uint32Array(CHUNK_BUFFER * WORDS);
      const k = c.count * WORDS;
      const w = c.words;
      w[k] = record[0];
      w[k + 1] = record[1];
      w[k + 2] = record[2];
      w[k + 3] = record[3];
      w[k + 4] = record[4];
      if (++c.count === CHUNK_BUFFER) {
        this.full.push({ key: c.key, words: w, count: c.count });
        c.words = this.spare.pop() ?? new Uint32Array(CHUNK_BUFFER * WORDS);
        c.count = 0;
      }
    }
  }

  /** Keeps the point in the shallowest upper node whose sampling cell is free; false if none is. */
  private placeAbove(c: ChunkBuffer, qx: number, qy: number, qz: number, record: Uint32Array): boolean {
    const ancestors = c.ancestors;
    for (let a = 0; a < ancestors.length; a++) {
      const u = ancestors[a];
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
      return true;
    }
    return false;
  }
}

/** Histogram pass over one batch: source bounds, 64^3 cell counts in the octree; returns the largest colour value. */
function histogramBatch(
  b: PointBatch,
  f: OctreeFrame,
  hist: Uint32Array,
  amin: Vec3Tuple,
  amax: Vec3Tuple,
): number {
  const { origin, quantum } = f;
  const [ox, oy, oz] = origin;
  const tmp = histTmp;
  let x0 = amin[0];
  let y0 = amin[1];
  let z0 = amin[2];
  let x1 = amax[0];
  let y1 = amax[1];
  let z1 = amax[2];
  for (let i = 0; i < b.count; i++) {
    const x = b.x[i];
    const y = b.y[i];
    const z = b.z[i];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
    if (z < z0) z0 = z;
    if (z > z1) z1 = z;
    f.toOctree(x, y, z, tmp);
    const hx = quantizeTo(tmp[0], ox, quantum) >>> HIST_SHIFT;
    const hy = quantizeTo(tmp[1], oy, quantum) >>> HIST_SHIFT;
    const hz = quantizeTo(tmp[2], oz, quantum) >>> HIST_SHIFT;
    hist[hx + HIST * (hy + HIST * hz)]++;
  }
  amin[0] = x0;
  amin[1] = y0;
  amin[2] = z0;
  amax[0] = x1;
  amax[1] = y1;
  amax[2] = z1;
  let maxRgb = 0;
  const rgb = b.rgb;
  if (rgb) for (let i = 0; i < 3 * b.count; i++) if (rgb[i] > maxRgb) maxRgb = rgb[i];
  return maxRgb;
}

const histTmp = new Float64Array(3);

function readInto(file: string, into: Uint32Array, byteLength: number): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, byteLength);
  const fd = openSync(file, "r");
  try {
    for (let at = 0; at < byteLength; ) {
      const n = readSync(fd, bytes, at, byteLength - at, at);
      if (n === 0) throw new Error(`${file}: chunk file shorter than expected`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

type Bounds = { min: Vec3Tuple; max: Vec3Tuple };

function usableHeaderBounds(h: LasHeader): Bounds {
  const ok = [0, 1, 2].every(
    (c) => Number.isFinite(h.min[c]) && Number.isFinite(h.max[c]) && h.min[c] <= h.max[c],
  );
  // Unusable header bounds give a box that the first histogram pass is sure to reject, so it re-runs on true ones.
  return ok ? { min: h.min, max: h.max } : { min: [0, 0, 0], max: [0, 0, 0] };
}

/** Geographic extent of a source-CRS box (its eight corners). */
function sourceBBox(crs: LasCrs, min: number[], max: number[]): IngestLasSummary["bbox"] {
  const region = new Region();
  for (let k = 0; k < 8; k++) {
    const g = crs.toGeodetic(k & 1 ? max[0] : min[0], k & 2 ? max[1] : min[1], k & 4 ? max[2] : min[2]);
    region.addPoint(g[0], g[1], g[2]);
  }
  return region.toBBox();
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
