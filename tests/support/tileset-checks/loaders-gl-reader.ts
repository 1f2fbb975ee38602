/**
 * Reads a tileset and its GLB contents with loaders.gl, an implementation independent of the writer
 * (gltf-transform), so that "readable by a third-party 3D Tiles client" is what the tests assert.
 *
 * How loaders.gl 4.5 exposes the data (found by reading @loaders.gl/gltf and @loaders.gl/3d-tiles):
 * - `load(url, Tiles3DLoader)` returns the tileset with a normalised tree; each tile has `contentUrl`
 *   resolved against the tileset's directory. In Node its default fetch cannot read local files, so a
 *   file-reading `fetch` is passed in the options.
 * - `parse(glbBytes, Tiles3DLoader)` returns `{ gltf }`, a post-processed glTF (indices resolved to objects,
 *   accessors with a `.value` typed array that already handles byteStride and sparse).
 * - EXT_structural_metadata: `gltf.extensions.EXT_structural_metadata.propertyTables[i].properties[name].data`
 *   holds the decoded column: string[] for STRING, a typed array for SCALAR (BigInt64Array for 64-bit
 *   integers), names for ENUM. BOOLEAN columns make it throw, so callers must strip them first.
 * - EXT_mesh_features: `primitive.extensions.EXT_mesh_features.featureIds[i].data` is meant to be the typed
 *   array of the `_FEATURE_ID_n` attribute, but loaders.gl fills it before it decompresses meshopt: in
 *   @loaders.gl/gltf/src/lib/api/gltf-extensions.ts the EXTENSIONS list runs EXT_mesh_features' decode ahead of
 *   EXT_meshopt_compression's, and parse-gltf.ts loadBuffers() allocates the fallback buffer as zeros, so with
 *   meshopt every feature id reads as 0. The checker therefore takes per-vertex feature ids from the
 *   post-processed accessor (`primitive.attributes._FEATURE_ID_n.value`), which is built after decompression.
 * - EXT_meshopt_compression / KHR_mesh_quantization: decoded by loaders.gl itself (`gltf.decompressMeshes`
 *   defaults to true and its meshoptimizer decoder runs in Node); quantized attributes keep their integer
 *   component type with `normalized` set, and the quantization scale/offset is in the node transform.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Tiles3DLoader } from "@loaders.gl/3d-tiles";
import { load, parse } from "@loaders.gl/core";
import { fromTrs, IDENTITY, type Mat4, multiply } from "./geodesy.ts";

type Json = Record<string, unknown>;

/** A fetch that reads local files, so loaders.gl can follow URLs offline. */
async function fileFetch(url: string): Promise<Response> {
  const path = url.startsWith("file:") ? fileURLToPath(url) : url;
  let response: Response;
  try {
    response = new Response(await readFile(path));
  } catch {
    response = new Response(null, { status: 404, statusText: `not found: ${path}` });
  }
  // loaders.gl derives base URLs from response.url, which a constructed Response leaves empty.
  Object.defineProperty(response, "url", { value: url });
  return response;
}

const LOADER_OPTIONS = {
  fetch: fileFetch,
  worker: false,
  gltf: { loadImages: false },
};

/** Absolute paths of every content file in the tree, as loaders.gl resolves them. */
export async function contentFilesSeenByLoadersGl(tilesetPath: string): Promise<string[]> {
  const tileset = (await load(pathToFileURL(tilesetPath).href, Tiles3DLoader, LOADER_OPTIONS)) as {
    root?: Json;
  };
  const files: string[] = [];
  const walk = (tile: Json) => {
    if (typeof tile.contentUrl === "string" && tile.contentUrl) files.push(fileURLToPath(tile.contentUrl));
    for (const child of (tile.children as Json[] | undefined) ?? []) walk(child);
  };
  if (tileset.root) walk(tileset.root);
  return files;
}

export interface FeatureIdSet {
  featureCount: number;
  /** n of `_FEATURE_ID_n`, for attribute-based sets. */
  attribute?: number;
  /** The `_FEATURE_ID_n` accessor's `normalized` flag (EXT_mesh_features requires false). */
  normalized?: boolean;
  nullFeatureId?: number;
  propertyTable?: number;
  /** Present for attribute-based sets (per-vertex ids). */
  data?: ArrayLike<number | bigint>;
  kind: "attribute" | "texture" | "implicit";
}

export interface LoadedPrimitive {
  label: string;
  /** POSITION values (x, y, z triples), normalised if the accessor is. */
  positions: ArrayLike<number>;
  /** Every node instance of the primitive: glTF scene-space matrices. */
  instances: Mat4[];
  featureIdSets: FeatureIdSet[];
}

export interface LoadedContent {
  primitives: LoadedPrimitive[];
  /** Decoded columns per property table. */
  tables: Array<{ className: string; count: number; columns: Record<string, ArrayLike<unknown>> }>;
  extensionsUsed: string[];
  /** Where loaders.gl's own view disagreed with its decoded accessors (reader limitations, not errors). */
  notes: string[];
}

export async function parseGlbWithLoadersGl(bytes: Uint8Array): Promise<LoadedContent> {
  const content = (await parse(bytes, Tiles3DLoader, {
    ...LOADER_OPTIONS,
    "3d-tiles": { isTileset: false, loadGLTF: true },
  })) as { gltf?: Json };
  if (!content?.gltf) throw new Error("loaders.gl returned no glTF for the content");
  return fromPostprocessedGltf(content.gltf);
}

function nodeMatrix(node: Json): Mat4 {
  if (Array.isArray(node.matrix)) return node.matrix as number[];
  return fromTrs(
    (node.translation as number[] | undefined) ?? [0, 0, 0],
    (node.rotation as number[] | undefined) ?? [0, 0, 0, 1],
    (node.scale as number[] | undefined) ?? [1, 1, 1],
  );
}

/** Normalised integer attributes map to [0, 1] / [-1, 1] (KHR_mesh_quantization). */
function attributeValues(accessor: Json): ArrayLike<number> {
  const value = accessor.value as ArrayLike<number>;
  if (!accessor.normalized) return value;
  const max: Record<number, number> = { 5120: 127, 5121: 255, 5122: 32767, 5123: 65535 };
  const m = max[accessor.componentType as number];
  if (!m) return value;
  return Float64Array.from(value, (v) => Math.max(v / m, -1));
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Number(a[i]) !== Number(b[i])) return false;
  return true;
}

function fromPostprocessedGltf(gltf: Json): LoadedContent {
  const meshes = (gltf.meshes as Json[] | undefined) ?? [];
  const instances = new Map<Json, Mat4[]>();
  const visit = (node: Json, parent: Mat4) => {
    const world = multiply(parent, nodeMatrix(node));
    const mesh = node.mesh as Json | undefined;
    if (mesh) instances.set(mesh, [...(instances.get(mesh) ?? []), world]);
    for (const child of (node.children as Json[] | undefined) ?? []) visit(child, world);
  };
  const scenes = (gltf.scenes as Json[] | undefined) ?? [];
  const scene = (gltf.scene as Json | undefined) ?? scenes[0];
  for (const node of (scene?.nodes as Json[] | undefined) ?? []) visit(node, IDENTITY);

  const primitives: LoadedPrimitive[] = [];
  const notes: string[] = [];
  meshes.forEach((mesh, m) => {
    ((mesh.primitives as Json[] | undefined) ?? []).forEach((prim, p) => {
      const attributes = (prim.attributes as Record<string, Json> | undefined) ?? {};
      const position = attributes.POSITION;
      const sets = ((prim.extensions as Json | undefined)?.EXT_mesh_features as Json | undefined)
        ?.featureIds as Json[] | undefined;
      primitives.push({
        label: `meshes[${m}].primitives[${p}]`,
        positions: position ? attributeValues(position) : [],
        instances: instances.get(mesh) ?? [],
        featureIdSets: (sets ?? []).map((s) => {
          const attribute = s.attribute as number | undefined;
          const accessor = attribute !== undefined ? attributes[`_FEATURE_ID_${attribute}`] : undefined;
          const data = accessor?.value as ArrayLike<number> | undefined;
          const extData = s.data as ArrayLike<number> | undefined;
          if (data && extData && !sameValues(data, extData))
            notes.push(
              "loaders.gl's EXT_mesh_features featureIds[].data differs from its decoded _FEATURE_ID_n accessor " +
                "(loaders.gl 4.5 reads it before decompressing meshopt); feature ids were taken from the accessor",
            );
          return {
            featureCount: s.featureCount as number,
            attribute,
            normalized: accessor ? accessor.normalized === true : undefined,
            nullFeatureId: s.nullFeatureId as number | undefined,
            propertyTable: s.propertyTable as number | undefined,
            data,
            kind: attribute !== undefined ? "attribute" : s.texture !== undefined ? "texture" : "implicit",
          };
        }),
      });
    });
  });

  const metadata = (gltf.extensions as Json | undefined)?.EXT_structural_metadata as Json | undefined;
  const tables = ((metadata?.propertyTables as Json[] | undefined) ?? []).map((t) => {
    const columns: Record<string, ArrayLike<unknown>> = {};
    for (const [name, prop] of Object.entries((t.properties as Record<string, Json> | undefined) ?? {}))
      if (prop.data !== undefined) columns[name] = prop.data as ArrayLike<unknown>;
    return { className: t.class as string, count: t.count as number, columns };
  });
  return { primitives, tables, extensionsUsed: (gltf.extensionsUsed as string[] | undefined) ?? [], notes };
}
