import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A Potree 2.0 reader written for the tests, independently of the writer, following potree's own loader
 * (src/modules/loader/2.0/OctreeLoader.js and DecoderWorker.js): the hierarchy is parsed chunk by chunk from the
 * root's `firstChunkSize` through proxy records, child boxes come from createChildAABB's bit order
 * (4 = x, 2 = y, 1 = z), and point records are decoded from the attribute list.
 */
export interface PotreeAttribute {
  name: string;
  description: string;
  size: number;
  numElements: number;
  elementSize: number;
  type: string;
  min: number[];
  max: number[];
}

export interface PotreeMetadata {
  version: string;
  name: string;
  points: number;
  projection: string;
  hierarchy: { firstChunkSize: number; stepSize: number; depth: number };
  offset: number[];
  scale: number[];
  spacing: number;
  boundingBox: { min: number[]; max: number[] };
  encoding: string;
  attributes: PotreeAttribute[];
}

export interface PotreeNode {
  name: string;
  level: number;
  /** Absolute box in the source CRS. */
  min: number[];
  max: number[];
  /** 0 normal, 1 leaf (2 proxies are replaced by the records of the chunk they point at). */
  nodeType: number;
  childMask: number;
  numPoints: number;
  byteOffset: bigint;
  byteSize: bigint;
  children: PotreeNode[];
}

export interface PotreePoint {
  node: string;
  position: [number, number, number];
  /** Every non-position attribute by name; colours decoded to 8 bits as potree's decoder does. */
  values: Record<string, number[]>;
}

const SIZES: Record<string, number> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float: 4,
  double: 8,
};

interface LoadingNode extends PotreeNode {
  hierarchyByteOffset?: bigint;
  hierarchyByteSize?: bigint;
}

export function readPotree(dir: string) {
  const metadata = JSON.parse(readFileSync(join(dir, "metadata.json"), "utf8")) as PotreeMetadata;
  const hierarchy = readFileSync(join(dir, "hierarchy.bin"));
  const octree = readFileSync(join(dir, "octree.bin"));
  const root: LoadingNode = {
    name: "r",
    level: 0,
    min: metadata.boundingBox.min,
    max: metadata.boundingBox.max,
    nodeType: 2,
    childMask: 0,
    numPoints: 0,
    byteOffset: 0n,
    byteSize: 0n,
    children: [],
    hierarchyByteOffset: 0n,
    hierarchyByteSize: BigInt(metadata.hierarchy.firstChunkSize),
  };
  let chunksRead = 0;
  const toLoad: LoadingNode[] = [root];
  while (toLoad.length) {
    const proxy = toLoad.pop() as LoadingNode;
    const first = Number(proxy.hierarchyByteOffset);
    const view = hierarchy.subarray(first, first + Number(proxy.hierarchyByteSize));
    chunksRead++;
    const numNodes = view.length / 22;
    if (!Number.isInteger(numNodes))
      throw new Error(`hierarchy chunk at ${first} is not whole 22-byte records`);
    const nodes: LoadingNode[] = [proxy];
    for (let i = 0; i < numNodes; i++) {
      const current = nodes[i];
      if (!current)
        throw new Error(`hierarchy chunk at ${first}: record ${i} has no node (child masks too short)`);
      const at = i * 22;
      const type = view[at];
      const childMask = view[at + 1];
      const numPoints = view.readUInt32LE(at + 2);
      const byteOffset = view.readBigInt64LE(at + 6);
      const byteSize = view.readBigInt64LE(at + 14);
      if (current.nodeType === 2 && i === 0) {
        current.byteOffset = byteOffset;
        current.byteSize = byteSize;
      } else if (type === 2) {
        current.hierarchyByteOffset = byteOffset;
        current.hierarchyByteSize = byteSize;
      } else {
        current.byteOffset = byteOffset;
        current.byteSize = byteSize;
      }
      current.numPoints = numPoints;
      current.nodeType = type;
      current.childMask = childMask;
      if (type === 2) {
        toLoad.push(current);
        continue;
      }
      for (let index = 0; index < 8; index++) {
        if (!(childMask & (1 << index))) continue;
        const child: LoadingNode = {
          name: current.name + index,
          level: current.level + 1,
          ...childBox(current, index),
          nodeType: 0,
          childMask: 0,
          numPoints: 0,
          byteOffset: 0n,
          byteSize: 0n,
          children: [],
        };
        current.children[index] = child;
        nodes.push(child);
      }
    }
  }

  const all: PotreeNode[] = [];
  const walk = (n: PotreeNode) => {
    all.push(n);
    for (const c of n.children) if (c) walk(c);
  };
  walk(root);
  const bytesPerPoint = metadata.attributes.reduce((s, a) => s + a.size, 0);
  const points: PotreePoint[] = [];
  for (const node of all) {
    const data = octree.subarray(Number(node.byteOffset), Number(node.byteOffset + node.byteSize));
    if (data.length !== node.numPoints * bytesPerPoint)
      throw new Error(`node ${node.name}: ${data.length} bytes for ${node.numPoints} points`);
    for (let j = 0; j < node.numPoints; j++) {
      let at = j * bytesPerPoint;
      const p: PotreePoint = { node: node.name, position: [0, 0, 0], values: {} };
      for (const a of metadata.attributes) {
        if (a.name === "position") {
          for (let c = 0; c < 3; c++)
            p.position[c] = data.readInt32LE(at + 4 * c) * metadata.scale[c] + metadata.offset[c];
        } else {
          const v: number[] = [];
          for (let e = 0; e < a.numElements; e++) v.push(readValue(data, at + e * SIZES[a.type], a.type));
          // DecoderWorker: colours above 255 are 16-bit and scaled down, into a Uint8Array.
          p.values[a.name] = a.name === "rgb" ? v.map((c) => Math.floor(c > 255 ? c / 256 : c)) : v;
        }
        at += a.size;
      }
      points.push(p);
    }
  }
  return { metadata, root: root as PotreeNode, nodes: all, points, chunksRead };
}

function readValue(b: Buffer, at: number, type: string): number {
  switch (type) {
    case "int8":
      return b.readInt8(at);
    case "uint8":
      return b[at];
    case "int16":
      return b.readInt16LE(at);
    case "uint16":
      return b.readUInt16LE(at);
    case "int32":
      return b.readInt32LE(at);
    case "uint32":
      return b.readUInt32LE(at);
    case "float":
      return b.readFloatLE(at);
    case "double":
      return b.readDoubleLE(at);
    default:
      throw new Error(`unknown attribute type ${type}`);
  }
}

/** createChildAABB of OctreeLoader.js: bit 0 splits z, bit 1 y, bit 2 x. */
function childBox(parent: { min: number[]; max: number[] }, index: number) {
  const min = [...parent.min];
  const max = [...parent.max];
  const half = [0, 1, 2].map((c) => (max[c] - min[c]) / 2);
  const split = (c: number, upper: boolean) => {
    if (upper) min[c] += half[c];
    else max[c] -= half[c];
  };
  split(2, (index & 1) > 0);
  split(1, (index & 2) > 0);
  split(0, (index & 4) > 0);
  return { min, max };
}
