import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeIO } from "@gltf-transform/core";
import { KHRMaterialsUnlit } from "@gltf-transform/extensions";
import proj4 from "proj4";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.ts";
import {
  IDENTITY,
  type Mat4,
  multiply,
  transformPoint,
  Y_UP_TO_Z_UP,
} from "../support/tileset-checks/geodesy.ts";
import { checkTileset } from "../support/tileset-checks.ts";
import {
  glbSourcePosition,
  gridPosition,
  type TerrainSpec,
  terrainTexture,
  writeTerrainGlb,
  writeTerrainObj,
} from "./support/terrain-fixture.ts";

/*
 * A 200k-triangle textured terrain grid in EPSG:4547 coordinates relative to an offset (as ContextCapture exports
 * OBJ), written as OBJ + MTL + JPEG and as GLB, goes through the real `cim ingest mesh`. What is checked is what a
 * user would: the tileset loads, the leaves are exactly the source, the levels really are coarser (fewer triangles,
 * larger error, half the texels), levels meet without cracks, and every vertex is where proj4 puts it.
 */
const EPSG_4547 = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs";
const GEOCENT = "+proj=geocent +datum=WGS84 +units=m +no_defs";
const toEcef = proj4(EPSG_4547, GEOCENT);
const OFFSET: [number, number, number] = [500123.5, 2490456.25, 10];
const SPEC: TerrainSpec = { n: 317, step: 3, textureSize: 1024 };
const MAX_PER_TILE = 20000;

let work: string;
let objFile: string;
let glbFile: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cim-mesh-"));
  const texture = await terrainTexture(SPEC.textureSize);
  objFile = await writeTerrainObj(work, SPEC, texture);
  glbFile = await writeTerrainGlb(work, SPEC, texture);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface LoadedTile {
  uri: string;
  geometricError: number;
  children: LoadedTile[];
  /** Leaves are 0. */
  level: number;
  triangles: number;
  /** ECEF positions, three per triangle corner. */
  corners: Float64Array;
  area: number;
  texturePixels: number;
  /** UV per triangle corner (single-material tiles, as the terrain gives). */
  uvs: Float32Array;
  texture: { data: Buffer; width: number; height: number } | null;
}

const io = new NodeIO().registerExtensions([KHRMaterialsUnlit]);

async function loadTiles(out: string): Promise<LoadedTile> {
  const tileset = JSON.parse(readFileSync(join(out, "tileset.json"), "utf8"));
  const load = async (t: TileJsonLike, parent: Mat4): Promise<LoadedTile | null> => {
    const m = t.transform ? multiply(parent, t.transform) : parent;
    const children = (await Promise.all((t.children ?? []).map((c) => load(c, m)))).filter(
      (c): c is LoadedTile => c !== null,
    );
    if (!t.content) return children[0] ?? null;
    const doc = await io.read(join(out, t.content.uri));
    const toEcefM = multiply(m, Y_UP_TO_Z_UP);
    const corners: number[] = [];
    const uvs: number[] = [];
    let texture: LoadedTile["texture"] = null;
    let pixels = 0;
    for (const mesh of doc.getRoot().listMeshes())
      for (const prim of mesh.listPrimitives()) {
        const pos = prim.getAttribute("POSITION")!.getArray()!;
        const idx = prim.getIndices()!.getArray()!;
        const uv = prim.getAttribute("TEXCOORD_0")?.getArray();
        for (let i = 0; i < idx.length; i++) {
          corners.push(
            ...transformPoint(toEcefM, [pos[idx[i] * 3], pos[idx[i] * 3 + 1], pos[idx[i] * 3 + 2]]),
          );
          if (uv) uvs.push(uv[idx[i] * 2], uv[idx[i] * 2 + 1]);
        }
        const image = prim.getMaterial()?.getBaseColorTexture()?.getImage();
        if (image) {
          const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
          pixels += info.width * info.height;
          texture = { data, width: info.width, height: info.height };
        }
      }
    const c = Float64Array.from(corners);
    return {
      uri: t.content.uri,
      geometricError: t.geometricError,
      children,
      level: children.length ? 1 + Math.max(...children.map((k) => k.level)) : 0,
      triangles: c.length / 9,
      corners: c,
      area: area(c),
      texturePixels: pixels,
      uvs: Float32Array.from(uvs),
      texture,
    };
  };
  const root = await load(tileset.root, IDENTITY);
  if (!root) throw new Error("no content");
  return root;
}

interface TileJsonLike {
  transform?: number[];
  geometricError: number;
  content?: { uri: string };
  children?: TileJsonLike[];
}

function area(c: Float64Array): number {
  let s = 0;
  for (let i = 0; i < c.length; i += 9) {
    const ux = c[i + 3] - c[i];
    const uy = c[i + 4] - c[i + 1];
    const uz = c[i + 5] - c[i + 2];
    const wx = c[i + 6] - c[i];
    const wy = c[i + 7] - c[i + 1];
    const wz = c[i + 8] - c[i + 2];
    s += Math.hypot(uy * wz - uz * wy, uz * wx - ux * wz, ux * wy - uy * wx) / 2;
  }
  return s;
}

const all = (t: LoadedTile): LoadedTile[] => [t, ...t.children.flatMap(all)];

/** Source area in ECEF, from the exact source coordinates through proj4. */
function sourceArea(position: (i: number, j: number) => [number, number, number]): number {
  const n = SPEC.n;
  const ecef: number[][] = [];
  for (let j = 0; j <= n; j++)
    for (let i = 0; i <= n; i++) {
      const [x, y, z] = position(i, j);
      ecef.push(toEcef.forward([x + OFFSET[0], y + OFFSET[1], z + OFFSET[2]]) as number[]);
    }
  const c: number[] = [];
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const a = ecef[j * (n + 1) + i];
      const b = ecef[j * (n + 1) + i + 1];
      const cc = ecef[(j + 1) * (n + 1) + i + 1];
      const d = ecef[(j + 1) * (n + 1) + i];
      c.push(...a, ...b, ...cc, ...a, ...cc, ...d);
    }
  return area(Float64Array.from(c));
}

/** RGB at (u, v) in glTF's convention (v = 0 on the first row), nearest texel. */
function texel(t: { data: Buffer; width: number; height: number }, u: number, v: number): number[] {
  const x = Math.min(t.width - 1, Math.max(0, Math.floor(u * t.width)));
  const y = Math.min(t.height - 1, Math.max(0, Math.floor(v * t.height)));
  const o = (y * t.width + x) * 3;
  return [t.data[o], t.data[o + 1], t.data[o + 2]];
}

/**
 * Mean colour difference between what a tile shows at its vertices and the source texture at the grid point each
 * vertex stands for: catches a flipped or shifted texture window, which no count or size check would.
 */
function meanColourDifference(
  tiles: LoadedTile[],
  source: { data: Buffer; width: number; height: number },
): number {
  let sum = 0;
  let n = 0;
  for (const t of tiles) {
    if (!t.texture) continue;
    const c = t.corners;
    for (let k = 0; k < c.length / 3; k += 97) {
      const [x, y] = toEcef.inverse([c[k * 3], c[k * 3 + 1], c[k * 3 + 2]]) as number[];
      const i = Math.round((x - OFFSET[0]) / SPEC.step);
      const j = Math.round((y - OFFSET[1]) / SPEC.step);
      // OBJ's vt (i/n, j/n) counts rows up from the image's last one.
      const want = texel(source, i / SPEC.n, 1 - j / SPEC.n);
      const got = texel(t.texture, t.uvs[k * 2], t.uvs[k * 2 + 1]);
      sum += (Math.abs(want[0] - got[0]) + Math.abs(want[1] - got[1]) + Math.abs(want[2] - got[2])) / 3;
      n++;
    }
  }
  if (n === 0) throw new Error("no textured vertices");
  return sum / n;
}

/** Largest distance of any leaf vertex from proj4's conversion of the source vertex it stands for. */
function maxLeafPositionError(
  leaves: LoadedTile[],
  position: (i: number, j: number) => [number, number, number],
) {
  let max = 0;
  for (const leaf of leaves) {
    const c = leaf.corners;
    for (let k = 0; k < c.length; k += 3) {
      const [x, y] = toEcef.inverse([c[k], c[k + 1], c[k + 2]]) as number[];
      const i = Math.round((x - OFFSET[0]) / SPEC.step);
      const j = Math.round((y - OFFSET[1]) / SPEC.step);
      const s = position(i, j);
      const ref = toEcef.forward([s[0] + OFFSET[0], s[1] + OFFSET[1], s[2] + OFFSET[2]]) as number[];
      max = Math.max(max, Math.hypot(c[k] - ref[0], c[k + 1] - ref[1], c[k + 2] - ref[2]));
    }
  }
  return max;
}

/**
 * Edges used by one triangle only: what shows as a crack, or the mesh's outline. Vertices are welded by the grid
 * point they stand for (their position taken back to EPSG:4547 through proj4), which no float rounding can split.
 */
function openEdges(tiles: LoadedTile[]): { count: number; length: number } {
  const key = (c: Float64Array, k: number) => {
    const [x, y] = toEcef.inverse([c[k], c[k + 1], c[k + 2]]) as number[];
    return Math.round((x - OFFSET[0]) / SPEC.step) * 100_000 + Math.round((y - OFFSET[1]) / SPEC.step);
  };
  const edges = new Map<string, { n: number; len: number }>();
  for (const t of tiles) {
    const c = t.corners;
    for (let i = 0; i < c.length; i += 9)
      for (const [a, b] of [
        [i, i + 3],
        [i + 3, i + 6],
        [i + 6, i],
      ]) {
        const ka = key(c, a);
        const kb = key(c, b);
        const e = ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
        if (ka === kb) throw new Error(`${t.uri}: degenerate edge`);
        const rec = edges.get(e);
        if (rec) rec.n++;
        else edges.set(e, { n: 1, len: Math.hypot(c[a] - c[b], c[a + 1] - c[b + 1], c[a + 2] - c[b + 2]) });
      }
  }
  let count = 0;
  let length = 0;
  for (const e of edges.values())
    if (e.n === 1) {
      count++;
      length += e.len;
    }
  return { count, length };
}

describe("cim ingest mesh", () => {
  it("tiles a textured OBJ in EPSG:4547 with an offset into LOD levels that halve and meet without cracks", async () => {
    const out = join(work, "obj-out");
    const r = await runCli([
      "ingest",
      "mesh",
      objFile,
      "--out",
      out,
      "--crs",
      "EPSG:4547",
      "--offset",
      OFFSET.join(","),
      "--max-triangles-per-tile",
      String(MAX_PER_TILE),
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const total = 2 * SPEC.n * SPEC.n;
    expect(r.stdout).toContain(`source              ${total} triangles`);
    expect(r.stdout).toMatch(/max position error\s+\d+\.\d+ mm/);

    const report = await checkTileset(join(out, "tileset.json"));
    expect(report.errors).toEqual([]);

    const root = await loadTiles(out);
    const tiles = all(root);
    const leaves = tiles.filter((t) => t.children.length === 0);
    expect(leaves.length).toBeGreaterThanOrEqual(total / MAX_PER_TILE);
    for (const l of leaves) expect(l.triangles).toBeLessThanOrEqual(MAX_PER_TILE);
    expect(root.level).toBeGreaterThanOrEqual(2);

    // The leaves together are the source, triangle for triangle.
    expect(leaves.reduce((s, l) => s + l.triangles, 0)).toBe(total);
    const src = sourceArea((i, j) => gridPosition(SPEC, i, j));
    const leafArea = leaves.reduce((s, l) => s + l.area, 0);
    expect(Math.abs(leafArea - src) / src).toBeLessThan(1e-6);

    // Each level up is coarser: fewer triangles, a larger geometric error.
    for (const t of tiles.filter((x) => x.children.length > 0)) {
      const below = t.children.reduce((s, c) => s + c.triangles, 0);
      expect(t.triangles, t.uri).toBeLessThan(below);
      expect(t.triangles, t.uri).toBeLessThan(below / 3);
      expect(t.geometricError, t.uri).toBeGreaterThan(Math.max(...t.children.map((c) => c.geometricError)));
    }
    for (const l of leaves) expect(l.geometricError).toBe(0);

    // Texels per square metre: full resolution at the leaves, a quarter (half per side) per level up.
    const sourceDensity = SPEC.textureSize ** 2 / src;
    const density = (level: number) => {
      const at = tiles.filter((t) => t.level === level);
      return at.reduce((s, t) => s + t.texturePixels, 0) / at.reduce((s, t) => s + t.area, 0);
    };
    expect(density(0) / sourceDensity).toBeGreaterThan(0.97);
    expect(density(0) / sourceDensity).toBeLessThan(1.1);
    for (let l = 1; l <= root.level; l++) {
      const ratio = density(l) / density(l - 1);
      expect(ratio, `level ${l}`).toBeGreaterThan(0.22);
      expect(ratio, `level ${l}`).toBeLessThan(0.28);
    }

    // The texture is where it belongs: leaves show the source texels at their vertices; coarser levels a blurred
    // version of them.
    const sourceTexture = await sharp(readFileSync(join(work, "terrain.jpg")))
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => ({ data, width: info.width, height: info.height }));
    expect(meanColourDifference(leaves, sourceTexture)).toBeLessThan(6);
    expect(meanColourDifference([root], sourceTexture)).toBeLessThan(25);

    // No cracks where levels meet: a cut through the tree that mixes a parent with its neighbour's children has
    // exactly the source's outline as open edges.
    const fullOutline = openEdges(leaves);
    expect(fullOutline.count).toBe(4 * SPEC.n);
    const [first, ...rest] = root.children;
    const mixed = [...first.children, ...rest];
    const cut = openEdges(mixed);
    expect(cut.count).toBe(fullOutline.count);
    expect(Math.abs(cut.length - fullOutline.length) / fullOutline.length).toBeLessThan(1e-6);
    expect(openEdges([root]).count).toBe(fullOutline.count);

    // Every vertex where proj4 puts the source coordinate: float32 in per-tile ENU frames loses nothing visible.
    expect(maxLeafPositionError(leaves, (i, j) => gridPosition(SPEC, i, j))).toBeLessThan(0.01);

    const layer = JSON.parse(readFileSync(join(out, "layer.json"), "utf8"));
    expect(layer.type).toBe("reality-mesh");
    expect(layer.crs).toBe("EPSG:4547");
  }, 240_000);

  it("tiles the same terrain from a GLB, applying its node transform", async () => {
    const out = join(work, "glb-out");
    const r = await runCli([
      "ingest",
      "mesh",
      glbFile,
      "--out",
      out,
      "--crs",
      "EPSG:4547",
      "--offset",
      OFFSET.join(","),
      "--max-triangles-per-tile",
      String(MAX_PER_TILE),
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const report = await checkTileset(join(out, "tileset.json"));
    expect(report.errors).toEqual([]);
    const root = await loadTiles(out);
    const leaves = all(root).filter((t) => t.children.length === 0);
    expect(leaves.reduce((s, l) => s + l.triangles, 0)).toBe(2 * SPEC.n * SPEC.n);
    const position = (i: number, j: number) => glbSourcePosition(SPEC, i, j);
    const src = sourceArea(position);
    expect(Math.abs(leaves.reduce((s, l) => s + l.area, 0) - src) / src).toBeLessThan(1e-6);
    expect(maxLeafPositionError(leaves, position)).toBeLessThan(0.01);
  }, 240_000);

  it("fails on a face index out of range naming the file and line, publishing nothing", async () => {
    const dir = mkdtempSync(join(work, "bad-index-"));
    writeFileSync(join(dir, "bad.obj"), "# three vertices\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 4\n");
    const out = join(dir, "out");
    const r = await runCli(["ingest", "mesh", join(dir, "bad.obj"), "--out", out, "--origin", "114,22.5,0"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `${join(dir, "bad.obj")}:6: face refers to vertex 4, but 3 vertices are defined`,
    );
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it("fails on a missing texture naming the MTL file, line and texture, publishing nothing", async () => {
    const dir = mkdtempSync(join(work, "bad-texture-"));
    writeFileSync(join(dir, "m.mtl"), "newmtl a\nKd 1 1 1\n\nmap_Kd photos/tile_0.jpg\n");
    writeFileSync(
      join(dir, "m.obj"),
      "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nusemtl a\nf 1/1 2/2 3/3\n",
    );
    const out = join(dir, "out");
    const r = await runCli(["ingest", "mesh", join(dir, "m.obj"), "--out", out, "--origin", "114,22.5,0"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `${join(dir, "m.mtl")}:4: texture "photos/tile_0.jpg" of material "a" not found`,
    );
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it("fails on a truncated GLB naming the byte offset, and on a mesh without georeferencing", async () => {
    const dir = mkdtempSync(join(work, "bad-glb-"));
    const bytes = readFileSync(glbFile);
    writeFileSync(join(dir, "cut.glb"), bytes.subarray(0, 5000));
    const out = join(dir, "out");
    const r = await runCli(["ingest", "mesh", join(dir, "cut.glb"), "--out", out, "--crs", "EPSG:4547"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${join(dir, "cut.glb")}: byte 8: GLB declares ${bytes.length} bytes`);
    expect(existsSync(out)).toBe(false);

    const r2 = await runCli(["ingest", "mesh", glbFile, "--out", out]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/give --crs EPSG:xxxx .* or --origin/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
