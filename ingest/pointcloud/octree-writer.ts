import type { BBox } from "../../models/layer.ts";

/** A point the ingest checks after writing: source coordinates and the quantized position the output stores. */
export interface PositionProbe {
  src: [number, number, number];
  q: [number, number, number];
}

export interface WrittenOctree {
  /** Nodes written (tiles / Potree nodes holding points). */
  nodes: number;
  bytes: number;
  depth: number;
  bbox: BBox;
  /** Largest distance between a probe's source position and the position a reader reconstructs, metres. */
  maxPositionErrorMetres: number;
}

/**
 * An output format of the point cloud octree. Nodes arrive one at a time (points packed as in octree.ts), in no
 * particular order, each exactly once; `finish` writes the index files once every node is in. A writer is done
 * with `points` when `writeNode`'s promise resolves: the caller reuses that memory for the next nodes.
 */
export interface OctreeWriter {
  writeNode(key: string, points: Uint32Array, count: number): Promise<void>;
  finish(probes: PositionProbe[]): Promise<WrittenOctree>;
}

/** LAS point formats that carry RGB. */
export const RGB_FORMATS = new Set([2, 3, 5, 7, 8, 10]);
