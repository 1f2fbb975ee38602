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

/** One bit per grid cell of the node being split (256 KiB: stays in cache, unlike a word per cell). */
const taken = new Uint8Array((GRID * GRID * GRID) / 8);
/** Per point of the node being split: its child octant, or KEPT. Grown to the largest chunk seen. */
let octants = new Uint8Array(0);
const KEPT = 8;
/** The second buffer points move into, grown to the largest chunk seen and reused. */
let spareWords = new Uint32Array(0);

/**
 * Builds the subtree below a node whose cube starts at (ox, oy, oz) with edge `size` (quantized units), calling
 * `emit` for each node (children before their parent is not guaranteed; each node is emitted once).
 *
 * Points move between two buffers of the input's size, level by level: a node's range in one buffer is split
 * into [kept | child 0 | ... | child 7] in the other, and each child continues in its own sub-range. A node's
 * kept points are therefore never overwritten by its descendants, so every emitted array stays valid until the
 * next call (which reuses the second buffer, as the caller may reuse `points`), and splitting allocates nothing
 * per node.
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
  if (octants.length < count) octants = new Uint8Array(count);
  if (spareWords.length < count * WORDS) spareWords = new Uint32Array(count * WORDS);
  split(key, depth, points, spareWords, 0, count, ox, oy, oz, size, leafMax, emit);
}

function split(
  key: string,
  depth: number,
  from: Uint32Array,
  to: Uint32Array,
  start: number,
  count: number,
  ox: number,
  oy: number,
  oz: number,
  size: number,
  leafMax: number,
  emit: (node: BuiltNode) => void,
): void {
  if (count <= leafMax || depth >= MAX_DEPTH || size < 2) {
    emit({ key, depth, points: from.subarray(start * WORDS, (start + count) * WORDS), count });
    return;
  }
  taken.fill(0);
  const cellScale = GRID / size;
  const half = size / 2;
  const childCounts = new Uint32Array(8);
  let kept = 0;
  const end = (start + count) * WORDS;
  for (let p = start * WORDS, i = 0; p < end; p += WORDS, i++) {
    const lx = from[p] - ox;
    const ly = from[p + 1] - oy;
    const lz = from[p + 2] - oz;
    // Local offsets are below 2^31 and cells below GRID, so truncation by |0 is a floor.
    let cx = (lx * cellScale) | 0;
    let cy = (ly * cellScale) | 0;
    let cz = (lz * cellScale) | 0;
    if (cx >= GRID) cx = GRID - 1;
    if (cy >= GRID) cy = GRID - 1;
    if (cz >= GRID) cz = GRID - 1;
    const cell = cx + GRID * (cy + GRID * cz);
    const bit = 1 << (cell & 7);
    if ((taken[cell >>> 3] & bit) === 0) {
      taken[cell >>> 3] |= bit;
      octants[i] = KEPT;
      kept++;
    } else {
      const o = (lx >= half ? 1 : 0) | (ly >= half ? 2 : 0) | (lz >= half ? 4 : 0);
      octants[i] = o;
      childCounts[o]++;
    }
  }
  // Where each group starts in `to`, in points: kept first, then the children in octant order. Points keep
  // their input order within a group, so "first point per cell" means the same at every level.
  const next = new Uint32Array(9);
  next[KEPT] = start;
  let at = start + kept;
  for (let o = 0; o < 8; o++) {
    next[o] = at;
    at += childCounts[o];
  }
  const childStart = next.slice(0, 8);
  for (let p = start * WORDS, i = 0; p < end; p += WORDS, i++) {
    const k = next[octants[i]]++ * WORDS;
    to[k] = from[p];
    to[k + 1] = from[p + 1];
    to[k + 2] = from[p + 2];
    to[k + 3] = from[p + 3];
    to[k + 4] = from[p + 4];
  }
  emit({ key, depth, points: to.subarray(start * WORDS, (start + kept) * WORDS), count: kept });
  for (let o = 0; o < 8; o++) {
    if (childCounts[o] === 0) continue;
    split(
      key + o,
      depth + 1,
      to,
      from,
      childStart[o],
      childCounts[o],
      ox + (o & 1 ? half : 0),
      oy + (o & 2 ? half : 0),
      oz + (o & 4 ? half : 0),
      half,
      leafMax,
      emit,
    );
  }
}
