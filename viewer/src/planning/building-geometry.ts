import { WebIO } from "@gltf-transform/core";
import {
  EXTMeshFeatures,
  EXTMeshoptCompression,
  EXTStructuralMetadata,
  type StructuralMetadata,
} from "@gltf-transform/extensions";
import { Cartesian3, Cartographic, Math as CesiumMath, Matrix4 } from "cesium";
import { MeshoptDecoder } from "meshoptimizer";

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
}

interface TileJson {
  transform?: number[];
  content?: { uri?: string; url?: string };
  children?: TileJson[];
}

/**
 * The tiles of a white-model layer carry each building's exact footprint only as geometry: the roof faces of the
 * extruded mesh (flat, facing up) cover exactly the footprint. Reading every tile of the tileset (not just those
 * Cesium has loaded for the current view) gives analyses that do not depend on the camera. The GLBs are parsed
 * with glTF-Transform (it also decodes meshopt-compressed tiles); only EXT_structural_metadata's binary columns
 * are decoded here.
 */
export async function readBuildingGeometry(
  tilesetUrl: string,
  signal?: AbortSignal,
): Promise<BuildingGeometry[]> {
  const res = await fetch(tilesetUrl, { signal });
  if (!res.ok) throw new Error(`${tilesetUrl}: HTTP ${res.status}`);
  const tileset = (await res.json()) as { root: TileJson };
  await MeshoptDecoder.ready;
  const io = new WebIO()
    .registerExtensions([EXTMeshFeatures, EXTStructuralMetadata, EXTMeshoptCompression])
    .registerDependencies({ "meshopt.decoder": MeshoptDecoder });

  const jobs: { uri: string; world: Matrix4 }[] = [];
  const walk = (tile: TileJson, parent: Matrix4) => {
    const world = tile.transform
      ? Matrix4.multiply(parent, Matrix4.fromArray(tile.transform), new Matrix4())
      : parent;
    const uri = tile.content?.uri ?? tile.content?.url;
    if (uri) jobs.push({ uri: new URL(uri, tilesetUrl).href, world });
    for (const child of tile.children ?? []) walk(child, world);
  };
  walk(tileset.root, Matrix4.IDENTITY);

  const byId = new Map<
    string,
    Partial<BuildingGeometry> & { parts: Float64Array[]; roof: [number, number][][] }
  >();
  // A few tiles at a time: enough to keep the connection busy without holding every GLB in memory at once.
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const r = await fetch(job.uri, { signal });
      if (!r.ok) throw new Error(`${job.uri}: HTTP ${r.status}`);
      const doc = await io.readBinary(new Uint8Array(await r.arrayBuffer()));
      addTile(doc, job.world, byId);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);

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

type Doc = Awaited<ReturnType<WebIO["readBinary"]>>;

type ColumnReader = (row: number) => unknown;

function addTile(
  doc: Doc,
  world: Matrix4,
  byId: Map<string, Partial<BuildingGeometry> & { parts: Float64Array[]; roof: [number, number][][] }>,
): void {
  const metadata = doc.getRoot().getExtension<StructuralMetadata>("EXT_structural_metadata");
  const table: PropertyTableLike | undefined = metadata?.listPropertyTables()[0];
  if (!table) return;
  const column = (ids: string[]): ColumnReader | undefined => {
    for (const id of ids) {
      const reader = columnReader(table, id);
      if (reader) return reader;
    }
    return undefined;
  };
  const idOf = column(["id"]);
  const nameOf = column(["name"]);
  const heightOf = column(["cim_height", "height"]);
  const count = table.getCount();
  const entries: (Partial<BuildingGeometry> & { parts: Float64Array[]; roof: [number, number][][] })[] = [];
  for (let row = 0; row < count; row++) {
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

  const local = new Cartesian3();
  const ecef = new Cartesian3();
  const carto = new Cartographic();
  for (const mesh of doc.getRoot().listMeshes()) {
    for (const prim of mesh.listPrimitives()) {
      if (prim.getMode() !== 4) continue; // triangles only
      const pos = prim.getAttribute("POSITION")?.getArray();
      const nrm = prim.getAttribute("NORMAL")?.getArray();
      const fid = prim.getAttribute("_FEATURE_ID_0")?.getArray();
      const idx = prim.getIndices()?.getArray();
      if (!pos || !fid) continue;
      const vertexCount = pos.length / 3;
      // glTF y-up (x = east, y = up, z = -north) to the tile's ENU frame, then to ECEF.
      const world3 = new Float64Array(vertexCount * 3);
      for (let v = 0; v < vertexCount; v++) {
        Cartesian3.fromElements(pos[3 * v], -pos[3 * v + 2], pos[3 * v + 1], local);
        Matrix4.multiplyByPoint(world, local, ecef);
        world3[3 * v] = ecef.x;
        world3[3 * v + 1] = ecef.y;
        world3[3 * v + 2] = ecef.z;
      }
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
      const triCount = (idx ? idx.length : vertexCount) / 3;
      const perFeature = new Map<number, number[]>();
      for (let t = 0; t < triCount; t++) {
        const a = idx ? idx[3 * t] : 3 * t;
        const b = idx ? idx[3 * t + 1] : 3 * t + 1;
        const c = idx ? idx[3 * t + 2] : 3 * t + 2;
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
        if (nrm && nrm[3 * a + 1] > 0.99 && nrm[3 * b + 1] > 0.99 && nrm[3 * c + 1] > 0.99)
          entry.roof.push([
            [pa[0], pa[1]],
            [pb[0], pb[1]],
            [pc[0], pc[1]],
          ]);
      }
      for (const [f, list] of perFeature) entries[f].parts.push(Float64Array.from(list));
    }
  }
}

interface PropertyTableLike {
  getCount(): number;
  getProperty(id: string): { getValues(): Uint8Array | null; getStringOffsets(): Uint8Array | null } | null;
  getClass(): string;
}

/** Reads one column of a property table: strings (UINT32 offsets, as the ingest writes) and FLOAT64/INT32 scalars. */
function columnReader(table: PropertyTableLike, id: string): ColumnReader | undefined {
  const prop = table.getProperty(id);
  const values = prop?.getValues();
  if (!prop || !values) return undefined;
  const offsetsBytes = prop.getStringOffsets();
  const count = table.getCount();
  if (offsetsBytes) {
    const offsets = new Uint32Array(offsetsBytes.slice().buffer);
    const text = new TextDecoder();
    return (row) => text.decode(values.subarray(offsets[row], offsets[row + 1]));
  }
  const copy = values.slice().buffer;
  if (values.byteLength === count * 8) {
    const a = new Float64Array(copy);
    return (row) => a[row];
  }
  if (values.byteLength === count * 4) {
    const a = new Int32Array(copy);
    return (row) => a[row];
  }
  return undefined;
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function boxOf(tris: Float64Array): Float64Array {
  const box = new Float64Array([
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ]);
  for (let i = 0; i < tris.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      box[k] = Math.min(box[k], tris[i + k]);
      box[3 + k] = Math.max(box[3 + k], tris[i + k]);
    }
  }
  return box;
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
