import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { type Accessor, type Document, type Material, NodeIO, type Primitive } from "@gltf-transform/core";
import { ALL_EXTENSIONS } from "@gltf-transform/extensions";
import { MeshoptDecoder } from "meshoptimizer";
import {
  Float64Builder,
  MeshInputError,
  type MeshMaterial,
  type MeshPart,
  type MeshSource,
  type MeshTexture,
  Uint32Builder,
} from "./mesh-source.ts";
import { loadTexture } from "./mesh-texture.ts";

export interface ReadGltfOptions {
  offset: [number, number, number];
}

const GLB_MAGIC = 0x46546c67;
const CHUNK_JSON = 0x4e4f534a;

/**
 * glTF 2.0 (.gltf with its buffers and images, or .glb) through gltf-transform. glTF is y-up, so a model whose
 * coordinates are in a map CRS (or ENU) is read as x = east, y = up, z = -north, i.e. CRS (X, Y, Z) = (x, -z, y),
 * after every node's transform. The container and the JSON are checked first so that a damaged file is reported
 * with a byte offset or a JSON pointer rather than a library stack trace.
 */
export async function readGltf(file: string, opts: ReadGltfOptions): Promise<MeshSource> {
  if (!existsSync(file)) throw new MeshInputError(`${file}: file not found`);
  const bytes = new Uint8Array(await readFile(file));
  const isGlb =
    bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) === GLB_MAGIC;
  const json = isGlb ? glbJson(file, bytes) : gltfJson(file, bytes);
  checkReferences(file, json);
  if ((json.extensionsUsed as string[] | undefined)?.includes("KHR_draco_mesh_compression"))
    throw new MeshInputError(
      `${file}: /extensionsUsed: KHR_draco_mesh_compression is not supported; decompress first (e.g. gltf-transform copy)`,
    );

  await MeshoptDecoder.ready;
  const io = new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies({
    "meshopt.decoder": MeshoptDecoder,
  });
  let doc: Document;
  try {
    doc = isGlb ? await io.readBinary(bytes) : await io.read(file);
  } catch (e) {
    throw new MeshInputError(`${file}: ${(e as Error).message}`);
  }
  const warnings: string[] = [];
  if (
    doc
      .getRoot()
      .listExtensionsUsed()
      .some((e) => e.extensionName === "KHR_texture_transform")
  )
    warnings.push(`${file}: KHR_texture_transform is ignored`);

  const root = doc.getRoot();
  const meshes = root.listMeshes();
  const gltfMaterials = root.listMaterials();
  const textures = new Map<object, MeshTexture>();
  const materials: MeshMaterial[] = [];
  const materialOf = new Map<Material | null, number>();
  const parts = new Map<
    number,
    { positions: Float64Builder; uvs: Float64Builder | null; indices: Uint32Builder }
  >();
  const [ox, oy, oz] = opts.offset;

  const materialIndex = async (m: Material | null): Promise<number> => {
    const known = materialOf.get(m);
    if (known !== undefined) return known;
    const c = m?.getBaseColorFactor() ?? [0.8, 0.8, 0.8, 1];
    let texture: MeshTexture | null = null;
    const t = m?.getBaseColorTexture();
    if (t) {
      const image = t.getImage();
      const index = root.listTextures().indexOf(t);
      if (!image) throw new MeshInputError(`${file}: /textures/${index}: image has no data`);
      texture = textures.get(t) ?? null;
      if (!texture) {
        texture = await loadTexture(image, `${file}#/textures/${index}`);
        textures.set(t, texture);
      }
    }
    const index = materials.length;
    materials.push({
      name: m?.getName() || (m ? `material ${gltfMaterials.indexOf(m)}` : "default"),
      color: [c[0], c[1], c[2], c[3]],
      texture,
    });
    materialOf.set(m, index);
    return index;
  };

  const scene = root.getDefaultScene() ?? root.listScenes()[0];
  if (!scene) throw new MeshInputError(`${file}: /scenes: no scene`);
  const visit = async (node: ReturnType<typeof scene.listChildren>[number]) => {
    const mesh = node.getMesh();
    if (mesh) {
      const m = node.getWorldMatrix();
      const mi = meshes.indexOf(mesh);
      for (const [pi, prim] of mesh.listPrimitives().entries()) {
        const ptr = `/meshes/${mi}/primitives/${pi}`;
        const mode = prim.getMode();
        if (mode !== 4 && mode !== 5 && mode !== 6) continue; // points and lines are not a surface
        const pos = prim.getAttribute("POSITION");
        if (!pos) throw new MeshInputError(`${file}: ${ptr}/attributes: no POSITION`);
        const material = await materialIndex(prim.getMaterial());
        const texInfo = prim.getMaterial()?.getBaseColorTextureInfo();
        const uvAcc = materials[material].texture
          ? prim.getAttribute(`TEXCOORD_${texInfo?.getTexCoord() ?? 0}`)
          : null;
        let part = parts.get(material);
        if (!part) {
          part = {
            positions: new Float64Builder(),
            uvs: materials[material].texture ? new Float64Builder() : null,
            indices: new Uint32Builder(),
          };
          parts.set(material, part);
        }
        const base = part.positions.length / 3;
        const n = pos.getCount();
        const el: number[] = [];
        for (let i = 0; i < n; i++) {
          pos.getElement(i, el);
          const x = m[0] * el[0] + m[4] * el[1] + m[8] * el[2] + m[12];
          const y = m[1] * el[0] + m[5] * el[1] + m[9] * el[2] + m[13];
          const z = m[2] * el[0] + m[6] * el[1] + m[10] * el[2] + m[14];
          part.positions.push3(x + ox, -z + oy, y + oz);
          if (part.uvs) {
            if (uvAcc) {
              uvAcc.getElement(i, el);
              part.uvs.push2(el[0], el[1]);
            } else part.uvs.push2(0, 0);
          }
        }
        const flipped = determinant3(m) < 0;
        for (const [a, b, c] of triangles(file, ptr, prim, n)) {
          part.indices.push(base + a);
          part.indices.push(base + (flipped ? c : b));
          part.indices.push(base + (flipped ? b : c));
        }
      }
    }
    for (const child of node.listChildren()) await visit(child);
  };
  for (const node of scene.listChildren()) await visit(node);

  const out: MeshPart[] = [];
  for (const [material, p] of parts) {
    if (p.indices.length === 0) continue;
    out.push({
      material,
      positions: p.positions.result(),
      uvs: p.uvs ? Float32Array.from(p.uvs.result()) : null,
      indices: p.indices.result(),
    });
  }
  if (out.length === 0) throw new MeshInputError(`${file}: no triangles in the default scene`);
  return { file, format: isGlb ? "glb" : "gltf", materials, parts: out, warnings };
}

function* triangles(
  file: string,
  ptr: string,
  prim: Primitive,
  n: number,
): Generator<[number, number, number]> {
  const indices: Accessor | null = prim.getIndices();
  const count = indices ? indices.getCount() : n;
  const at = (i: number): number => {
    const v = indices ? indices.getScalar(i) : i;
    if (!(v >= 0 && v < n))
      throw new MeshInputError(
        `${file}: ${ptr}/indices: index ${v} at position ${i} is not below the ${n} vertices`,
      );
    return v;
  };
  const mode = prim.getMode();
  if (mode === 4) for (let i = 0; i + 2 < count; i += 3) yield [at(i), at(i + 1), at(i + 2)];
  else if (mode === 5)
    for (let i = 0; i + 2 < count; i++)
      yield i % 2 === 0 ? [at(i), at(i + 1), at(i + 2)] : [at(i + 1), at(i), at(i + 2)];
  else for (let i = 1; i + 1 < count; i++) yield [at(0), at(i), at(i + 1)];
}

function determinant3(m: number[]): number {
  return (
    m[0] * (m[5] * m[10] - m[9] * m[6]) -
    m[4] * (m[1] * m[10] - m[9] * m[2]) +
    m[8] * (m[1] * m[6] - m[5] * m[2])
  );
}

type Json = Record<string, unknown>;

function glbJson(file: string, bytes: Uint8Array): Json {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 20) throw new MeshInputError(`${file}: byte 0: GLB shorter than its 20-byte header`);
  const version = dv.getUint32(4, true);
  if (version !== 2) throw new MeshInputError(`${file}: byte 4: GLB version ${version}, only 2 is supported`);
  const length = dv.getUint32(8, true);
  if (length > bytes.length)
    throw new MeshInputError(
      `${file}: byte 8: GLB declares ${length} bytes but the file has ${bytes.length} (truncated)`,
    );
  const jsonLength = dv.getUint32(12, true);
  if (dv.getUint32(16, true) !== CHUNK_JSON)
    throw new MeshInputError(`${file}: byte 16: first GLB chunk is not JSON`);
  if (20 + jsonLength > length)
    throw new MeshInputError(
      `${file}: byte 12: JSON chunk of ${jsonLength} bytes runs past the end of the GLB`,
    );
  return parseJson(file, new TextDecoder().decode(bytes.subarray(20, 20 + jsonLength)), 20);
}

function gltfJson(file: string, bytes: Uint8Array): Json {
  if (bytes.length >= 4 && bytes[0] === 0x67 && bytes[1] === 0x6c)
    throw new MeshInputError(`${file}: byte 0: not a GLB header`);
  return parseJson(file, new TextDecoder().decode(bytes), 0);
}

function parseJson(file: string, text: string, base: number): Json {
  try {
    const json = JSON.parse(text);
    if (typeof json !== "object" || json === null || Array.isArray(json))
      throw new MeshInputError(`${file}: byte ${base}: glTF JSON is not an object`);
    return json as Json;
  } catch (e) {
    if (e instanceof MeshInputError) throw e;
    const pos = /position (\d+)/.exec((e as Error).message)?.[1];
    // JSON.parse counts UTF-16 units; the byte offset of that character is what a hex editor shows.
    const byte =
      pos !== undefined ? base + new TextEncoder().encode(text.slice(0, Number(pos))).length : base;
    throw new MeshInputError(`${file}: byte ${byte}: invalid glTF JSON: ${(e as Error).message}`);
  }
}

/** References the meshes depend on, checked with JSON pointers before gltf-transform resolves them. */
function checkReferences(file: string, json: Json): void {
  const list = (k: string) => (Array.isArray(json[k]) ? (json[k] as Json[]) : []);
  const accessors = list("accessors").length;
  const bad = (ptr: string, what: string, i: unknown, n: number) =>
    new MeshInputError(`${file}: ${ptr}: ${what} ${String(i)} does not exist (there are ${n})`);
  const ref = (ptr: string, what: string, i: unknown, n: number) => {
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= n) throw bad(ptr, what, i, n);
  };
  if (!(json.asset as Json | undefined)?.version)
    throw new MeshInputError(`${file}: /asset/version: missing`);
  list("meshes").forEach((mesh, mi) => {
    const prims = Array.isArray(mesh.primitives) ? (mesh.primitives as Json[]) : [];
    prims.forEach((p, pi) => {
      const ptr = `/meshes/${mi}/primitives/${pi}`;
      for (const [name, a] of Object.entries((p.attributes as Json) ?? {}))
        ref(`${ptr}/attributes/${name}`, "accessor", a, accessors);
      if (p.indices !== undefined) ref(`${ptr}/indices`, "accessor", p.indices, accessors);
      if (p.material !== undefined) ref(`${ptr}/material`, "material", p.material, list("materials").length);
    });
  });
  list("nodes").forEach((n, i) => {
    if (n.mesh !== undefined) ref(`/nodes/${i}/mesh`, "mesh", n.mesh, list("meshes").length);
    for (const [k, c] of ((n.children as unknown[]) ?? []).entries())
      ref(`/nodes/${i}/children/${k}`, "node", c, list("nodes").length);
  });
  list("accessors").forEach((a, i) => {
    if (a.bufferView !== undefined)
      ref(`/accessors/${i}/bufferView`, "bufferView", a.bufferView, list("bufferViews").length);
  });
  list("bufferViews").forEach((b, i) => {
    ref(`/bufferViews/${i}/buffer`, "buffer", b.buffer, list("buffers").length);
  });
  list("textures").forEach((t, i) => {
    if (t.source !== undefined) ref(`/textures/${i}/source`, "image", t.source, list("images").length);
  });
}
