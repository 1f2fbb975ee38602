import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Document, NodeIO } from "@gltf-transform/core";
import sharp from "sharp";

/**
 * A terrain-like textured grid: (n x n) quads split into 2 n^2 triangles, x/y in metres relative to an offset, a
 * height field of a few metres of relief, texture coordinates spanning the texture once (a planar projection, as
 * an orthophoto drapes).
 */
export interface TerrainSpec {
  n: number;
  /** Grid spacing, metres. */
  step: number;
  textureSize: number;
}

export const heightAt = (x: number, y: number): number =>
  12 * Math.sin(x / 90) * Math.cos(y / 130) + 4 * Math.sin((x + 2 * y) / 37);

export function gridPosition(spec: TerrainSpec, i: number, j: number): [number, number, number] {
  // Rounded as the OBJ writes them, so that the test knows the exact source coordinates.
  const r = (v: number) => Number(v.toFixed(4));
  const x = r(i * spec.step);
  const y = r(j * spec.step);
  return [x, y, r(heightAt(x, y))];
}

/** JPEG with structure at every scale (gradient, rings, checker), so downsampling is visible and real work. */
export async function terrainTexture(size: number): Promise<Buffer> {
  const px = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const ring = Math.sin(Math.hypot(x - size / 2, y - size / 2) / 9) * 60;
      const checker = ((x >> 5) + (y >> 5)) % 2 ? 40 : 0;
      px[o] = Math.max(0, Math.min(255, (x * 200) / size + ring));
      px[o + 1] = Math.max(0, Math.min(255, (y * 200) / size + checker));
      px[o + 2] = Math.max(0, Math.min(255, 120 - ring + checker));
    }
  return sharp(px, { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** terrain.obj + terrain.mtl + terrain.jpg in `dir`; returns the .obj path. */
export async function writeTerrainObj(dir: string, spec: TerrainSpec, texture: Buffer): Promise<string> {
  const { n } = spec;
  writeFileSync(join(dir, "terrain.jpg"), texture);
  writeFileSync(join(dir, "terrain.mtl"), "newmtl ground\nKd 1 1 1\nmap_Kd terrain.jpg\n");
  const lines: string[] = ["# generated terrain", "mtllib terrain.mtl", "o terrain"];
  for (let j = 0; j <= n; j++)
    for (let i = 0; i <= n; i++) {
      const [x, y, z] = gridPosition(spec, i, j);
      lines.push(`v ${x.toFixed(4)} ${y.toFixed(4)} ${z.toFixed(4)}`);
    }
  for (let j = 0; j <= n; j++) for (let i = 0; i <= n; i++) lines.push(`vt ${i / n} ${j / n}`);
  lines.push("usemtl ground");
  const id = (i: number, j: number) => j * (n + 1) + i + 1;
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const a = id(i, j);
      const b = id(i + 1, j);
      const c = id(i + 1, j + 1);
      const d = id(i, j + 1);
      // Quads as written by many exporters: the reader fans them into two triangles.
      lines.push(`f ${a}/${a} ${b}/${b} ${c}/${c} ${d}/${d}`);
    }
  const file = join(dir, "terrain.obj");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/**
 * The same grid as a GLB: y-up (x, z, -y), positions relative to a node translation of `shift` so that the
 * reader has to apply node transforms, texture embedded.
 */
export const GLB_SHIFT: [number, number, number] = [200, 3, -150];

/** Source CRS coordinates (before --offset) the GLB's float32 vertex (i, j) stands for. */
export function glbSourcePosition(spec: TerrainSpec, i: number, j: number): [number, number, number] {
  const [x, y, z] = gridPosition(spec, i, j);
  const [sx, sy, sz] = GLB_SHIFT;
  return [Math.fround(x - sx) + sx, -(Math.fround(-y - sz) + sz), Math.fround(z - sy) + sy];
}

export async function writeTerrainGlb(dir: string, spec: TerrainSpec, texture: Buffer): Promise<string> {
  const { n } = spec;
  const shift = GLB_SHIFT;
  const count = (n + 1) * (n + 1);
  const pos = new Float32Array(count * 3);
  const uv = new Float32Array(count * 2);
  for (let j = 0; j <= n; j++)
    for (let i = 0; i <= n; i++) {
      const k = j * (n + 1) + i;
      const [x, y, z] = gridPosition(spec, i, j);
      pos[k * 3] = x - shift[0];
      pos[k * 3 + 1] = z - shift[1];
      pos[k * 3 + 2] = -y - shift[2];
      uv[k * 2] = i / n;
      uv[k * 2 + 1] = 1 - j / n;
    }
  const idx = new Uint32Array(n * n * 6);
  let o = 0;
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const a = j * (n + 1) + i;
      const b = a + 1;
      const d = a + n + 1;
      const c = d + 1;
      idx.set([a, b, c, a, c, d], o);
      o += 6;
    }
  const doc = new Document();
  const buffer = doc.createBuffer();
  const tex = doc.createTexture("ground").setImage(new Uint8Array(texture)).setMimeType("image/jpeg");
  const material = doc.createMaterial("ground").setBaseColorTexture(tex);
  const prim = doc
    .createPrimitive()
    .setAttribute("POSITION", doc.createAccessor().setType("VEC3").setArray(pos).setBuffer(buffer))
    .setAttribute("TEXCOORD_0", doc.createAccessor().setType("VEC2").setArray(uv).setBuffer(buffer))
    .setIndices(doc.createAccessor().setType("SCALAR").setArray(idx).setBuffer(buffer))
    .setMaterial(material);
  const node = doc.createNode("terrain").setMesh(doc.createMesh().addPrimitive(prim)).setTranslation(shift);
  doc.createScene().addChild(node);
  const file = join(dir, "terrain.glb");
  writeFileSync(file, await new NodeIO().writeBinary(doc));
  return file;
}
