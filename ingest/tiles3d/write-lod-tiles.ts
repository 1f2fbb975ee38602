import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { enuToEcefMatrix, IDENTITY, invertRigid, type Mat4, multiply } from "../crs/geodesy.ts";
import type { LodNode } from "./quadtree-lod.ts";
import { Region, type TileJson } from "./tileset-json.ts";

export interface LodTilesOptions {
  /** Output folder; content goes to tiles/<level>/<x>_<y>.glb. */
  dir: string;
  tree: LodNode;
  /** Grows `region` by the extent of item `id`. */
  addItemRegion(id: number, region: Region): void;
  /** Height of a tile's ENU origin (the ground for white models, the middle of the content for BIM). */
  frameHeight(region: Region): number;
  /** The GLB of a tile's items, positioned in `frame` (local east-north-up metres, glTF y-up). */
  content(items: number[], frame: Mat4, node: LodNode): Promise<Uint8Array>;
  /** Items a tile's content draws; default `node.items`. (Pipes draw a selection of the subtree in inner tiles.) */
  contentItems?(node: LodNode): number[];
  /** Refinement of every tile; default "ADD" (each item in one tile). "REPLACE" for levels of detail. */
  refine?: "ADD" | "REPLACE";
  /** Called after each tile is written. */
  onTile?(written: number): void;
}

export interface LodTilesResult {
  root: TileJson;
  region: Region;
  tiles: number;
  bytes: number;
}

/**
 * Writes a quadtree's content tiles and returns the tileset's root tile: region volumes hold each tile's content
 * and descendants, and each tile's ENU frame is stored as its `transform` relative to its parent's, because 3D Tiles
 * compounds transforms down the tree.
 */
export async function writeLodTiles(opts: LodTilesOptions): Promise<LodTilesResult> {
  let tiles = 0;
  let bytes = 0;
  const write = async (node: LodNode, parentWorld: Mat4): Promise<{ tile: TileJson; region: Region }> => {
    const region = new Region();
    const items = opts.contentItems?.(node) ?? node.items;
    for (const id of items) opts.addItemRegion(id, region);
    const tile: TileJson = {
      boundingVolume: { region: [] },
      geometricError: node.geometricError,
      refine: opts.refine ?? "ADD",
    };
    let world = parentWorld;
    if (items.length > 0) {
      const [lon, lat] = region.centre();
      const frame = enuToEcefMatrix(lon, lat, opts.frameHeight(region));
      world = frame;
      const glb = await opts.content(items, frame, node);
      const uri = `tiles/${node.level}/${node.x}_${node.y}.glb`;
      await mkdir(join(opts.dir, "tiles", String(node.level)), { recursive: true });
      await writeFile(join(opts.dir, uri), glb);
      bytes += glb.byteLength;
      tile.transform = multiply(invertRigid(parentWorld), frame);
      tile.content = { uri };
    }
    const children = [];
    for (const child of node.children) children.push(await write(child, world));
    for (const c of children) region.addRegion(c.region);
    tile.boundingVolume = { region: region.toRadians() };
    if (children.length) tile.children = children.map((c) => c.tile);
    tiles++;
    opts.onTile?.(tiles);
    return { tile, region };
  };
  const { tile, region } = await write(opts.tree, IDENTITY);
  return { root: tile, region, tiles, bytes };
}
