import { ecefToGeodetic, invertRigid, multiply, transformPoint, WGS84_A } from "../crs/geodesy.ts";
import { Region, type TileJson } from "./tileset-json.ts";

/**
 * Tile trees whose tiles each carry their own local ENU frame (float32 content near its origin), as the reality-mesh
 * ingests (OSGB, OBJ/glTF) write them. Shared so that both assemble tileset.json the same way.
 *
 * What the tileset is assembled from: a few numbers per tile, never its geometry. `box` is
 * [minE, minN, minU, maxE, maxN, maxU] of the tile's own content in `frame` (ENU-to-ECEF, column-major).
 */
export interface EnuTileNode {
  uri: string | null;
  frame: number[];
  box: number[] | null;
  geometricError: number;
  children: number[];
}

/** Box corners, min/max given as [minX, minY, minZ, maxX, maxY, maxZ]. */
function corners(b: number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const x of [b[0], b[3]])
    for (const y of [b[1], b[4]]) for (const z of [b[2], b[5]]) out.push([x, y, z]);
  return out;
}

/**
 * tileset.json from the per-file records. A tile's box is its own content joined with its descendants' boxes
 * (photogrammetry children can stick out of the parent's mesh), in the tile's ENU frame; child transforms are
 * relative to the parent frame, as 3D Tiles composes them.
 */
export function assembleEnuTileTree(
  nodes: (EnuTileNode | undefined)[],
  roots: number[],
): { root: TileJson; region: Region; tiles: number } | null {
  let tiles = 1;
  const unionBox = new Map<number, number[]>();
  const boxOf = (id: number): number[] | null => {
    const n = nodes[id];
    if (!n) return null;
    const b = n.box ? [...n.box] : [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
    const toLocal = invertRigid(n.frame);
    for (const c of n.children) {
      const cb = boxOf(c);
      const child = nodes[c];
      if (!cb || !child) continue;
      const m = multiply(toLocal, child.frame);
      for (const p of corners(cb)) {
        const q = transformPoint(m, p[0], p[1], p[2]);
        for (let k = 0; k < 3; k++) {
          b[k] = Math.min(b[k], q[k]);
          b[k + 3] = Math.max(b[k + 3], q[k]);
        }
      }
    }
    if (!(b[0] <= b[3])) return null;
    unionBox.set(id, b);
    return b;
  };
  const tileOf = (id: number, parentFrame: number[] | null, parentError: number): TileJson | null => {
    const n = nodes[id]!;
    const b = unionBox.get(id);
    if (!b) return null;
    const diag = Math.hypot(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
    const hasChildren = n.children.some((c) => unionBox.has(c));
    // A PagedLOD without a usable range still has to refine somewhere: when the tile spans the SSE in pixels.
    let ge = hasChildren ? n.geometricError || diag : 0;
    ge = Math.min(ge, parentError);
    tiles++;
    const tile: TileJson = {
      boundingVolume: { box: boxJson(b) },
      geometricError: ge,
      refine: "REPLACE",
      transform: parentFrame ? multiply(invertRigid(parentFrame), n.frame) : n.frame,
    };
    if (n.uri) tile.content = { uri: n.uri };
    const children = n.children.map((c) => tileOf(c, n.frame, ge)).filter((t): t is TileJson => t !== null);
    if (children.length) tile.children = children;
    return tile;
  };

  const region = new Region();
  let maxError = 0;
  for (const id of roots) {
    const b = boxOf(id);
    const n = nodes[id];
    if (!b || !n) continue;
    maxError = Math.max(maxError, n.geometricError);
    for (const p of corners(b)) {
      const e = transformPoint(n.frame, p[0], p[1], p[2]);
      const g = ecefToGeodetic(e[0], e[1], e[2]);
      region.addPoint(g[0], g[1], g[2]);
    }
  }
  if (region.empty) return null;
  // Region from box corners: the middle of a box face lies lower than its corners by the earth's curvature.
  const [, cb] = region.centre();
  const width = (region.east - region.west) * 111_320 * Math.cos((cb * Math.PI) / 180);
  const height = (region.north - region.south) * 110_940;
  const diag = Math.hypot(width, height, region.maxH - region.minH);
  const sag = (diag * diag) / (8 * WGS84_A);
  const pad = 1e-7; // degrees, ~1 cm
  region.addPoint(region.west - pad, region.south - pad, region.minH - sag - 0.5);
  region.addPoint(region.east + pad, region.north + pad, region.maxH + 0.5);
  const rootError = Math.max(maxError, diag);
  const children = roots
    .map((id) => (unionBox.has(id) ? tileOf(id, null, rootError) : null))
    .filter((t): t is TileJson => t !== null);
  const root: TileJson = {
    boundingVolume: { region: region.toRadians() },
    geometricError: rootError,
    refine: "REPLACE",
    children,
  };
  return { root, region, tiles };
}

function boxJson(b: number[]): number[] {
  const h = [0, 1, 2].map((k) => Math.max((b[k + 3] - b[k]) / 2, 0.005));
  return [(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, (b[2] + b[5]) / 2, h[0], 0, 0, 0, h[1], 0, 0, 0, h[2]];
}
