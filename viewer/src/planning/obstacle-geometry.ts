import { Cartesian3, Cartographic, Math as CesiumMath } from "cesium";
import type { BuildingGeometry } from "./building-geometry.ts";
import { boxOf, concat, readTileset, type TileContent } from "./tile-reader.ts";

/**
 * Most triangles in one obstacle piece. A reality-mesh tile holds 100k+ triangles: split into compact pieces with
 * their own boxes, the ray test's box check skips most of them (a viewshed casts thousands of rays).
 */
export const CHUNK_TRIANGLES = 2048;

/**
 * Obstacles of any tileset of GLB content (BIM, reality meshes) for the planning analyses, in the same shape as
 * the white-model buildings so the ray tests treat them alike. Triangles are grouped per feature when the tiles
 * carry EXT_mesh_features ids with an EXT_structural_metadata table (BIM: `GlobalId`, named by `Name`), else
 * one obstacle per node of each tile. Large obstacles come as several pieces sharing one id. `roof` is empty
 * (these are not extruded footprints: height limits and skylines keep to the white models); `height` is the
 * obstacle's top above its lowest point.
 */
export async function readObstacleGeometry(
  tilesetUrl: string,
  layerId: string,
  signal?: AbortSignal,
): Promise<BuildingGeometry[]> {
  const groups = new Map<string, { name: string; parts: Float64Array[] }>();
  const base = new URL(".", tilesetUrl).href;
  await readTileset(tilesetUrl, (tile) => addTile(tile, groups, base), signal);

  const out: BuildingGeometry[] = [];
  const carto = new Cartographic();
  const point = new Cartesian3();
  for (const [id, g] of groups) {
    const triangles = concat(g.parts);
    if (!triangles.length) continue;
    let top = Number.NEGATIVE_INFINITY;
    let bottom = Number.POSITIVE_INFINITY;
    for (let i = 0; i < triangles.length; i += 3) {
      Cartesian3.fromElements(triangles[i], triangles[i + 1], triangles[i + 2], point);
      const h = Cartographic.fromCartesian(point, undefined, carto)?.height;
      if (h === undefined) continue;
      if (h > top) top = h;
      if (h < bottom) bottom = h;
    }
    const box = boxOf(triangles);
    Cartesian3.fromElements((box[0] + box[3]) / 2, (box[1] + box[4]) / 2, (box[2] + box[5]) / 2, point);
    const mid = Cartographic.fromCartesian(point, undefined, carto);
    const centre: [number, number] = mid
      ? [CesiumMath.toDegrees(mid.longitude), CesiumMath.toDegrees(mid.latitude)]
      : [0, 0];
    for (const piece of chunks(triangles, CHUNK_TRIANGLES))
      out.push({
        id,
        name: g.name,
        height: top - bottom,
        roof: [],
        triangles: piece,
        box: boxOf(piece),
        topElevation: top,
        centre,
        layerId,
      });
  }
  return out;
}

function addTile(
  tile: TileContent,
  groups: Map<string, { name: string; parts: Float64Array[] }>,
  base: string,
): void {
  const idOf = tile.rowCount ? tile.column(["GlobalId", "id"]) : undefined;
  const nameOf = tile.rowCount ? tile.column(["Name", "name"]) : undefined;
  const classOf = tile.rowCount ? tile.column(["IfcClass"]) : undefined;
  const file = tile.uri.startsWith(base) ? tile.uri.slice(base.length) : tile.uri;
  const group = (id: string, name: string) => {
    let g = groups.get(id);
    if (!g) {
      g = { name, parts: [] };
      groups.set(id, g);
    }
    return g;
  };
  for (const mesh of tile.meshes) {
    const { positions: p, indices: idx, featureIds: fid } = mesh;
    const triCount = Math.floor(idx.length / 3);
    if (idOf && fid) {
      // Per feature: a feature's triangles may be spread over primitives (one per material) and tiles.
      const perRow = new Map<number, number[]>();
      for (let t = 0; t < triCount; t++) {
        const row = fid[idx[3 * t]];
        if (row >= tile.rowCount) continue;
        let list = perRow.get(row);
        if (!list) {
          list = [];
          perRow.set(row, list);
        }
        list.push(3 * t);
      }
      for (const [row, starts] of perRow) {
        // IfcSpace volumes (`cim ingest ifc --spaces`) are air, not walls.
        if (classOf && classOf(row) === "IfcSpace") continue;
        const id = String(idOf(row));
        const name = nameOf ? String(nameOf(row) ?? "") : "";
        group(id, name || id).parts.push(gather(p, idx, starts));
      }
    } else {
      const id = `${file}#${mesh.node}`;
      const starts = Array.from({ length: triCount }, (_, t) => 3 * t);
      group(id, id).parts.push(gather(p, idx, starts));
    }
  }
}

/** Triangles (9 numbers each) of the given index offsets. */
function gather(p: Float64Array, idx: ArrayLike<number>, starts: number[]): Float64Array {
  const out = new Float64Array(starts.length * 9);
  let at = 0;
  for (const s of starts)
    for (let k = 0; k < 3; k++) {
      const v = idx[s + k];
      out[at++] = p[3 * v];
      out[at++] = p[3 * v + 1];
      out[at++] = p[3 * v + 2];
    }
  return out;
}

/**
 * Splits triangles into spatially compact pieces of at most `max` triangles: halves at the median triangle
 * centre along the longest side of the pieces' centres, recursively (the leaves of a bounding-volume tree).
 */
export function chunks(tris: Float64Array, max: number): Float64Array[] {
  const n = tris.length / 9;
  if (n <= max) return [tris];
  const centres = new Float64Array(n * 3);
  for (let t = 0; t < n; t++)
    for (let k = 0; k < 3; k++)
      centres[3 * t + k] = (tris[9 * t + k] + tris[9 * t + 3 + k] + tris[9 * t + 6 + k]) / 3;
  const out: Float64Array[] = [];
  const split = (ids: number[]) => {
    if (ids.length <= max) {
      const piece = new Float64Array(ids.length * 9);
      ids.forEach((t, i) => {
        piece.set(tris.subarray(9 * t, 9 * t + 9), 9 * i);
      });
      out.push(piece);
      return;
    }
    const lo = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    const hi = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const t of ids)
      for (let k = 0; k < 3; k++) {
        lo[k] = Math.min(lo[k], centres[3 * t + k]);
        hi[k] = Math.max(hi[k], centres[3 * t + k]);
      }
    const spans = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    const axis = spans.indexOf(Math.max(...spans));
    ids.sort((a, b) => centres[3 * a + axis] - centres[3 * b + axis]);
    const half = ids.length >> 1;
    split(ids.slice(0, half));
    split(ids.slice(half));
  };
  split(Array.from({ length: n }, (_, t) => t));
  return out;
}
