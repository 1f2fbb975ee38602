import { Cartesian3, Cartographic, Math as CesiumMath } from "cesium";
import { boxOf, concat, readTileset, type TileContent } from "./tile-reader.ts";

/** One building of a white-model layer, rebuilt from its tiles' geometry and property table. */
export interface BuildingGeometry {
  /** The `id` property (what the layer's style and the source data key buildings by). */
  id: string;
  name: string;
  /** Top above ground (`cim:height`, else `height`), metres. */
  height: number;
  /** Roof triangles in plan, [lon, lat] degrees: their union is the footprint. */
  roof: [number, number][][];
  /** Every triangle (walls, roof, bottom) in ECEF metres, 9 numbers each: for ray tests. */
  triangles: Float64Array;
  /** Axis-aligned ECEF box of the triangles: [minX, minY, minZ, maxX, maxY, maxZ]. */
  box: Float64Array;
  /** Ellipsoidal height of the highest vertex, metres. */
  topElevation: number;
  /** Plan centre [lon, lat] of the roof, degrees (fly-to target). */
  centre: [number, number];
  /** Catalog layer the geometry came from, when it is not the white-model layer (BIM, reality mesh). */
  layerId?: string;
}

/**
 * The tiles of a white-model layer carry each building's exact footprint only as geometry: the roof faces of the
 * extruded mesh (flat, facing up) cover exactly the footprint. Reading every tile of the tileset (not just those
 * Cesium has loaded for the current view) gives analyses that do not depend on the camera. The GLBs are parsed
 * with glTF-Transform (it also decodes meshopt-compressed tiles; see tile-reader.ts); only
 * EXT_structural_metadata's binary columns are decoded here.
 */
export async function readBuildingGeometry(
  tilesetUrl: string,
  signal?: AbortSignal,
): Promise<BuildingGeometry[]> {
  const byId = new Map<string, Entry>();
  await readTileset(tilesetUrl, (tile) => addTile(tile, byId), signal);

  const out: BuildingGeometry[] = [];
  for (const [id, b] of byId) {
    const triangles = concat(b.parts);
    const box = boxOf(triangles);
    const centre = centreOf(b.roof);
    out.push({
      id,
      name: b.name ?? id,
      height: b.height ?? 0,
      roof: b.roof,
      triangles,
      box,
      topElevation: b.topElevation ?? 0,
      centre,
    });
  }
  return out;
}

type Entry = Partial<BuildingGeometry> & { parts: Float64Array[]; roof: [number, number][][] };

function addTile(tile: TileContent, byId: Map<string, Entry>): void {
  if (!tile.rowCount) return;
  const idOf = tile.column(["id"]);
  const nameOf = tile.column(["name"]);
  const heightOf = tile.column(["cim_height", "height"]);
  const entries: Entry[] = [];
  for (let row = 0; row < tile.rowCount; row++) {
    const id = String(idOf ? idOf(row) : row);
    let entry = byId.get(id);
    if (!entry) {
      entry = { parts: [], roof: [], topElevation: Number.NEGATIVE_INFINITY };
      byId.set(id, entry);
    }
    entry.name = nameOf ? String(nameOf(row)) : id;
    const h = heightOf ? Number(heightOf(row)) : Number.NaN;
    if (Number.isFinite(h)) entry.height = h;
    entries.push(entry);
  }

  const ecef = new Cartesian3();
  const carto = new Cartographic();
  for (const mesh of tile.meshes) {
    const { positions: world3, indices: idx, normalUp: nrm, featureIds: fid } = mesh;
    if (!fid) continue;
    const plan = new Map<number, [number, number, number]>();
    const planOf = (v: number) => {
      let p = plan.get(v);
      if (!p) {
        Cartographic.fromCartesian(
          Cartesian3.fromElements(world3[3 * v], world3[3 * v + 1], world3[3 * v + 2], ecef),
          undefined,
          carto,
        );
        p = [CesiumMath.toDegrees(carto.longitude), CesiumMath.toDegrees(carto.latitude), carto.height];
        plan.set(v, p);
      }
      return p;
    };
    const triCount = idx.length / 3;
    const perFeature = new Map<number, number[]>();
    for (let t = 0; t < triCount; t++) {
      const a = idx[3 * t];
      const b = idx[3 * t + 1];
      const c = idx[3 * t + 2];
      const f = fid[a];
      const entry = entries[f];
      if (!entry) continue;
      let list = perFeature.get(f);
      if (!list) {
        list = [];
        perFeature.set(f, list);
      }
      for (const v of [a, b, c]) list.push(world3[3 * v], world3[3 * v + 1], world3[3 * v + 2]);
      const pa = planOf(a);
      const pb = planOf(b);
      const pc = planOf(c);
      entry.topElevation = Math.max(entry.topElevation ?? Number.NEGATIVE_INFINITY, pa[2], pb[2], pc[2]);
      // Roof faces: all three vertex normals point up (glTF +y).
      if (nrm && nrm[a] > 0.99 && nrm[b] > 0.99 && nrm[c] > 0.99)
        entry.roof.push([
          [pa[0], pa[1]],
          [pb[0], pb[1]],
          [pc[0], pc[1]],
        ]);
    }
    for (const [f, list] of perFeature) entries[f].parts.push(Float64Array.from(list));
  }
}

function centreOf(roof: [number, number][][]): [number, number] {
  let lon = 0;
  let lat = 0;
  let n = 0;
  for (const tri of roof)
    for (const [x, y] of tri) {
      lon += x;
      lat += y;
      n++;
    }
  return n ? [lon / n, lat / n] : [0, 0];
}
