/**
 * Potree-style octree with spacing-based subsampling over points packed as 5 uint32 words each:
 * quantized x, y, z (relative to the cube's minimum corner), intensity | classification << 16 | returns << 24,
 * and RGBA. Each node keeps the first point that falls into each cell of a GRID^3 grid over its cube (spacing =
 * node size / GRID) and passes the rest to its eight children (additive refinement: every point is in exactly
 * one node).
 */
export const WORDS = 5;
export const GRID = 128;
const MAX_DEPTH = 24;

export interface BuiltNode {
  /** "r" followed by one octant digit per level. */
  key: string;
  depth: number;
  /** Packed points of this node. */
  points: Uint32Array;
  count: number;
}

/** Stamp per grid cell; a cell is taken when its stamp equals the current node's serial. */
const stamps = new Uint32Array(GRID * GRID * GRID);
let serial = 0;

/**
 * Builds the subtree below a node whose cube starts at (ox, oy, oz) with edge `size` (quantized units), calling
 * `emit` for each node (children before their parent is not guaranteed; each node is emitted once).
 */
export function buildSubtree(
  key: string,
  depth: number,
  points: Uint32Array,
  count: number,
  ox: number,
  oy: number,
  oz: number,
  size: number,
  leafMax: number,
  emit: (node: BuiltNode) => void,
): void {
  if (count <= leafMax || depth >= MAX_DEPTH || size < 2) {
    emit({ key, depth, points: points.subarray(0, count * WORDS), count });
    return;
  }
  serial = (serial + 1) >>> 0;
  if (serial === 0) {
    stamps.fill(0);
    serial = 1;
  }
  const cellScale = GRID / size;
  // Sized for a surface's worth of kept points and grown on demand: a full-size buffer per node would be allocated
  // and zeroed for millions of points to keep a few tens of thousands.
  let keep = new Uint32Array(Math.min(count, 4 * GRID * GRID) * WORDS);
  let kept = 0;
  const octant = new Uint8Array(count);
  const childCounts = new Uint32Array(8);
  const half = size / 2;
  for (let i = 0; i < count; i++) {
    const p = i * WORDS;
    const lx = points[p] - ox;
    const ly = points[p + 1] - oy;
    const lz = points[p + 2] - oz;
    // Local offsets are below 2^31 and cells below GRID, so truncation by |0 is a floor.
    let cx = (lx * cellScale) | 0;
    let cy = (ly * cellScale) | 0;
    let cz = (lz * cellScale) | 0;
    if (cx >= GRID) cx = GRID - 1;
    if (cy >= GRID) cy = GRID - 1;
    if (cz >= GRID) cz = GRID - 1;
    const cell = cx + GRID * (cy + GRID * cz);
    if (stamps[cell] !== serial) {
      stamps[cell] = serial;
      const k = kept * WORDS;
      if (k + WORDS > keep.length) {
        const grown = new Uint32Array(Math.min(count * WORDS, keep.length * 2));
        grown.set(keep);
        keep = grown;
      }
      keep[k] = points[p];
      keep[k + 1] = points[p + 1];
      keep[k + 2] = points[p + 2];
      keep[k + 3] = points[p + 3];
      keep[k + 4] = points[p + 4];
      kept++;
      octant[i] = 255;
    } else {
      const o = (lx >= half ? 1 : 0) | (ly >= half ? 2 : 0) | (lz >= half ? 4 : 0);
      octant[i] = o;
      childCounts[o]++;
    }
  }
  emit({ key, depth, points: keep.subarray(0, kept * WORDS), count: kept });
  const children = Array.from({ length: 8 }, (_, o) => new Uint32Array(childCounts[o] * WORDS));
  const fill = new Uint32Array(8);
  for (let i = 0; i < count; i++) {
    const o = octant[i];
    if (o === 255) continue;
    const p = i * WORDS;
    const dst = children[o];
    const k = fill[o] * WORDS;
    dst[k] = points[p];
    dst[k + 1] = points[p + 1];
    dst[k + 2] = points[p + 2];
    dst[k + 3] = points[p + 3];
    dst[k + 4] = points[p + 4];
    fill[o]++;
  }
  for (let o = 0; o < 8; o++) {
    if (childCounts[o] === 0) continue;
    const c = childCounts[o];
    const pts = children[o];
    children[o] = new Uint32Array(0);
    buildSubtree(
      key + o,
      depth + 1,
      pts,
      c,
      ox + (o & 1 ? half : 0),
      oy + (o & 2 ? half : 0),
      oz + (o & 4 ? half : 0),
      half,
      leafMax,
      emit,
    );
  }
}
