import { type Accessor, type Document, WebIO } from "@gltf-transform/core";
import { ALL_EXTENSIONS, type StructuralMetadata } from "@gltf-transform/extensions";
import { Cartesian3, Matrix4 } from "cesium";
import { MeshoptDecoder } from "meshoptimizer";

/**
 * Reads every GLB a 3D Tiles tileset draws at its finest level, in ECEF metres: the geometry the planning analyses
 * test rays against. Shared by the white-model reader (building-geometry.ts) and the BIM / reality-mesh obstacle
 * reader (obstacle-geometry.ts), so both walk tilesets and place vertices the same way.
 */

interface TileJson {
  transform?: number[];
  refine?: string;
  content?: { uri?: string; url?: string };
  children?: TileJson[];
}

/** One triangle primitive of a tile, placed on the globe. */
export interface TileMesh {
  /** Vertex positions in ECEF metres (node transforms, glTF y-up to z-up and the tile transform applied). */
  positions: Float64Array;
  /** Vertex count. */
  vertexCount: number;
  /** Vertex indices, three per triangle. */
  indices: ArrayLike<number>;
  /** The up (glTF +y) component of each vertex normal in the primitive's own frame, when it has normals. */
  normalUp?: ArrayLike<number>;
  /** `_FEATURE_ID_0` per vertex (EXT_mesh_features), when present. */
  featureIds?: ArrayLike<number>;
  /** Index of the glTF node drawing the primitive (one obstacle per node when there are no features). */
  node: number;
}

export type ColumnReader = (row: number) => unknown;

/** One tile's content, read. */
export interface TileContent {
  /** Absolute URL of the GLB. */
  uri: string;
  meshes: TileMesh[];
  /** Rows of the first EXT_structural_metadata property table (0 without one). */
  rowCount: number;
  /** Reader of the first column of the property table named in `ids`, if any. */
  column(ids: readonly string[]): ColumnReader | undefined;
}

/**
 * Reads the content tiles of a tileset and hands each to `visit` as it arrives. Follows nested (external)
 * tilesets. Refinement decides which tiles count: under ADD every tile's content adds to its parent's, under
 * REPLACE only tiles without children (the finest level) do, otherwise coarse levels of detail would duplicate
 * the geometry. `refine` is inherited from the parent; the root's default is REPLACE (as in CesiumJS).
 */
export async function readTileset(
  tilesetUrl: string,
  visit: (tile: TileContent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const jobs: { uri: string; world: Matrix4 }[] = [];
  await collect(tilesetUrl, jobs, Matrix4.IDENTITY, "REPLACE", signal, 0);
  const io = await gltfIo();
  // A few tiles at a time: enough to keep the connection busy without holding every GLB in memory at once.
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const r = await fetch(job.uri, { signal });
      if (!r.ok) throw new Error(`${job.uri}: HTTP ${r.status}`);
      let doc: Document;
      try {
        doc = await io.readBinary(new Uint8Array(await r.arrayBuffer()));
      } catch (err) {
        throw new Error(`${job.uri}: ${err instanceof Error ? err.message : String(err)}`);
      }
      visit(tileContent(doc, job.uri, job.world));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** External tilesets nest at most this deep (a tileset referring to itself must not loop forever). */
const MAX_NESTING = 16;

async function collect(
  url: string,
  jobs: { uri: string; world: Matrix4 }[],
  parentWorld: Matrix4,
  parentRefine: string,
  signal: AbortSignal | undefined,
  depth: number,
): Promise<void> {
  if (depth > MAX_NESTING) throw new Error(`${url}: external tilesets nested more than ${MAX_NESTING} deep`);
  const res = await fetch(url, { signal });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const tileset = (await res.json()) as { root: TileJson };
  const nested: Promise<void>[] = [];
  const walk = (tile: TileJson, parent: Matrix4, inherited: string) => {
    const world = tile.transform
      ? Matrix4.multiply(parent, Matrix4.fromArray(tile.transform), new Matrix4())
      : parent;
    const refine = (tile.refine ?? inherited).toUpperCase();
    const children = tile.children ?? [];
    const uri = tile.content?.uri ?? tile.content?.url;
    if (uri) {
      const href = new URL(uri, url).href;
      if (new URL(href).pathname.toLowerCase().endsWith(".json"))
        nested.push(collect(href, jobs, world, refine, signal, depth + 1));
      else if (refine === "ADD" || children.length === 0) jobs.push({ uri: href, world });
    }
    for (const child of children) walk(child, world, refine);
  };
  walk(tileset.root, parentWorld, parentRefine);
  await Promise.all(nested);
}

let sharedIo: Promise<WebIO> | undefined;

/**
 * Every extension glTF-Transform knows, so that tiles using any of them read: textures (KTX2/basisu, WebP) are
 * kept as bytes and never decoded, materials are ignored; meshopt-compressed geometry is decoded.
 */
function gltfIo(): Promise<WebIO> {
  sharedIo ??= MeshoptDecoder.ready.then(() =>
    new WebIO()
      .registerExtensions(ALL_EXTENSIONS)
      .registerDependencies({ "meshopt.decoder": MeshoptDecoder }),
  );
  return sharedIo;
}

function tileContent(doc: Document, uri: string, tileWorld: Matrix4): TileContent {
  const root = doc.getRoot();
  const metadata = root.getExtension<StructuralMetadata>("EXT_structural_metadata");
  const table: PropertyTableLike | undefined = metadata?.listPropertyTables()[0];
  const meshes: TileMesh[] = [];
  const nodes = root.listNodes();
  const local = new Cartesian3();
  const ecef = new Cartesian3();
  const nodeMatrix = new Matrix4();
  const world = new Matrix4();
  nodes.forEach((node, nodeIndex) => {
    const mesh = node.getMesh();
    if (!mesh) return;
    // glTF is y-up: x = east, y = up, z = -north; the tile's frame is z-up (3D Tiles).
    Matrix4.fromArray(node.getWorldMatrix() as number[], 0, nodeMatrix);
    Matrix4.multiply(tileWorld, Matrix4.multiply(Y_UP_TO_Z_UP, nodeMatrix, world), world);
    for (const prim of mesh.listPrimitives()) {
      if (prim.getMode() !== 4) continue; // triangles only
      const posAccessor = prim.getAttribute("POSITION");
      if (!posAccessor) continue;
      const pos = floats(posAccessor);
      const vertexCount = posAccessor.getCount();
      const positions = new Float64Array(vertexCount * 3);
      for (let v = 0; v < vertexCount; v++) {
        Cartesian3.fromElements(pos[3 * v], pos[3 * v + 1], pos[3 * v + 2], local);
        Matrix4.multiplyByPoint(world, local, ecef);
        positions[3 * v] = ecef.x;
        positions[3 * v + 1] = ecef.y;
        positions[3 * v + 2] = ecef.z;
      }
      const normals = prim.getAttribute("NORMAL");
      const nrm = normals ? floats(normals) : undefined;
      const normalUp = nrm ? Float32Array.from({ length: vertexCount }, (_, v) => nrm[3 * v + 1]) : undefined;
      const indices = prim.getIndices()?.getArray() ?? Uint32Array.from({ length: vertexCount }, (_, i) => i);
      const featureIds = prim.getAttribute("_FEATURE_ID_0")?.getArray() ?? undefined;
      meshes.push({ positions, vertexCount, indices, normalUp, featureIds, node: nodeIndex });
    }
  });
  return {
    uri,
    meshes,
    rowCount: table?.getCount() ?? 0,
    column(ids) {
      if (!table) return undefined;
      for (const id of ids) {
        const reader = columnReader(table, id);
        if (reader) return reader;
      }
      return undefined;
    },
  };
}

// Column-major: (x, y, z) -> (x, -z, y).
const Y_UP_TO_Z_UP = Matrix4.fromRowMajorArray([1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);

/**
 * An accessor's values as floats: quantized attributes (KHR_mesh_quantization, e.g. meshopt-compressed tiles)
 * are stored as normalized integers, which stand for [0, 1] or [-1, 1].
 */
function floats(accessor: Accessor): ArrayLike<number> {
  const array = accessor.getArray();
  if (!array) return new Float32Array(0);
  if (!accessor.getNormalized() || array instanceof Float32Array) return array;
  const scale =
    array instanceof Int8Array
      ? 127
      : array instanceof Uint8Array
        ? 255
        : array instanceof Int16Array
          ? 32767
          : array instanceof Uint16Array
            ? 65535
            : 1;
  const out = new Float32Array(array.length);
  for (let i = 0; i < array.length; i++) out[i] = Math.max(array[i] / scale, -1);
  return out;
}

interface PropertyTableLike {
  getCount(): number;
  getProperty(id: string): { getValues(): Uint8Array | null; getStringOffsets(): Uint8Array | null } | null;
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

/** Axis-aligned box [minX, minY, minZ, maxX, maxY, maxZ] of triangles given as 9 numbers each. */
export function boxOf(tris: Float64Array): Float64Array {
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

export function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
