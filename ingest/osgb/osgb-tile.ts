import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Document, NodeIO, type Texture, TextureInfo } from "@gltf-transform/core";
import { KHRMaterialsUnlit } from "@gltf-transform/extensions";
import sharp from "sharp";
import {
  ecefToEnu,
  enuToEcefMatrix,
  geodeticToEcef,
  IDENTITY,
  type Mat4,
  multiply,
  transformPoint,
} from "../crs/geodesy.ts";
import type { SourceCrs } from "../crs/source-crs.ts";
import type {
  OsgbGeometry,
  OsgbImage,
  OsgbMaterial,
  OsgbNode,
  OsgbPagedLod,
  OsgbPrimitiveSet,
  OsgbTexture,
} from "./osgb-types.ts";
import { readOsgb } from "./read-osgb.ts";

/**
 * Cesium refines a tile once geometricError * f / d exceeds its maximum screen-space error (16 px by default), f
 * being the focal length in pixels. OSG's PIXEL_SIZE_ON_SCREEN switches a PagedLOD to its child once the bounding
 * sphere's projected diameter 2r * f / d reaches the child's range minimum N. Both conditions hold at the same
 * distance when geometricError = SSE * 2r / N, whatever the screen, so Cesium at its default SSE loads each level
 * where OSG would.
 */
export const CESIUM_DEFAULT_SSE = 16;
/** For DISTANCE_FROM_EYE_POINT ranges only: f of a 1080-pixel-high view with a 60 degree vertical field of view. */
const FOCAL_PIXELS = 540 / Math.tan(Math.PI / 6);

/** GL_POINTS, GL_LINES, GL_LINE_LOOP, GL_LINE_STRIP: nothing to draw in a mesh. */
const GL_POINTS_ONLY = new Set([0, 1, 2, 3]);

export interface TileContext {
  crs: SourceCrs;
  srsOrigin: [number, number, number];
  /** Folder the GLBs are written under. */
  outDir: string;
}

export interface TileJob {
  id: number;
  file: string;
  /** Content uri relative to tileset.json, e.g. tiles/Tile_+000_+000/Tile_+000_+000_L16_0.glb. */
  uri: string;
}

/** The small per-file result the tileset is assembled from; the geometry itself is already on disk. */
export interface TileRecord {
  id: number;
  file: string;
  /** Null when the file has no triangles (e.g. a Group of PagedLODs only pointing at children). */
  uri: string | null;
  /** ENU-to-ECEF frame of the tile (column-major), float64. */
  frame: number[];
  /** [minE, minN, minU, maxE, maxN, maxU] of the content in `frame`; null without content. */
  box: number[] | null;
  geometricError: number;
  /** Child .osgb files that exist, in PagedLOD order. */
  children: string[];
  missing: { file: string; reason: string }[];
  vertices: number;
  triangles: number;
  textures: number;
  bytes: number;
  positionError: number;
  positionSamples: number;
  warnings: string[];
}

interface Placed {
  geometry: OsgbGeometry;
  matrix: Mat4 | null;
  texture: OsgbTexture | null;
  material: OsgbMaterial | null;
}

let sharedIo: NodeIO | undefined;
function io(): NodeIO {
  sharedIo ??= new NodeIO().registerExtensions([KHRMaterialsUnlit]);
  return sharedIo;
}

/** Reads one .osgb file, writes its own geometry as a GLB and returns the record its tile is built from. */
export async function convertOsgbFile(job: TileJob, ctx: TileContext): Promise<TileRecord> {
  const bytes = await readFile(job.file);
  const scene = readOsgb(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    file: job.file,
  });
  const warnings: string[] = [];
  for (const [cls, n] of Object.entries(scene.skippedClasses))
    warnings.push(`${n} ${cls} object(s) not decoded (skipped)`);

  const placed: Placed[] = [];
  const lods: { lod: OsgbPagedLod; matrix: Mat4 | null }[] = [];
  collect(scene.root, null, null, null, placed, lods);

  const children: string[] = [];
  const missing: TileRecord["missing"] = [];
  let geometricError = 0;
  for (const { lod, matrix } of lods) {
    lod.fileNames.forEach((name, i) => {
      if (!name) return;
      const child = resolve(dirname(job.file), lod.databasePath ?? "", name);
      if (!existsSync(child)) {
        missing.push({ file: child, reason: "child file not found" });
        return;
      }
      if (!children.includes(child)) children.push(child);
      const ge = lodGeometricError(lod, lod.ranges[i], matrix);
      if (ge === null) warnings.push(`PagedLOD ${lod.id}: no usable range for ${name}`);
      else geometricError = Math.max(geometricError, ge);
    });
  }

  // Source-CRS coordinates of every vertex, float64 (the file's float32 values, transformed, plus SRSOrigin).
  const [ox, oy, oz] = ctx.srsOrigin;
  const meshes: { p: Placed; srs: Float64Array; indices: Uint32Array }[] = [];
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const p of placed) {
    const v = p.geometry.vertices;
    if (!v || v.itemSize < 2 || v.count === 0) continue;
    const indices = triangulate(p.geometry.primitives, v.count);
    if (indices.length === 0) continue;
    const srs = new Float64Array(v.count * 3);
    for (let i = 0; i < v.count; i++) {
      const x = v.data[i * v.itemSize];
      const y = v.data[i * v.itemSize + 1];
      const z = v.itemSize > 2 ? v.data[i * v.itemSize + 2] : 0;
      const q = p.matrix ? transformPoint(p.matrix, x, y, z) : [x, y, z];
      srs[i * 3] = q[0] + ox;
      srs[i * 3 + 1] = q[1] + oy;
      srs[i * 3 + 2] = q[2] + oz;
      for (let k = 0; k < 3; k++) {
        if (srs[i * 3 + k] < lo[k]) lo[k] = srs[i * 3 + k];
        if (srs[i * 3 + k] > hi[k]) hi[k] = srs[i * 3 + k];
      }
    }
    meshes.push({ p, srs, indices });
  }

  let centre: number[];
  if (meshes.length > 0) centre = [0, 1, 2].map((k) => (lo[k] + hi[k]) / 2);
  else {
    const c = lods.find((l) => l.lod.center)?.lod.center;
    centre = c ? [c[0] + ox, c[1] + oy, c[2] + oz] : [ox, oy, oz];
  }
  const [clon, clat, ch] = ctx.crs.toGeodetic(centre[0], centre[1], centre[2]);
  const frame = enuToEcefMatrix(clon, clat, ch);

  const record: TileRecord = {
    id: job.id,
    file: job.file,
    uri: null,
    frame,
    box: null,
    geometricError,
    children,
    missing,
    vertices: 0,
    triangles: 0,
    textures: 0,
    bytes: 0,
    positionError: 0,
    positionSamples: 0,
    warnings,
  };
  if (meshes.length === 0) return record;

  // Directions in the source CRS map to the ENU frame through the projection's local Jacobian (meridian
  // convergence and scale of a Gauss-Kruger grid), taken once per tile for the normals.
  const toLocal = (x: number, y: number, z: number, out: [number, number, number]) => {
    const g = ctx.crs.toGeodetic(x, y, z);
    const e = geodeticToEcef(g[0], g[1], g[2]);
    return ecefToEnu(frame, e[0], e[1], e[2], out);
  };
  const c0 = toLocal(centre[0], centre[1], centre[2], [0, 0, 0]);
  const jac = [0, 1, 2].map((k) => {
    const d = [centre[0], centre[1], centre[2]];
    d[k] += 1;
    const q = toLocal(d[0], d[1], d[2], [0, 0, 0]);
    return [q[0] - c0[0], q[1] - c0[1], q[2] - c0[2]];
  });

  const doc = new Document();
  const buffer = doc.createBuffer();
  const unlit = doc.createExtension(KHRMaterialsUnlit);
  const mesh = doc.createMesh();
  const textures = new Map<OsgbImage, Texture | null>();
  const bmin = [Infinity, Infinity, Infinity];
  const bmax = [-Infinity, -Infinity, -Infinity];
  const tmp: [number, number, number] = [0, 0, 0];

  for (const { p, srs, indices } of meshes) {
    const g = p.geometry;
    const n = srs.length / 3;
    const positions = new Float32Array(n * 3);
    const sampleStep = Math.max(1, Math.floor(n / 16));
    // glTF content is y-up: ENU (e, n, u) is stored as (e, u, -n).
    for (let i = 0; i < n; i++) {
      const l = toLocal(srs[i * 3], srs[i * 3 + 1], srs[i * 3 + 2], tmp);
      positions[i * 3] = l[0];
      positions[i * 3 + 1] = l[2];
      positions[i * 3 + 2] = -l[1];
      for (let k = 0; k < 3; k++) {
        if (l[k] < bmin[k]) bmin[k] = l[k];
        if (l[k] > bmax[k]) bmax[k] = l[k];
      }
      if (i % sampleStep === 0) {
        // What a reader reconstructs (float32 local + float64 frame) against proj4's own direct conversion.
        const stored = transformPoint(frame, positions[i * 3], -positions[i * 3 + 2], positions[i * 3 + 1]);
        const ref = ctx.crs.toEcefReference(srs[i * 3], srs[i * 3 + 1], srs[i * 3 + 2]);
        const err = Math.hypot(stored[0] - ref[0], stored[1] - ref[1], stored[2] - ref[2]);
        if (err > record.positionError) record.positionError = err;
        record.positionSamples++;
      }
    }
    const prim = doc
      .createPrimitive()
      .setAttribute("POSITION", doc.createAccessor().setType("VEC3").setArray(positions).setBuffer(buffer))
      .setIndices(
        doc
          .createAccessor()
          .setType("SCALAR")
          .setArray(n <= 65535 ? Uint16Array.from(indices) : indices)
          .setBuffer(buffer),
      );
    const normals = perVertex(g.normals, n, 3) ? normalsInFrame(g, p.matrix, jac) : null;
    if (normals)
      prim.setAttribute("NORMAL", doc.createAccessor().setType("VEC3").setArray(normals).setBuffer(buffer));
    const image = p.texture?.image ?? null;
    const tc = g.texCoords[0] ?? null;
    let texture: Texture | null = null;
    if (image && tc && perVertex(tc, n, 2)) {
      if (!textures.has(image)) textures.set(image, await gltfTexture(doc, image, job.file, warnings));
      texture = textures.get(image) ?? null;
      if (texture) {
        const uv = new Float32Array(n * 2);
        for (let i = 0; i < n; i++) {
          uv[i * 2] = Number(tc.data[i * tc.itemSize]);
          // OSG's t runs up from the image's last row; glTF's v runs down from its first.
          uv[i * 2 + 1] = 1 - Number(tc.data[i * tc.itemSize + 1]);
        }
        prim.setAttribute("TEXCOORD_0", doc.createAccessor().setType("VEC2").setArray(uv).setBuffer(buffer));
      }
    }
    if (!texture && g.colors && perVertex(g.colors, n, 3)) {
      const c = g.colors;
      const rgba = new Float32Array(n * 4);
      const scale = c.data instanceof Uint8Array ? 1 / 255 : 1;
      for (let i = 0; i < n; i++)
        for (let k = 0; k < 4; k++)
          rgba[i * 4 + k] = k < c.itemSize ? Number(c.data[i * c.itemSize + k]) * scale : 1;
      prim.setAttribute("COLOR_0", doc.createAccessor().setType("VEC4").setArray(rgba).setBuffer(buffer));
    }
    const diffuse = p.material?.diffuse ?? [1, 1, 1, 1];
    const material = doc
      .createMaterial()
      .setBaseColorFactor(texture ? [1, 1, 1, diffuse[3]] : [diffuse[0], diffuse[1], diffuse[2], diffuse[3]])
      .setMetallicFactor(0)
      .setRoughnessFactor(1)
      .setDoubleSided(true)
      .setAlphaMode(diffuse[3] < 1 ? "BLEND" : "OPAQUE")
      // Photogrammetry textures already hold the scene's lighting.
      .setExtension("KHR_materials_unlit", unlit.createUnlit());
    if (texture) {
      material.setBaseColorTexture(texture);
      const info = material.getBaseColorTextureInfo()!;
      info.setWrapS(wrapMode(p.texture?.wrapS)).setWrapT(wrapMode(p.texture?.wrapT));
    }
    prim.setMaterial(material);
    mesh.addPrimitive(prim);
    record.vertices += n;
    record.triangles += indices.length / 3;
  }
  doc.createScene().addChild(doc.createNode().setMesh(mesh));
  record.textures = [...textures.values()].filter(Boolean).length;
  const glb = await io().writeBinary(doc);
  const out = join(ctx.outDir, job.uri);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, glb);
  record.uri = job.uri;
  record.bytes = glb.byteLength;
  record.box = [...bmin, ...bmax];
  return record;
}

/** Gathers the file's own drawables with their accumulated transform and inherited texture/material. */
function collect(
  node: OsgbNode | null,
  matrix: Mat4 | null,
  texture: OsgbTexture | null,
  material: OsgbMaterial | null,
  placed: Placed[],
  lods: { lod: OsgbPagedLod; matrix: Mat4 | null }[],
): void {
  if (!node || node.kind === "unknown") return;
  if (node.stateSet) {
    const t = node.stateSet.textures[0];
    if (t?.image) texture = t;
    if (node.stateSet.material) material = node.stateSet.material;
  }
  if (node.kind === "geometry") {
    placed.push({ geometry: node, matrix, texture, material });
    return;
  }
  if (node.kind === "group" && node.matrix) matrix = matrix ? multiply(matrix, node.matrix) : node.matrix;
  if (node.kind === "pagedLod") lods.push({ lod: node, matrix });
  for (const c of node.children) collect(c, matrix, texture, material, placed, lods);
}

function lodGeometricError(
  lod: OsgbPagedLod,
  range: [number, number] | undefined,
  matrix: Mat4 | null,
): number | null {
  if (!range) return null;
  const scale = matrix ? Math.hypot(matrix[0], matrix[1], matrix[2]) : 1;
  if (lod.rangeMode === 1) {
    const radius = (lod.radius ?? 0) * scale;
    if (!(radius > 0)) return null;
    return (CESIUM_DEFAULT_SSE * 2 * radius) / Math.max(1, range[0]);
  }
  // DISTANCE_FROM_EYE_POINT: the child is shown nearer than its range's far end.
  if (!(range[1] > 0) || range[1] >= 1e29) return null;
  return (CESIUM_DEFAULT_SSE * range[1] * scale) / FOCAL_PIXELS;
}

function perVertex(a: OsgbGeometry["normals"], n: number, minItem: number): a is NonNullable<typeof a> {
  return Boolean(a && a.count === n && a.itemSize >= minItem && (a.binding === 4 || a.binding === -1));
}

/** glTF triangle list from every triangle-producing primitive set; points and lines are not part of a mesh. */
export function triangulate(sets: OsgbPrimitiveSet[], vertexCount: number): Uint32Array {
  const out: number[] = [];
  const tri = (a: number, b: number, c: number) => {
    if (a === b || b === c || a === c) return;
    if (a >= vertexCount || b >= vertexCount || c >= vertexCount) return;
    out.push(a, b, c);
  };
  const emit = (mode: number, at: (i: number) => number, count: number) => {
    if (GL_POINTS_ONLY.has(mode)) return;
    if (mode === 4) for (let i = 0; i + 2 < count; i += 3) tri(at(i), at(i + 1), at(i + 2));
    else if (mode === 5)
      for (let i = 0; i + 2 < count; i++) {
        if (i % 2 === 0) tri(at(i), at(i + 1), at(i + 2));
        else tri(at(i + 1), at(i), at(i + 2));
      }
    else if (mode === 6 || mode === 9) for (let i = 1; i + 1 < count; i++) tri(at(0), at(i), at(i + 1));
    else if (mode === 7)
      for (let i = 0; i + 3 < count; i += 4) {
        tri(at(i), at(i + 1), at(i + 2));
        tri(at(i), at(i + 2), at(i + 3));
      }
    else if (mode === 8)
      for (let i = 0; i + 3 < count; i += 2) {
        tri(at(i), at(i + 1), at(i + 3));
        tri(at(i), at(i + 3), at(i + 2));
      }
  };
  for (const s of sets) {
    const instances = Math.max(1, s.numInstances || 1);
    if (instances > 1) continue; // instanced drawing does not occur in photogrammetry tiles
    if (s.indices) {
      const idx = s.indices;
      emit(s.mode, (i) => idx[i], idx.length);
    } else if (s.lengths) {
      let first = s.first ?? 0;
      for (const len of s.lengths) {
        const f = first;
        emit(s.mode, (i) => f + i, len);
        first += len;
      }
    } else if (s.count !== undefined) {
      const f = s.first ?? 0;
      emit(s.mode, (i) => f + i, s.count);
    }
  }
  return Uint32Array.from(out);
}

function normalsInFrame(g: OsgbGeometry, matrix: Mat4 | null, jac: number[][]): Float32Array {
  const a = g.normals!;
  const n = a.count;
  const out = new Float32Array(n * 3);
  const m = matrix ?? IDENTITY;
  for (let i = 0; i < n; i++) {
    const x = Number(a.data[i * a.itemSize]);
    const y = Number(a.data[i * a.itemSize + 1]);
    const z = Number(a.data[i * a.itemSize + 2]);
    const sx = m[0] * x + m[4] * y + m[8] * z;
    const sy = m[1] * x + m[5] * y + m[9] * z;
    const sz = m[2] * x + m[6] * y + m[10] * z;
    const e = jac[0][0] * sx + jac[1][0] * sy + jac[2][0] * sz;
    const nn = jac[0][1] * sx + jac[1][1] * sy + jac[2][1] * sz;
    const u = jac[0][2] * sx + jac[1][2] * sy + jac[2][2] * sz;
    const len = Math.hypot(e, nn, u) || 1;
    out[i * 3] = e / len;
    out[i * 3 + 1] = u / len;
    out[i * 3 + 2] = -nn / len;
  }
  return out;
}

function wrapMode(gl: number | undefined): (typeof TextureInfo.WrapMode)[keyof typeof TextureInfo.WrapMode] {
  if (gl === 0x2901) return TextureInfo.WrapMode.REPEAT;
  if (gl === 0x8370) return TextureInfo.WrapMode.MIRRORED_REPEAT;
  return TextureInfo.WrapMode.CLAMP_TO_EDGE;
}

function sniff(bytes: Uint8Array): "image/jpeg" | "image/png" | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  return undefined;
}

const GL_CHANNELS: Record<number, { channels: 1 | 2 | 3 | 4; bgr: boolean }> = {
  6407: { channels: 3, bgr: false }, // GL_RGB
  6408: { channels: 4, bgr: false }, // GL_RGBA
  6409: { channels: 1, bgr: false }, // GL_LUMINANCE
  6410: { channels: 2, bgr: false }, // GL_LUMINANCE_ALPHA
  32992: { channels: 3, bgr: true }, // GL_BGR
  32993: { channels: 4, bgr: true }, // GL_BGRA
};

/**
 * JPEG and PNG bytes go into the GLB unchanged (no re-encoding loss); raw pixels and other encodings become PNG.
 * A texture that cannot be had is a warning and the geometry falls back to its material colour.
 */
async function gltfTexture(
  doc: Document,
  image: OsgbImage,
  file: string,
  warnings: string[],
): Promise<Texture | null> {
  try {
    let bytes: Uint8Array | undefined;
    if (image.storage === "file" && image.data) bytes = image.data;
    else if (image.storage === "external") {
      const path = resolve(dirname(file), image.fileName);
      if (!existsSync(path)) {
        warnings.push(`texture ${image.fileName} not found (${path})`);
        return null;
      }
      bytes = new Uint8Array(await readFile(path));
    } else if (image.storage === "pixels" && image.data) {
      const fmt = GL_CHANNELS[image.pixelFormat ?? -1];
      const w = image.width ?? 0;
      const h = image.height ?? 0;
      if (!fmt || image.dataType !== 0x1401 || (image.depth ?? 1) !== 1) {
        warnings.push(
          `texture ${image.fileName || image.id}: pixel format 0x${(image.pixelFormat ?? 0).toString(16)} / type 0x${(image.dataType ?? 0).toString(16)} not supported`,
        );
        return null;
      }
      let px = image.data.subarray(0, w * h * fmt.channels);
      if (px.length < w * h * fmt.channels) {
        warnings.push(
          `texture ${image.fileName || image.id}: ${image.data.length} bytes for ${w}x${h} pixels`,
        );
        return null;
      }
      if (fmt.bgr) {
        px = Uint8Array.from(px);
        for (let i = 0; i < px.length; i += fmt.channels) [px[i], px[i + 2]] = [px[i + 2], px[i]];
      }
      // Raw rows start at t = 0 (the bottom); flipped so that the PNG's first row is the top, as in a JPEG.
      const png = await sharp(px, { raw: { width: w, height: h, channels: fmt.channels } })
        .flip()
        .png()
        .toBuffer();
      return doc.createTexture().setImage(new Uint8Array(png)).setMimeType("image/png");
    }
    if (!bytes) {
      warnings.push(`texture ${image.fileName || image.id}: no image data`);
      return null;
    }
    const mime = sniff(bytes);
    if (mime) return doc.createTexture().setImage(bytes).setMimeType(mime);
    const png = await sharp(bytes).png().toBuffer();
    return doc.createTexture().setImage(new Uint8Array(png)).setMimeType("image/png");
  } catch (e) {
    warnings.push(`texture ${image.fileName || image.id}: ${(e as Error).message}`);
    return null;
  }
}
