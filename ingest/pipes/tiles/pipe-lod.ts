import { buildLodQuadtree, type LodNode } from "../../tiles3d/quadtree-lod.ts";
import type { PipeFeature } from "./pipe-features.ts";

/**
 * Levels of detail of a pipe network (3D Tiles REPLACE refinement):
 *
 *   - leaves partition every feature spatially (at most `leafCapacity` each) and draw them in full: tubes and boxes
 *     of the real section, wells and symbols;
 *   - every inner tile draws the `overviewCapacity` most prominent links of its area (widest section first, then
 *     longest) as lines (see PipeLineBuilder), so a city-wide view streams the trunk mains and each step closer
 *     adds the smaller pipes, until the leaves replace the lines with tubes.
 *
 * A feature keeps its id and properties on every level. An inner tile's geometric error grows with its size
 * (`side / ERROR_PER_SIDE`, never less than its children's): the lines are an honest stand-in for the tubes only as
 * long as a tube is about a pixel wide, so the leaves must take over at street scale (a few hundred metres), where
 * a tile above the leaves is about a kilometre across. With the viewer's maximumScreenSpaceError 8 a tile of error
 * e refines within about 100·e metres, i.e. 1 km tiles turn to tubes within about 500 m.
 */
export interface PipeLodOptions {
  leafCapacity: number;
  overviewCapacity: number;
}

export interface PipeLod {
  /** Quadtree; leaves hold their features, inner nodes no items (their content is `overview`). */
  root: LodNode;
  /** Links an inner tile draws as lines, by node. */
  overview: Map<LodNode, number[]>;
}

const ERROR_PER_SIDE = 200;
const METRES_PER_DEGREE = 111_320;

/** Width of what a feature draws: its diameter, or the larger side of a box; 0 for node symbols. */
export function prominence(f: PipeFeature): number {
  const s = f.shape;
  if (s.type === "tube") return s.diameter;
  if (s.type === "box") return Math.max(s.width, s.height);
  return 0;
}

export function buildPipeLod(features: readonly PipeFeature[], opts: PipeLodOptions): PipeLod {
  const count = features.length;
  const cx = new Float64Array(count);
  const cy = new Float64Array(count);
  const size = new Float64Array(count);
  const rank = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const f = features[i];
    cx[i] = f.lon;
    cy[i] = f.lat;
    size[i] = f.size;
    // Wider first; among equals the longer (size is the drawn length of a link). Symbols never (-1).
    rank[i] = f.role === "link" ? prominence(f) * 1e6 + Math.min(f.size, 999_999) : -1;
  }
  // innerCapacity 0: a pure spatial partition, every feature in exactly one leaf.
  const root = buildLodQuadtree(
    { count, cx, cy, size },
    { leafCapacity: opts.leafCapacity, innerCapacity: 0, maxDepth: 18 },
  );
  const overview = new Map<LodNode, number[]>();
  const byRank = (a: number, b: number) => rank[b] - rank[a];

  /** Post-order: the node's best links (up to overviewCapacity, ranked) and its extent in degrees. */
  const visit = (node: LodNode): { best: number[]; w: number; s: number; e: number; n: number } => {
    let w = Number.POSITIVE_INFINITY;
    let s = Number.POSITIVE_INFINITY;
    let e = Number.NEGATIVE_INFINITY;
    let n = Number.NEGATIVE_INFINITY;
    if (node.children.length === 0) {
      for (const id of node.items) {
        const f = features[id];
        w = Math.min(w, f.west);
        s = Math.min(s, f.south);
        e = Math.max(e, f.east);
        n = Math.max(n, f.north);
      }
      const best = node.items.filter((id) => rank[id] >= 0).sort(byRank);
      node.geometricError = 0;
      return { best: best.slice(0, opts.overviewCapacity), w, s, e, n };
    }
    let merged: number[] = [];
    let childError = 0;
    for (const child of node.children) {
      const r = visit(child);
      merged = merged.concat(r.best);
      childError = Math.max(childError, child.geometricError);
      w = Math.min(w, r.w);
      s = Math.min(s, r.s);
      e = Math.max(e, r.e);
      n = Math.max(n, r.n);
    }
    merged.sort(byRank);
    const best = merged.slice(0, opts.overviewCapacity);
    overview.set(node, best);
    const k = Math.cos((((s + n) / 2) * Math.PI) / 180);
    const side = Math.max((e - w) * k, n - s) * METRES_PER_DEGREE;
    // Strictly above the children's, so the refinement order holds even where tiles are small.
    node.geometricError = Math.max(side / ERROR_PER_SIDE, childError * 1.25, 1);
    return { best, w, s, e, n };
  };
  visit(root);
  return { root, overview };
}
