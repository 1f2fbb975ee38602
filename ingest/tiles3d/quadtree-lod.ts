/**
 * Spatial quadtree with additive levels of detail: a tile holds the most prominent features of its area
 * (the largest first) and its four children add the rest, so a coarse view streams only the big buildings
 * and detail appears as the camera approaches. Each feature lives in exactly one tile.
 */
export interface LodItems {
  count: number;
  /** Centres, used to choose a quadrant (any planar coordinates, e.g. degrees). */
  cx: ArrayLike<number>;
  cy: ArrayLike<number>;
  /** Visual size in metres: the error of leaving the feature out. */
  size: ArrayLike<number>;
}

export interface QuadtreeOptions {
  /** A tile with at most this many features becomes a leaf. */
  leafCapacity: number;
  /** Features kept in an inner tile before the rest are handed to the children. */
  innerCapacity: number;
  maxDepth: number;
}

export interface LodNode {
  /** Quadtree address: level and x/y within the level. */
  level: number;
  x: number;
  y: number;
  items: number[];
  children: LodNode[];
  /** Size of the largest feature held by descendants (0 for a leaf): the tile's geometric error. */
  geometricError: number;
}

export function buildLodQuadtree(items: LodItems, opts: QuadtreeOptions): LodNode {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < items.count; i++) {
    minX = Math.min(minX, items.cx[i]);
    minY = Math.min(minY, items.cy[i]);
    maxX = Math.max(maxX, items.cx[i]);
    maxY = Math.max(maxY, items.cy[i]);
  }
  // A square root cell keeps quadrants square, so tiles at one level are of one size.
  const side = Math.max(maxX - minX, maxY - minY, 1e-9);
  const all = Array.from({ length: items.count }, (_, i) => i);
  return split(items, all, { x0: minX, y0: minY, side }, 0, 0, 0, opts);
}

interface Cell {
  x0: number;
  y0: number;
  side: number;
}

function split(
  items: LodItems,
  ids: number[],
  cell: Cell,
  level: number,
  x: number,
  y: number,
  opts: QuadtreeOptions,
): LodNode {
  if (ids.length <= opts.leafCapacity) return { level, x, y, items: ids, children: [], geometricError: 0 };
  ids.sort((a, b) => items.size[b] - items.size[a]);
  const keep = ids.slice(0, Math.min(opts.innerCapacity, ids.length));
  const rest = ids.slice(keep.length);
  const half = cell.side / 2;
  const quads: number[][] = [[], [], [], []];
  if (level >= opts.maxDepth) {
    // Coincident centres cannot be separated spatially: deal them out so no tile exceeds capacity.
    for (let i = 0; i < rest.length; i++) quads[i % 4].push(rest[i]);
  } else {
    for (const id of rest) {
      const qx = items.cx[id] >= cell.x0 + half ? 1 : 0;
      const qy = items.cy[id] >= cell.y0 + half ? 1 : 0;
      quads[qy * 2 + qx].push(id);
    }
  }
  const children: LodNode[] = [];
  quads.forEach((q, i) => {
    if (q.length === 0) return;
    const qx = i & 1;
    const qy = i >> 1;
    const sub = { x0: cell.x0 + qx * half, y0: cell.y0 + qy * half, side: half };
    children.push(split(items, q, sub, level + 1, x * 2 + qx, y * 2 + qy, opts));
  });
  let error = 0;
  for (const c of children) {
    error = Math.max(error, c.geometricError);
    for (const id of c.items) error = Math.max(error, items.size[id]);
  }
  return { level, x, y, items: keep, children, geometricError: error };
}
