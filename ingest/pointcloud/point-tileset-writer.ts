import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LayerManifest } from "../../models/layer.ts";
import { ecefToGeodetic, type Mat4, multiply, transformPoint } from "../crs/geodesy.ts";
import { Region, type TileJson, type TilesetJson } from "../tiles3d/tileset-json.ts";
import type { LasCrs } from "./las-crs.ts";
import { GRID, WORDS } from "./octree.ts";
import { CUBE, type EnuFrame, nodeOrigin } from "./octree-frame.ts";
import type { OctreeWriter, PositionProbe, WrittenOctree } from "./octree-writer.ts";
import { encodePointGlb } from "./point-glb.ts";
import { WriteQueue } from "./write-queue.ts";

interface TileInfo {
  /** Bounds of the tile's own points, quantized. */
  min: [number, number, number];
  max: [number, number, number];
  children: Set<string>;
}

/**
 * 3D Tiles 1.1 output: `tiles/<key>.glb` per node (glTF points in the node's ENU frame, translation-only tile
 * transforms under one ENU-to-ECEF root transform), `tileset.json` and `layer.json`.
 */
export class PointTilesetWriter implements OctreeWriter {
  private readonly nodes = new Map<string, TileInfo>();
  private readonly writes = new WriteQueue(8);
  private bytes = 0;

  constructor(
    private readonly dir: string,
    private readonly f: EnuFrame,
    private readonly opts: { crs: LasCrs; colour: boolean; name: string; generator: string },
  ) {
    mkdirSync(join(dir, "tiles"));
  }

  async writeNode(key: string, points: Uint32Array, count: number): Promise<void> {
    if (count === 0) return;
    const size = this.f.cubeSize / 2 ** (key.length - 1);
    const centre = nodeOrigin(key, this.f).map((o) => o + size / 2);
    const min: [number, number, number] = [CUBE, CUBE, CUBE];
    const max: [number, number, number] = [0, 0, 0];
    for (let p = 0; p < count * WORDS; p += WORDS)
      for (let c = 0; c < 3; c++) {
        const q = points[p + c];
        if (q < min[c]) min[c] = q;
        if (q > max[c]) max[c] = q;
      }
    const glb = encodePointGlb({
      points,
      count,
      origin: this.f.origin,
      quantum: this.f.quantum,
      centre,
      colour: this.opts.colour,
    });
    await this.writes.add(writeFile(join(this.dir, "tiles", `${key}.glb`), glb));
    this.bytes += glb.length;
    this.nodes.set(key, { min, max, children: new Set() });
  }

  async finish(probes: PositionProbe[]): Promise<WrittenOctree> {
    await this.writes.drain();
    const { nodes, f } = this;
    const { origin, cubeSize, quantum, frame } = f;
    // Tree structure: link every written node to its closest written ancestor.
    for (const key of nodes.keys()) {
      for (let d = key.length - 1; d >= 1; d--) {
        const parent = nodes.get(key.slice(0, d));
        if (parent) {
          parent.children.add(key);
          break;
        }
      }
    }
    const rootKeys = [...nodes.keys()].filter(
      (k) => ![...Array(k.length - 1).keys()].some((d) => nodes.has(k.slice(0, d + 1))),
    );
    const rootCentre = origin.map((o) => o + cubeSize / 2);
    const rootFrame = multiply(frame, translation(rootCentre[0], rootCentre[1], rootCentre[2]));
    let maxDepth = 0;
    const tileJson = (
      key: string,
      parentCentre: number[],
    ): { tile: TileJson; min: number[]; max: number[] } => {
      const n = nodes.get(key) as TileInfo;
      const size = cubeSize / 2 ** (key.length - 1);
      const centre = nodeOrigin(key, f).map((o) => o + size / 2);
      maxDepth = Math.max(maxDepth, key.length - 1);
      const min = n.min.map((q, c) => origin[c] + q * quantum);
      const max = n.max.map((q, c) => origin[c] + q * quantum);
      const children: TileJson[] = [];
      for (const ck of [...n.children].sort()) {
        const child = tileJson(ck, centre);
        children.push(child.tile);
        for (let c = 0; c < 3; c++) {
          min[c] = Math.min(min[c], child.min[c]);
          max[c] = Math.max(max[c], child.max[c]);
        }
      }
      const tile: TileJson = {
        boundingVolume: { box: paddedBox(min, max, centre) },
        // Twice the sampling spacing: CesiumJS refines once the points would be drawn more than a few pixels apart.
        geometricError: children.length ? (2 * size) / GRID : 0,
        refine: "ADD",
        transform: translation(
          centre[0] - parentCentre[0],
          centre[1] - parentCentre[1],
          centre[2] - parentCentre[2],
        ),
        content: { uri: `tiles/${key}.glb` },
      };
      if (children.length) tile.children = children;
      return { tile, min, max };
    };
    let root: TileJson;
    if (rootKeys.length === 1 && rootKeys[0] === "r") {
      root = tileJson("r", rootCentre).tile;
    } else {
      // The root cell kept no points (every point went below a deeper cut): an empty root groups the subtrees.
      const built = rootKeys.sort().map((k) => tileJson(k, rootCentre));
      const min = [0, 1, 2].map((c) => Math.min(...built.map((b) => b.min[c])));
      const max = [0, 1, 2].map((c) => Math.max(...built.map((b) => b.max[c])));
      root = {
        boundingVolume: { box: paddedBox(min, max, rootCentre) },
        geometricError: (2 * cubeSize) / GRID,
        refine: "ADD",
        children: built.map((b) => b.tile),
      };
    }
    root.transform = rootFrame;
    // Geographic extent for the catalog: corners of the ENU data bounds.
    const region = new Region();
    for (const n of nodes.values())
      for (const corner of [n.min, n.max]) {
        const e = transformPoint(
          frame,
          ...(corner.map((q, c) => origin[c] + q * quantum) as [number, number, number]),
        );
        const g = ecefToGeodetic(e[0], e[1], e[2]);
        region.addPoint(g[0], g[1], g[2]);
      }

    const tileset: TilesetJson = {
      asset: { version: "1.1", generator: "CIM Twin cim ingest las" },
      geometricError: (cubeSize / GRID) * 4,
      root,
    };
    await writeFile(join(this.dir, "tileset.json"), JSON.stringify(tileset));
    const manifest: LayerManifest = {
      formatVersion: 1,
      type: "pointcloud",
      name: this.opts.name,
      crs: this.opts.crs.id,
      bbox: region.toBBox(),
      featureCount: 0,
      tileCount: nodes.size,
      createdAt: new Date().toISOString(),
      generator: this.opts.generator,
    };
    await writeFile(join(this.dir, "layer.json"), JSON.stringify(manifest, null, 2));

    // Accuracy: ECEF a reader reconstructs (float32 offset from the root centre, the largest offsets any tile
    // has, plus the float64 transform) vs proj4 applied directly to the source coordinates.
    let maxErr = 0;
    for (const s of probes) {
      const local = s.q.map((q, c) => Math.fround(origin[c] + q * quantum - rootCentre[c])) as [
        number,
        number,
        number,
      ];
      const stored = transformPoint(rootFrame, local[0], local[1], local[2]);
      const ref = this.opts.crs.toEcefReference(s.src[0], s.src[1], s.src[2]);
      maxErr = Math.max(maxErr, Math.hypot(stored[0] - ref[0], stored[1] - ref[1], stored[2] - ref[2]));
    }
    return {
      nodes: nodes.size,
      bytes: this.bytes,
      depth: maxDepth,
      bbox: region.toBBox(),
      maxPositionErrorMetres: maxErr,
    };
  }
}

function paddedBox(min: number[], max: number[], centre: number[]): number[] {
  const pad = 0.01;
  const c = [0, 1, 2].map((k) => (min[k] + max[k]) / 2 - centre[k]);
  const h = [0, 1, 2].map((k) => (max[k] - min[k]) / 2 + pad);
  return [...c, h[0], 0, 0, 0, h[1], 0, 0, 0, h[2]];
}

function translation(x: number, y: number, z: number): Mat4 {
  return [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, x, y, z, 1];
}
