import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Document, NodeIO, TextureInfo } from "@gltf-transform/core";
import { KHRMaterialsUnlit } from "@gltf-transform/extensions";
import { ecefToEnu, ecefToGeodetic, enuToEcefMatrix, type Mat4, transformPoint } from "../crs/geodesy.ts";
import type { SourceCrs } from "../crs/source-crs.ts";
import type { MeshMaterial, MeshPart } from "./mesh-source.ts";
import { renderTexture, textureWindow } from "./mesh-texture.ts";

/** A source part with what every tile needs of it, computed once. */
export interface PreparedPart {
  src: MeshPart;
  /** ECEF per vertex, float64. */
  ecef: Float64Array;
  /** Metres in the mesh-wide ENU frame, float32: enough for splitting and simplifying, never written. */
  enu: Float32Array;
}

export interface TileWriteContext {
  crs: SourceCrs;
  materials: MeshMaterial[];
  parts: PreparedPart[];
  /** Mesh-wide ENU-to-ECEF frame that `enu` is relative to. */
  frame: Mat4;
  outDir: string;
}

export interface WrittenTile {
  frame: Mat4;
  /** [minE, minN, minU, maxE, maxN, maxU] in `frame`. */
  box: number[];
  bytes: number;
  triangles: number;
  vertices: number;
  /** Output texture sizes and the full-resolution pixels they were made from. */
  textures: { width: number; height: number; sourceWidth: number; sourceHeight: number }[];
  positionError: number;
  positionSamples: number;
}

const SAMPLES_PER_PART = 32;

let sharedIo: NodeIO | undefined;
function io(): NodeIO {
  sharedIo ??= new NodeIO().registerExtensions([KHRMaterialsUnlit]);
  return sharedIo;
}

/**
 * One tile's GLB: per part the triangles `content` lists, in an ENU frame at the tile's centre (float32 positions,
 * y-up as glTF wants: ENU (e, n, u) stored as (e, u, -n)), the texture cut to the window the tile's UVs reach and
 * downsampled by 2^level, drawn unlit as photogrammetry textures already hold the scene's lighting.
 */
export async function writeMeshTile(
  ctx: TileWriteContext,
  content: Map<number, Uint32Array>,
  level: number,
  uri: string,
): Promise<WrittenTile> {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const [p, idx] of content) {
    const enu = ctx.parts[p].enu;
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i] * 3;
      for (let k = 0; k < 3; k++) {
        const x = enu[v + k];
        if (x < lo[k]) lo[k] = x;
        if (x > hi[k]) hi[k] = x;
      }
    }
  }
  const c = transformPoint(ctx.frame, (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2);
  const g = ecefToGeodetic(c[0], c[1], c[2]);
  const frame = enuToEcefMatrix(g[0], g[1], g[2]);

  const out: WrittenTile = {
    frame,
    box: [],
    bytes: 0,
    triangles: 0,
    vertices: 0,
    textures: [],
    positionError: 0,
    positionSamples: 0,
  };
  const doc = new Document();
  const buffer = doc.createBuffer();
  const unlit = doc.createExtension(KHRMaterialsUnlit);
  const mesh = doc.createMesh();
  const bmin = [Infinity, Infinity, Infinity];
  const bmax = [-Infinity, -Infinity, -Infinity];
  const l: [number, number, number] = [0, 0, 0];

  for (const [p, idx] of content) {
    if (idx.length === 0) continue;
    const part = ctx.parts[p];
    const src = part.src;
    // Compact the part's vertices to those this tile uses.
    const local = new Map<number, number>();
    const used: number[] = [];
    const indices = new Uint32Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      let k = local.get(idx[i]);
      if (k === undefined) {
        k = used.length;
        local.set(idx[i], k);
        used.push(idx[i]);
      }
      indices[i] = k;
    }
    const n = used.length;
    const positions = new Float32Array(n * 3);
    const step = Math.max(1, Math.floor(n / SAMPLES_PER_PART));
    for (let i = 0; i < n; i++) {
      const v = used[i] * 3;
      ecefToEnu(frame, part.ecef[v], part.ecef[v + 1], part.ecef[v + 2], l);
      positions[i * 3] = l[0];
      positions[i * 3 + 1] = l[2];
      positions[i * 3 + 2] = -l[1];
      for (let k = 0; k < 3; k++) {
        if (l[k] < bmin[k]) bmin[k] = l[k];
        if (l[k] > bmax[k]) bmax[k] = l[k];
      }
      if (i % step === 0) {
        // What a reader reconstructs (float32 local + float64 frame) against proj4's own conversion of the source.
        const stored = transformPoint(frame, positions[i * 3], -positions[i * 3 + 2], positions[i * 3 + 1]);
        const ref = ctx.crs.toEcefReference(src.positions[v], src.positions[v + 1], src.positions[v + 2]);
        const err = Math.hypot(stored[0] - ref[0], stored[1] - ref[1], stored[2] - ref[2]);
        if (err > out.positionError) out.positionError = err;
        out.positionSamples++;
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
    const mat = ctx.materials[src.material];
    const material = doc
      .createMaterial()
      .setBaseColorFactor(mat.color)
      .setMetallicFactor(0)
      .setRoughnessFactor(1)
      .setDoubleSided(true)
      .setAlphaMode(mat.color[3] < 1 ? "BLEND" : "OPAQUE")
      .setExtension("KHR_materials_unlit", unlit.createUnlit());
    if (mat.texture && src.uvs) {
      const uv = new Float32Array(n * 2);
      let u0 = Infinity;
      let v0 = Infinity;
      let u1 = -Infinity;
      let v1 = -Infinity;
      for (let i = 0; i < n; i++) {
        const u = src.uvs[used[i] * 2];
        const v = src.uvs[used[i] * 2 + 1];
        uv[i * 2] = u;
        uv[i * 2 + 1] = v;
        if (u < u0) u0 = u;
        if (u > u1) u1 = u;
        if (v < v0) v0 = v;
        if (v > v1) v1 = v;
      }
      const tex = mat.texture;
      const w = textureWindow(tex, u0, v0, u1, v1, level);
      const whole = w.width === tex.width && w.height === tex.height;
      if (!whole)
        for (let i = 0; i < n; i++) {
          uv[i * 2] = (uv[i * 2] * tex.width - w.left) / w.width;
          uv[i * 2 + 1] = (uv[i * 2 + 1] * tex.height - w.top) / w.height;
        }
      const image = await renderTexture(tex, w);
      const texture = doc.createTexture().setImage(image).setMimeType(tex.mime);
      material.setBaseColorTexture(texture);
      const wrap = whole ? TextureInfo.WrapMode.REPEAT : TextureInfo.WrapMode.CLAMP_TO_EDGE;
      material.getBaseColorTextureInfo()!.setWrapS(wrap).setWrapT(wrap);
      prim.setAttribute("TEXCOORD_0", doc.createAccessor().setType("VEC2").setArray(uv).setBuffer(buffer));
      out.textures.push({
        width: w.outWidth,
        height: w.outHeight,
        sourceWidth: w.width,
        sourceHeight: w.height,
      });
    }
    prim.setMaterial(material);
    mesh.addPrimitive(prim);
    out.vertices += n;
    out.triangles += idx.length / 3;
  }
  doc.createScene().addChild(doc.createNode().setMesh(mesh));
  const glb = await io().writeBinary(doc);
  const file = join(ctx.outDir, uri);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, glb);
  out.bytes = glb.byteLength;
  out.box = [...bmin, ...bmax];
  return out;
}
