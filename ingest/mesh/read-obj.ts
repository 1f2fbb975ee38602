import { createReadStream, existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
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

/*
 * Hand-written OBJ/MTL reader: @loaders.gl/obj (the maintained option) loads the whole file into one string, ignores
 * MTL texture maps and reports no line numbers, and a bad index must be reported as "file:line". What is read: v, vt,
 * f (polygons fanned into triangles, negative indices), usemtl, mtllib; in MTL newmtl, Kd, d / Tr and map_Kd.
 * Normals (vn) are not used: reality meshes are drawn unlit.
 */

interface PartBuilder {
  material: number;
  positions: Float64Builder;
  uvs: Float64Builder;
  indices: Uint32Builder;
  /** (v, vt) pair -> vertex of this part. */
  vertexOf: Map<number, number>;
}

export interface ReadObjOptions {
  offset: [number, number, number];
  onProgress?: (done: number, total: number) => void;
}

const VT_SPAN = 2 ** 26;

export async function readObj(file: string, opts: ReadObjOptions): Promise<MeshSource> {
  if (!existsSync(file)) throw new MeshInputError(`${file}: file not found`);
  const size = (await stat(file)).size;
  const warnings: string[] = [];
  const v = new Float64Builder();
  const vt = new Float64Builder();
  const materials: MeshMaterial[] = [];
  const materialIndex = new Map<string, number>();
  const parts = new Map<number, PartBuilder>();
  const defaultMaterial = (): number => {
    if (!materialIndex.has("")) {
      materialIndex.set("", materials.length);
      materials.push({ name: "default", color: [0.8, 0.8, 0.8, 1], texture: null });
    }
    return materialIndex.get("")!;
  };
  let current = -1;
  let lineNo = 0;
  const [ox, oy, oz] = opts.offset;
  const poly: number[] = [];

  const stream = createReadStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lastReport = 0;
  for await (const raw of lines) {
    lineNo++;
    if (opts.onProgress && lineNo % 65536 === 0 && stream.bytesRead - lastReport > 4e6) {
      lastReport = stream.bytesRead;
      opts.onProgress(stream.bytesRead, size);
    }
    const line = raw.trim();
    if (line === "" || line[0] === "#") continue;
    const at = `${file}:${lineNo}`;
    const sp = line.search(/\s/);
    const key = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? "" : line.slice(sp + 1).trim();
    if (key === "v") {
      const t = rest.split(/\s+/);
      const x = Number(t[0]);
      const y = Number(t[1]);
      const z = Number(t[2]);
      if (t.length < 3 || !Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z))
        throw new MeshInputError(`${at}: vertex needs three numbers, got "${rest.slice(0, 80)}"`);
      v.push3(x + ox, y + oy, z + oz);
    } else if (key === "vt") {
      const t = rest.split(/\s+/);
      const s = Number(t[0]);
      const tt = t.length > 1 ? Number(t[1]) : 0;
      if (!Number.isFinite(s) || !Number.isFinite(tt))
        throw new MeshInputError(`${at}: texture coordinate needs numbers, got "${rest.slice(0, 80)}"`);
      // OBJ's t runs up from the image's last row; glTF's v runs down from its first.
      vt.push2(s, 1 - tt);
    } else if (key === "f") {
      if (current < 0) current = defaultMaterial();
      let part = parts.get(current);
      if (!part) {
        part = {
          material: current,
          positions: new Float64Builder(),
          uvs: new Float64Builder(),
          indices: new Uint32Builder(),
          vertexOf: new Map(),
        };
        parts.set(current, part);
      }
      const nv = v.length / 3;
      const nt = vt.length / 2;
      poly.length = 0;
      for (const ref of rest.split(/\s+/)) {
        const s1 = ref.indexOf("/");
        const vs = s1 < 0 ? ref : ref.slice(0, s1);
        let ts = "";
        if (s1 >= 0) {
          const s2 = ref.indexOf("/", s1 + 1);
          ts = s2 < 0 ? ref.slice(s1 + 1) : ref.slice(s1 + 1, s2);
        }
        let vi = Number.parseInt(vs, 10);
        if (!Number.isFinite(vi) || vi === 0 || String(vi) !== vs)
          throw new MeshInputError(`${at}: bad vertex index "${ref}" in face`);
        vi = vi < 0 ? nv + vi : vi - 1;
        if (vi < 0 || vi >= nv)
          throw new MeshInputError(
            `${at}: face refers to vertex ${vs}, but ${nv} vertices are defined before this line`,
          );
        let ti = -1;
        if (ts !== "") {
          ti = Number.parseInt(ts, 10);
          if (!Number.isFinite(ti) || ti === 0 || String(ti) !== ts)
            throw new MeshInputError(`${at}: bad texture coordinate index "${ref}" in face`);
          ti = ti < 0 ? nt + ti : ti - 1;
          if (ti >= VT_SPAN - 1)
            throw new MeshInputError(`${at}: more than ${VT_SPAN - 1} texture coordinates are not supported`);
          if (ti < 0 || ti >= nt)
            throw new MeshInputError(
              `${at}: face refers to texture coordinate ${ts}, but ${nt} are defined before this line`,
            );
        }
        const k = vi * VT_SPAN + (ti + 1);
        let index = part.vertexOf.get(k);
        if (index === undefined) {
          index = part.positions.length / 3;
          part.vertexOf.set(k, index);
          part.positions.push3(v.data[vi * 3], v.data[vi * 3 + 1], v.data[vi * 3 + 2]);
          if (ti >= 0) part.uvs.push2(vt.data[ti * 2], vt.data[ti * 2 + 1]);
          else part.uvs.push2(0, 0);
        }
        poly.push(index);
      }
      if (poly.length < 3) throw new MeshInputError(`${at}: face with fewer than three vertices`);
      for (let i = 1; i + 1 < poly.length; i++) {
        part.indices.push(poly[0]);
        part.indices.push(poly[i]);
        part.indices.push(poly[i + 1]);
      }
    } else if (key === "usemtl") {
      const idx = materialIndex.get(rest);
      if (idx === undefined) {
        warnings.push(`${at}: material "${rest}" is not defined in any mtllib; drawn grey`);
        materialIndex.set(rest, materials.length);
        materials.push({ name: rest, color: [0.8, 0.8, 0.8, 1], texture: null });
        current = materials.length - 1;
      } else current = idx;
    } else if (key === "mtllib") {
      const mtl = resolve(dirname(file), rest);
      if (!existsSync(mtl)) throw new MeshInputError(`${at}: material library "${rest}" not found (${mtl})`);
      for (const m of await readMtl(mtl)) {
        if (materialIndex.has(m.name)) continue;
        materialIndex.set(m.name, materials.length);
        materials.push(m);
      }
    }
    // o, g, s, vn, vp, l, p: grouping, smoothing, normals and non-surface elements do not change the mesh.
  }

  const out: MeshPart[] = [];
  for (const p of parts.values()) {
    if (p.indices.length === 0) continue;
    const hasUv = materials[p.material].texture !== null;
    out.push({
      material: p.material,
      positions: p.positions.result(),
      uvs: hasUv ? Float32Array.from(p.uvs.result()) : null,
      indices: p.indices.result(),
    });
  }
  if (out.length === 0) throw new MeshInputError(`${file}: no faces`);
  opts.onProgress?.(size, size);
  return { file, format: "obj", materials, parts: out, warnings };
}

/** MTL: newmtl, Kd, d / Tr and map_Kd (its options skipped); a texture that is missing is an error. */
async function readMtl(file: string): Promise<MeshMaterial[]> {
  const text = await readFile(file, "utf8");
  const out: MeshMaterial[] = [];
  const textures = new Map<string, MeshTexture>();
  let current: MeshMaterial | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line[0] === "#") continue;
    const at = `${file}:${i + 1}`;
    const sp = line.search(/\s/);
    const key = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? "" : line.slice(sp + 1).trim();
    if (key === "newmtl") {
      current = { name: rest, color: [1, 1, 1, 1], texture: null };
      out.push(current);
      continue;
    }
    if (!current) continue;
    if (key === "Kd") {
      const c = rest.split(/\s+/).map(Number);
      if (c.length >= 3 && c.every(Number.isFinite)) current.color = [c[0], c[1], c[2], current.color[3]];
    } else if (key === "d" || key === "Tr") {
      const d = Number(rest.split(/\s+/).pop());
      if (Number.isFinite(d)) current.color[3] = key === "d" ? d : 1 - d;
    } else if (key === "map_Kd") {
      const name = textureName(rest);
      if (!name) throw new MeshInputError(`${at}: map_Kd without a file name`);
      const path = resolve(dirname(file), name.replace(/\\/g, "/"));
      if (!existsSync(path))
        throw new MeshInputError(
          `${at}: texture "${name}" of material "${current.name}" not found (${path})`,
        );
      let tex = textures.get(path);
      if (!tex) {
        tex = await loadTexture(new Uint8Array(await readFile(path)), path);
        textures.set(path, tex);
      }
      current.texture = tex;
    }
  }
  for (const m of out) if (m.texture) m.color = [1, 1, 1, m.color[3]];
  return out;
}

/** map_Kd [-options args...] file name (which may contain spaces). */
const OPTION_ARGS: Record<string, number> = {
  "-blendu": 1,
  "-blendv": 1,
  "-bm": 1,
  "-boost": 1,
  "-cc": 1,
  "-clamp": 1,
  "-imfchan": 1,
  "-mm": 2,
  "-o": 3,
  "-s": 3,
  "-t": 3,
  "-texres": 1,
};

function textureName(rest: string): string {
  const t = rest.split(/\s+/);
  let i = 0;
  while (i < t.length && t[i].startsWith("-") && OPTION_ARGS[t[i]] !== undefined) {
    const n = OPTION_ARGS[t[i]];
    i++;
    // -o/-s/-t take one to three numbers.
    let taken = 0;
    while (taken < n && i < t.length - 1 && Number.isFinite(Number(t[i]))) {
      i++;
      taken++;
    }
  }
  return t.slice(i).join(" ");
}
