import { writeFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { MeshoptSimplifier, type SimplifierFlags } from "meshoptimizer";
import type { LayerManifest } from "../../models/layer.ts";
import { ecefToEnu, enuToEcefMatrix, geodeticToEcef } from "../crs/geodesy.ts";
import { CrsError, type Origin, resolveSourceCrs, type SourceCrs } from "../crs/source-crs.ts";
import { publishAtomically } from "../publish.ts";
import { assembleEnuTileTree, type EnuTileNode } from "../tiles3d/enu-tile-tree.ts";
import type { TilesetJson } from "../tiles3d/tileset-json.ts";
import { MeshInputError, type MeshSource } from "./mesh-source.ts";
import { type PreparedPart, type TileWriteContext, writeMeshTile } from "./mesh-tile.ts";
import { readGltf } from "./read-gltf.ts";
import { readObj } from "./read-obj.ts";

export const DEFAULT_MAX_TRIANGLES_PER_TILE = 100_000;

export interface IngestMeshOptions {
  /** .obj (with its .mtl and textures), .gltf or .glb */
  input: string;
  out: string;
  /** CRS of the coordinates (after --offset), e.g. EPSG:4547; or ENU with `origin`. */
  crs?: string;
  /** Added to every source coordinate, as ContextCapture's OBJ exports (metadata.xml SRSOrigin) need. */
  offset?: [number, number, number];
  /** Where local ENU coordinates (0, 0, 0) lie. */
  origin?: Origin;
  maxTrianglesPerTile?: number;
  name?: string;
  onProgress?: (p: { phase: "read" | "tiles"; done: number; total: number }) => void;
}

export interface LevelSummary {
  /** 0 = leaves (full resolution); each level up holds about a quarter of the triangles below. */
  level: number;
  tiles: number;
  /** Triangles of the tiles below that this level's tiles were simplified from (leaves: the source's). */
  trianglesIn: number;
  trianglesOut: number;
  /** Largest simplification error of the level, metres. */
  maxSimplificationErrorMetres: number;
  maxGeometricError: number;
}

export interface IngestMeshSummary {
  input: string;
  out: string;
  format: MeshSource["format"];
  crs: string;
  offset: [number, number, number];
  materials: number;
  textures: number;
  sourceVertices: number;
  sourceTriangles: number;
  tiles: number;
  levels: LevelSummary[];
  /** Ground size of a source texel, metres (0 without textures): the texture part of each level's error. */
  texelMetres: number;
  bytes: number;
  warnings: string[];
  seconds: number;
  readSeconds: number;
  maxPositionErrorMetres: number;
  positionSamples: number;
  bbox: LayerManifest["bbox"];
}

interface QuadNode {
  id: number;
  path: string;
  lo: number;
  hi: number;
  children: QuadNode[];
}

/** What a finished subtree hands its parent: the geometry the parent simplifies, per part. */
interface Built {
  content: Map<number, Uint32Array>;
  level: number;
  geometricError: number;
}

const MAX_DEPTH = 24;

/**
 * One big textured mesh (OBJ or glTF) to 3D Tiles 1.1 with levels of detail:
 * - a quadtree over the triangles' centroids (east/north in a mesh-wide ENU frame) down to leaves of at most
 *   maxTrianglesPerTile; whole triangles are assigned to the cell holding their centroid, never clipped, so the
 *   leaves together are exactly the source triangles (neighbouring leaves' boxes may overlap by a triangle's width);
 * - every inner tile holds its children's geometry simplified by meshoptimizer to about a quarter, with the
 *   tile's outer border locked: tiles of any two levels meet on the same source edges, so REPLACE refinement
 *   shows no cracks;
 * - textures are cut to the window each tile's UVs reach and halved per level;
 * - a tile's geometric error is its children's plus the simplification error in metres, and at least the ground
 *   size of its texels;
 * - every tile has its own ENU frame (float32 positions near its origin), projected coordinates go through proj4.
 * The quadtree is 2D: tall meshes (a single tower) are split by plan position only.
 */
export async function ingestMesh(opts: IngestMeshOptions): Promise<IngestMeshSummary> {
  const started = performance.now();
  const maxTriangles = Math.max(16, Math.round(opts.maxTrianglesPerTile ?? DEFAULT_MAX_TRIANGLES_PER_TILE));
  const crs = sourceCrs(opts);
  const offset = opts.offset ?? [0, 0, 0];
  const ext = extname(opts.input).toLowerCase();
  let source: MeshSource;
  if (ext === ".obj")
    source = await readObj(opts.input, {
      offset,
      onProgress: (done, total) => opts.onProgress?.({ phase: "read", done, total }),
    });
  else if (ext === ".gltf" || ext === ".glb") source = await readGltf(opts.input, { offset });
  else throw new MeshInputError(`${opts.input}: unknown mesh format "${ext}" (give .obj, .gltf or .glb)`);
  const readSeconds = (performance.now() - started) / 1000;

  const { parts, frame } = prepare(source, crs);
  const textured = new Set(source.materials.filter((m) => m.texture).map((m) => m.texture));
  const summary: IngestMeshSummary = {
    input: opts.input,
    out: opts.out,
    format: source.format,
    crs: crs.id,
    offset,
    materials: source.materials.length,
    textures: textured.size,
    sourceVertices: parts.reduce((s, p) => s + p.src.positions.length / 3, 0),
    sourceTriangles: parts.reduce((s, p) => s + p.src.indices.length / 3, 0),
    tiles: 0,
    levels: [],
    texelMetres: texelMetres(source, parts),
    bytes: 0,
    warnings: source.warnings,
    seconds: 0,
    readSeconds,
    maxPositionErrorMetres: 0,
    positionSamples: 0,
    bbox: [0, 0, 0, 0, 0, 0],
  };

  // Triangles as (part, index) with their centroid, ordered so that every quadtree cell is a contiguous range.
  const total = summary.sourceTriangles;
  if (parts.length > 65535)
    throw new MeshInputError(`${opts.input}: ${parts.length} materials; at most 65535 are supported`);
  const triPart = new Uint16Array(total);
  const triIndex = new Uint32Array(total);
  const cx = new Float32Array(total);
  const cy = new Float32Array(total);
  let t = 0;
  parts.forEach((p, pi) => {
    const idx = p.src.indices;
    for (let i = 0; i < idx.length; i += 3, t++) {
      triPart[t] = pi;
      triIndex[t] = i / 3;
      const a = idx[i] * 3;
      const b = idx[i + 1] * 3;
      const c = idx[i + 2] * 3;
      cx[t] = (p.enu[a] + p.enu[b] + p.enu[c]) / 3;
      cy[t] = (p.enu[a + 1] + p.enu[b + 1] + p.enu[c + 1]) / 3;
    }
  });
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  const nodes: QuadNode[] = [];
  const root = buildQuadtree(order, cx, cy, maxTriangles, nodes);

  await MeshoptSimplifier.ready;
  const region = await publishAtomically(opts.out, async (dir) => {
    const ctx: TileWriteContext = { crs, materials: source.materials, parts, frame, outDir: dir };
    const tileNodes: EnuTileNode[] = new Array(nodes.length);
    let done = 0;
    const level = (l: number): LevelSummary => {
      while (summary.levels.length <= l)
        summary.levels.push({
          level: summary.levels.length,
          tiles: 0,
          trianglesIn: 0,
          trianglesOut: 0,
          maxSimplificationErrorMetres: 0,
          maxGeometricError: 0,
        });
      return summary.levels[l];
    };

    // Depth first: what is held is the simplified geometry of the siblings along one path, not a whole level.
    const build = async (node: QuadNode): Promise<Built> => {
      let built: Built;
      let trianglesIn: number;
      let simplificationError = 0;
      if (node.children.length === 0) {
        built = {
          content: leafContent(parts, order, triPart, triIndex, node.lo, node.hi),
          level: 0,
          geometricError: 0,
        };
        trianglesIn = node.hi - node.lo;
      } else {
        const kids: Built[] = [];
        for (const c of node.children) kids.push(await build(c));
        const lv = 1 + Math.max(...kids.map((k) => k.level));
        const childError = Math.max(...kids.map((k) => k.geometricError));
        const content = new Map<number, Uint32Array>();
        trianglesIn = 0;
        for (let p = 0; p < parts.length; p++) {
          const lists = kids.map((k) => k.content.get(p)).filter((x): x is Uint32Array => x !== undefined);
          if (lists.length === 0) continue;
          const s = simplify(parts[p], lists);
          trianglesIn += s.trianglesIn;
          simplificationError = Math.max(simplificationError, s.error);
          if (s.indices.length > 0) content.set(p, s.indices);
        }
        // Strictly above the children's, or a viewer would never refine to them.
        const ge = Math.max(childError + Math.max(simplificationError, 1e-3), summary.texelMetres * 2 ** lv);
        built = { content, level: lv, geometricError: ge };
      }
      const uri = `tiles/r${node.path}.glb`;
      const w = await writeMeshTile(ctx, built.content, built.level, uri);
      summary.bytes += w.bytes;
      summary.positionSamples += w.positionSamples;
      summary.maxPositionErrorMetres = Math.max(summary.maxPositionErrorMetres, w.positionError);
      const ls = level(built.level);
      ls.tiles++;
      ls.trianglesIn += trianglesIn;
      ls.trianglesOut += w.triangles;
      ls.maxSimplificationErrorMetres = Math.max(ls.maxSimplificationErrorMetres, simplificationError);
      ls.maxGeometricError = Math.max(ls.maxGeometricError, built.geometricError);
      tileNodes[node.id] = {
        uri,
        frame: w.frame,
        box: w.box,
        geometricError: built.geometricError,
        children: node.children.map((c) => c.id),
      };
      opts.onProgress?.({ phase: "tiles", done: ++done, total: nodes.length });
      return built;
    };
    await build(root);

    const assembled = assembleEnuTileTree(tileNodes, [root.id]);
    if (!assembled) throw new MeshInputError(`${opts.input}: no triangles`);
    summary.tiles = assembled.tiles;
    const tileset: TilesetJson = {
      asset: { version: "1.1", generator: "CIM Twin cim ingest mesh" },
      geometricError: assembled.root.geometricError,
      root: assembled.root,
    };
    await writeFile(`${dir}/tileset.json`, JSON.stringify(tileset));
    const manifest: LayerManifest = {
      formatVersion: 1,
      type: "reality-mesh",
      name: opts.name ?? basename(opts.input).replace(/\.(obj|gltf|glb)$/i, ""),
      crs: crs.id,
      bbox: assembled.region.toBBox(),
      featureCount: 0,
      tileCount: assembled.tiles,
      createdAt: new Date().toISOString(),
      generator: `cim ingest mesh ${opts.input}`,
    };
    await writeFile(`${dir}/layer.json`, JSON.stringify(manifest, null, 2));
    return assembled.region;
  });
  summary.bbox = region.toBBox();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

function sourceCrs(opts: IngestMeshOptions): SourceCrs {
  if (opts.crs && opts.origin && !/^(ENU|LOCAL)$/i.test(opts.crs.trim()))
    throw new CrsError(`give either --crs ${opts.crs} or --origin, not both`);
  if (opts.crs) return resolveSourceCrs(opts.crs, opts.origin);
  if (opts.origin) return resolveSourceCrs("ENU", opts.origin);
  throw new CrsError(
    `${opts.input}: meshes carry no CRS: give --crs EPSG:xxxx (with --offset x,y,z if the file is relative to one) or --origin lon,lat,h for local coordinates`,
  );
}

/** ECEF and mesh-wide ENU per vertex; the ENU frame sits at the centre of the source's bounding box. */
function prepare(source: MeshSource, crs: SourceCrs): { parts: PreparedPart[]; frame: number[] } {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const p of source.parts) {
    const s = p.positions;
    for (let i = 0; i < s.length; i += 3)
      for (let k = 0; k < 3; k++) {
        if (s[i + k] < lo[k]) lo[k] = s[i + k];
        if (s[i + k] > hi[k]) hi[k] = s[i + k];
      }
  }
  const g = crs.toGeodetic((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2);
  if (!g.every(Number.isFinite) || Math.abs(g[1]) > 90)
    throw new CrsError(
      `${source.file}: the mesh centre (${lo.map((v, k) => ((v + hi[k]) / 2).toFixed(2)).join(", ")}) is not a valid position in ${crs.id}; check --crs and --offset`,
    );
  const frame = enuToEcefMatrix(g[0], g[1], g[2]);
  const e: [number, number, number] = [0, 0, 0];
  const l: [number, number, number] = [0, 0, 0];
  const parts = source.parts.map((src) => {
    const n = src.positions.length / 3;
    const ecef = new Float64Array(n * 3);
    const enu = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const q = crs.toGeodetic(src.positions[i * 3], src.positions[i * 3 + 1], src.positions[i * 3 + 2]);
      geodeticToEcef(q[0], q[1], q[2], e);
      ecef[i * 3] = e[0];
      ecef[i * 3 + 1] = e[1];
      ecef[i * 3 + 2] = e[2];
      ecefToEnu(frame, e[0], e[1], e[2], l);
      enu[i * 3] = l[0];
      enu[i * 3 + 1] = l[1];
      enu[i * 3 + 2] = l[2];
    }
    return { src, ecef, enu };
  });
  return { parts, frame };
}

/** Ground size of a source texel: sqrt(surface area / texel area) over all textured triangles. */
function texelMetres(source: MeshSource, parts: PreparedPart[]): number {
  let area = 0;
  let texels = 0;
  for (const p of parts) {
    const tex = source.materials[p.src.material].texture;
    const uv = p.src.uvs;
    if (!tex || !uv) continue;
    const idx = p.src.indices;
    const v = p.enu;
    for (let i = 0; i < idx.length; i += 3) {
      const a = idx[i];
      const b = idx[i + 1];
      const c = idx[i + 2];
      const ux = v[b * 3] - v[a * 3];
      const uy = v[b * 3 + 1] - v[a * 3 + 1];
      const uz = v[b * 3 + 2] - v[a * 3 + 2];
      const wx = v[c * 3] - v[a * 3];
      const wy = v[c * 3 + 1] - v[a * 3 + 1];
      const wz = v[c * 3 + 2] - v[a * 3 + 2];
      area += Math.hypot(uy * wz - uz * wy, uz * wx - ux * wz, ux * wy - uy * wx) / 2;
      const du1 = uv[b * 2] - uv[a * 2];
      const dv1 = uv[b * 2 + 1] - uv[a * 2 + 1];
      const du2 = uv[c * 2] - uv[a * 2];
      const dv2 = uv[c * 2 + 1] - uv[a * 2 + 1];
      texels += (Math.abs(du1 * dv2 - du2 * dv1) / 2) * tex.width * tex.height;
    }
  }
  return texels > 0 ? Math.sqrt(area / texels) : 0;
}

/**
 * Splits at the middle of the centroids' own bounds (not of a fixed grid), so that every split separates
 * something; only triangles whose centroids all coincide can end in a leaf above the limit.
 */
function buildQuadtree(
  order: Uint32Array,
  cx: Float32Array,
  cy: Float32Array,
  max: number,
  nodes: QuadNode[],
): QuadNode {
  const scratch = new Uint32Array(order.length);
  const make = (lo: number, hi: number, path: string, depth: number): QuadNode => {
    const node: QuadNode = { id: nodes.length, path, lo, hi, children: [] };
    nodes.push(node);
    if (hi - lo <= max || depth >= MAX_DEPTH) return node;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = lo; i < hi; i++) {
      const t = order[i];
      if (cx[t] < x0) x0 = cx[t];
      if (cx[t] > x1) x1 = cx[t];
      if (cy[t] < y0) y0 = cy[t];
      if (cy[t] > y1) y1 = cy[t];
    }
    if (x1 <= x0 && y1 <= y0) return node;
    const mx = (x0 + x1) / 2;
    const my = (y0 + y1) / 2;
    const quadrant = (t: number) => (cx[t] > mx ? 1 : 0) + (cy[t] > my ? 2 : 0);
    const counts = [0, 0, 0, 0];
    for (let i = lo; i < hi; i++) counts[quadrant(order[i])]++;
    const starts = [lo, lo + counts[0], lo + counts[0] + counts[1], lo + counts[0] + counts[1] + counts[2]];
    const at = [...starts];
    for (let i = lo; i < hi; i++) scratch[at[quadrant(order[i])]++] = order[i];
    order.set(scratch.subarray(lo, hi), lo);
    for (let q = 0; q < 4; q++)
      if (counts[q] > 0) node.children.push(make(starts[q], starts[q] + counts[q], path + q, depth + 1));
    return node;
  };
  return make(0, order.length, "", 0);
}

function leafContent(
  parts: PreparedPart[],
  order: Uint32Array,
  triPart: Uint16Array,
  triIndex: Uint32Array,
  lo: number,
  hi: number,
): Map<number, Uint32Array> {
  const counts = new Uint32Array(parts.length);
  for (let i = lo; i < hi; i++) counts[triPart[order[i]]]++;
  const out = new Map<number, Uint32Array>();
  const fill = new Uint32Array(parts.length);
  for (let p = 0; p < parts.length; p++) if (counts[p] > 0) out.set(p, new Uint32Array(counts[p] * 3));
  for (let i = lo; i < hi; i++) {
    const t = order[i];
    const p = triPart[t];
    const src = parts[p].src.indices;
    const dst = out.get(p)!;
    const k = triIndex[t] * 3;
    dst[fill[p]++] = src[k];
    dst[fill[p]++] = src[k + 1];
    dst[fill[p]++] = src[k + 2];
  }
  return out;
}

/**
 * The children's triangles of one part, simplified to a quarter with the border of their union locked (the
 * tile's outline towards its neighbours, and the edges against other materials). Vertices keep their source
 * positions and UVs: meshoptimizer only chooses which to keep, so what is written stays exact.
 */
function simplify(
  part: PreparedPart,
  lists: Uint32Array[],
): { indices: Uint32Array; error: number; trianglesIn: number } {
  let total = 0;
  for (const l of lists) total += l.length;
  const local = new Map<number, number>();
  const used: number[] = [];
  const indices = new Uint32Array(total);
  let o = 0;
  for (const l of lists)
    for (let i = 0; i < l.length; i++) {
      let k = local.get(l[i]);
      if (k === undefined) {
        k = used.length;
        local.set(l[i], k);
        used.push(l[i]);
      }
      indices[o++] = k;
    }
  const positions = new Float32Array(used.length * 3);
  for (let i = 0; i < used.length; i++) {
    positions[i * 3] = part.enu[used[i] * 3];
    positions[i * 3 + 1] = part.enu[used[i] * 3 + 1];
    positions[i * 3 + 2] = part.enu[used[i] * 3 + 2];
  }
  const target = Math.max(3, Math.floor(total / 12) * 3);
  const flags: SimplifierFlags[] = ["LockBorder", "ErrorAbsolute"];
  // Position-only: meshoptimizer keeps UV seams (same position, other UVs) by itself. simplifyWithAttributes with UVs
  // weighted into metres was tried: on a draped orthophoto (UVs exactly linear in plan) it reported 1.6 m instead of
  // 0.07 m, an error that is not there, and geometric errors would have made viewers load 20x more than needed.
  const [result, error] = MeshoptSimplifier.simplify(indices, positions, 3, target, 1e30, flags);
  const out = new Uint32Array(result.length);
  for (let i = 0; i < result.length; i++) out[i] = used[result[i]];
  return { indices: out, error, trianglesIn: total / 3 };
}
