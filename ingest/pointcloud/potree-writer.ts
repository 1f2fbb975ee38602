import { type FileHandle, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BBox } from "../../models/layer.ts";
import { GRID, WORDS } from "./octree.ts";
import type { OctreeFrame } from "./octree-frame.ts";
import type { OctreeWriter, PositionProbe, WrittenOctree } from "./octree-writer.ts";
import { WriteQueue } from "./write-queue.ts";

/**
 * Potree 2.0 output, the layout PotreeConverter 2.0 writes and potree's OctreeLoader (src/modules/loader/2.0)
 * reads: `octree.bin` (each node's points, attributes interleaved per point, uncompressed "DEFAULT" encoding),
 * `hierarchy.bin` (22-byte node records in chunks of `stepSize` levels, breadth first within a chunk, proxy
 * records pointing at the chunk below) and `metadata.json`. Positions are int32 steps of `scale` from `offset`
 * in the source CRS; the cube in `boundingBox` and `spacing` = cube / 128 are the sampling grid of octree.ts.
 */
export class PotreeWriter implements OctreeWriter {
  private readonly nodes = new Map<string, { numPoints: number; byteOffset: number; byteSize: number }>();
  private readonly writes = new WriteQueue(8);
  private readonly bytesPerPoint: number;
  private readonly stats = new AttributeStats();
  private byteOffset = 0;

  private constructor(
    private readonly dir: string,
    private readonly fh: FileHandle,
    private readonly f: OctreeFrame,
    private readonly opts: PotreeOptions,
  ) {
    this.bytesPerPoint = 12 + 2 + 1 + 1 + 1 + (opts.colour ? 6 : 0);
  }

  static async create(dir: string, f: OctreeFrame, opts: PotreeOptions): Promise<PotreeWriter> {
    return new PotreeWriter(dir, await open(join(dir, "octree.bin"), "w"), f, opts);
  }

  async writeNode(key: string, points: Uint32Array, count: number): Promise<void> {
    if (count === 0) return;
    const bpp = this.bytesPerPoint;
    const buf = Buffer.allocUnsafe(count * bpp);
    const s = this.stats;
    const wideColour = this.opts.wideColour;
    for (let i = 0, p = 0, o = 0; i < count; i++, p += WORDS, o += bpp) {
      const x = points[p];
      const y = points[p + 1];
      const z = points[p + 2];
      // Steps from the cube's corner are below 2^31, so they fit int32 as they are.
      buf.writeInt32LE(x, o);
      buf.writeInt32LE(y, o + 4);
      buf.writeInt32LE(z, o + 8);
      if (x < s.qmin[0]) s.qmin[0] = x;
      if (x > s.qmax[0]) s.qmax[0] = x;
      if (y < s.qmin[1]) s.qmin[1] = y;
      if (y > s.qmax[1]) s.qmax[1] = y;
      if (z < s.qmin[2]) s.qmin[2] = z;
      if (z > s.qmax[2]) s.qmax[2] = z;
      const a = points[p + 3];
      const intensity = a & 0xffff;
      const classification = (a >>> 16) & 0xff;
      const returnNumber = (a >>> 24) & 15;
      const returns = a >>> 28;
      buf.writeUInt16LE(intensity, o + 12);
      buf[o + 14] = returnNumber;
      buf[o + 15] = returns;
      buf[o + 16] = classification;
      s.add(0, intensity);
      s.add(1, returnNumber);
      s.add(2, returns);
      s.add(3, classification);
      if (this.opts.colour) {
        const rgba = points[p + 4];
        // The octree carries 8 bits per channel; a 16-bit source gets them back as v * 257 (0 -> 0, 255 -> 65535),
        // which potree's decoder (v > 255 ? v / 256 : v) turns into v again.
        const scale = wideColour ? 257 : 1;
        for (let c = 0; c < 3; c++) {
          const v = ((rgba >>> (8 * c)) & 0xff) * scale;
          buf.writeUInt16LE(v, o + 17 + 2 * c);
          s.add(4 + c, v);
        }
      }
    }
    const at = this.byteOffset;
    this.byteOffset += buf.length;
    this.nodes.set(key, { numPoints: count, byteOffset: at, byteSize: buf.length });
    await this.writes.add(this.fh.write(buf, 0, buf.length, at));
  }

  async finish(probes: PositionProbe[]): Promise<WrittenOctree> {
    await this.writes.drain();
    await this.fh.close();
    const { origin, quantum, cubeSize } = this.f;
    const tree = potreeTree(this.nodes);
    const hierarchy = encodeHierarchy(tree, HIERARCHY_STEP);
    await writeFile(join(this.dir, "hierarchy.bin"), hierarchy.buffer);
    const s = this.stats;
    const bmin = s.qmin.map((q, c) => origin[c] + q * quantum);
    const bmax = s.qmax.map((q, c) => origin[c] + q * quantum);
    const single = (k: number) => ({ min: [s.min[k]], max: [s.max[k]] });
    const attributes = [
      attribute("position", "int32", 3, { min: bmin, max: bmax }),
      attribute("intensity", "uint16", 1, single(0)),
      attribute("return number", "uint8", 1, single(1)),
      attribute("number of returns", "uint8", 1, single(2)),
      attribute("classification", "uint8", 1, single(3)),
    ];
    if (this.opts.colour)
      attributes.push(attribute("rgb", "uint16", 3, { min: s.min.slice(4, 7), max: s.max.slice(4, 7) }));
    const metadata = {
      version: "2.0",
      name: this.opts.name,
      description: "",
      points: this.opts.points,
      projection: this.opts.projection,
      hierarchy: { firstChunkSize: hierarchy.firstChunkSize, stepSize: HIERARCHY_STEP, depth: tree.depth },
      offset: origin,
      scale: [quantum, quantum, quantum],
      spacing: cubeSize / GRID,
      boundingBox: { min: origin, max: origin.map((o) => o + cubeSize) },
      encoding: "DEFAULT",
      attributes,
    };
    await writeFile(join(this.dir, "metadata.json"), JSON.stringify(metadata, null, "\t"));
    // What a reader gets back (int32 * scale + offset) against the file's own coordinates, in metres.
    let maxErr = 0;
    for (const p of probes) {
      const d = p.q.map((q, c) => origin[c] + q * quantum - p.src[c]);
      maxErr = Math.max(maxErr, Math.hypot(d[0], d[1], d[2]) * this.opts.unitToMetres);
    }
    let bytes = this.byteOffset + hierarchy.buffer.length;
    bytes += Buffer.byteLength(JSON.stringify(metadata, null, "\t"));
    return {
      nodes: this.nodes.size,
      bytes,
      depth: tree.depth,
      bbox: this.opts.bbox(bmin, bmax),
      maxPositionErrorMetres: maxErr,
    };
  }
}

export interface PotreeOptions {
  name: string;
  points: number;
  /** The CRS as WKT when the file carries it, else its proj4 definition (potree hands either to proj4). */
  projection: string;
  colour: boolean;
  /** The source colour is 16-bit. */
  wideColour: boolean;
  unitToMetres: number;
  /** Geographic extent of the source-CRS box min..max, for the summary. */
  bbox(min: number[], max: number[]): BBox;
}

/** Levels per hierarchy chunk, as PotreeConverter 2.0 writes them. */
const HIERARCHY_STEP = 4;
const BYTES_PER_NODE = 22;
const NORMAL = 0;
const LEAF = 1;
const PROXY = 2;

interface TreeNode {
  /** Potree name: "r" plus child indices with x = 4, y = 2, z = 1. */
  name: string;
  numPoints: number;
  byteOffset: number;
  byteSize: number;
  children: Array<TreeNode | undefined>;
}

/**
 * Our octant digits use x = 1, y = 2, z = 4; potree's child index uses x = 4, y = 2, z = 1 (createChildAABB in
 * OctreeLoader.js). Nodes without points between written ones (and an empty root) become nodes with 0 points.
 */
function potreeTree(written: Map<string, { numPoints: number; byteOffset: number; byteSize: number }>) {
  const root: TreeNode = { name: "r", numPoints: 0, byteOffset: 0, byteSize: 0, children: [] };
  let depth = 0;
  for (const [key, n] of written) {
    let node = root;
    for (let i = 1; i < key.length; i++) {
      const o = key.charCodeAt(i) - 48;
      const index = ((o & 1) << 2) | (o & 2) | ((o & 4) >> 2);
      let child = node.children[index];
      if (!child) {
        child = { name: node.name + index, numPoints: 0, byteOffset: 0, byteSize: 0, children: [] };
        node.children[index] = child;
      }
      node = child;
    }
    node.numPoints = n.numPoints;
    node.byteOffset = n.byteOffset;
    node.byteSize = n.byteSize;
    depth = Math.max(depth, key.length - 1);
  }
  return { root, depth };
}

/** PotreeConverter's createHierarchy: chunks of `step` levels, proxies at a chunk's last level lead to the next. */
function encodeHierarchy(tree: { root: TreeNode }, step: number) {
  const chunks: Array<{ root: TreeNode; nodes: TreeNode[] }> = [];
  const pending = [tree.root];
  while (pending.length) {
    const chunkRoot = pending.pop() as TreeNode;
    const rootLevel = chunkRoot.name.length - 1;
    const nodes: TreeNode[] = [];
    const stack = [chunkRoot];
    while (stack.length) {
      const node = stack.pop() as TreeNode;
      nodes.push(node);
      const level = node.name.length - 1;
      if (level === rootLevel + step) pending.push(node);
      else for (const child of node.children) if (child) stack.push(child);
    }
    // Breadth first: the loader gives children out in record order, level by level, index by index.
    nodes.sort((a, b) => a.name.length - b.name.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    chunks.push({ root: chunkRoot, nodes });
  }
  const chunkAt = new Map<string, { offset: number; size: number }>();
  let offset = 0;
  for (const c of chunks) {
    const size = c.nodes.length * BYTES_PER_NODE;
    chunkAt.set(c.root.name, { offset, size });
    offset += size;
  }
  const buffer = Buffer.alloc(offset);
  let at = 0;
  for (const c of chunks) {
    const rootLevel = c.root.name.length - 1;
    for (const node of c.nodes) {
      let mask = 0;
      node.children.forEach((child, i) => {
        if (child) mask |= 1 << i;
      });
      const proxy = node.name.length - 1 === rootLevel + step;
      const target = proxy
        ? (chunkAt.get(node.name) as { offset: number; size: number })
        : { offset: node.byteOffset, size: node.byteSize };
      buffer[at] = proxy ? PROXY : mask === 0 ? LEAF : NORMAL;
      buffer[at + 1] = mask;
      buffer.writeUInt32LE(node.numPoints, at + 2);
      buffer.writeBigInt64LE(BigInt(target.offset), at + 6);
      buffer.writeBigInt64LE(BigInt(target.size), at + 14);
      at += BYTES_PER_NODE;
    }
  }
  return { buffer, firstChunkSize: chunks[0].nodes.length * BYTES_PER_NODE };
}

function attribute(
  name: string,
  type: "int32" | "uint16" | "uint8",
  numElements: number,
  range: { min: number[]; max: number[] },
) {
  const elementSize = type === "int32" ? 4 : type === "uint16" ? 2 : 1;
  return {
    name,
    description: "",
    size: elementSize * numElements,
    numElements,
    elementSize,
    type,
    min: range.min,
    max: range.max,
  };
}

/** Ranges of the written attributes: position in quantized steps, the others as stored. */
class AttributeStats {
  readonly qmin = [Infinity, Infinity, Infinity];
  readonly qmax = [-Infinity, -Infinity, -Infinity];
  readonly min = new Array<number>(7).fill(Infinity);
  readonly max = new Array<number>(7).fill(-Infinity);

  add(k: number, v: number): void {
    if (v < this.min[k]) this.min[k] = v;
    if (v > this.max[k]) this.max[k] = v;
  }
}
