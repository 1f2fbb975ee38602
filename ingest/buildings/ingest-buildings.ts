import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LayerManifest } from "../../models/layer.ts";
import { PositionErrorProbe } from "../crs/position-error.ts";
import { type Origin, resolveSourceCrs } from "../crs/source-crs.ts";
import { publishAtomically } from "../publish.ts";
import { openVectorSource } from "../sources/open-vector-source.ts";
import { SourceError } from "../sources/source-feature.ts";
import { type ColoredMesh, writeFeatureGlb } from "../tiles3d/feature-glb.ts";
import { PropertySchemaBuilder, schemaJson } from "../tiles3d/property-schema.ts";
import { buildLodQuadtree, type LodNode } from "../tiles3d/quadtree-lod.ts";
import type { TilesetJson } from "../tiles3d/tileset-json.ts";
import { writeLodTiles } from "../tiles3d/write-lod-tiles.ts";
import { BuildingStore } from "./building-store.ts";
import { WhiteModelBuilder } from "./extrude.ts";
import { FeatureError, type Footprint, footprintsOf } from "./footprint.ts";
import { DEFAULT_HEIGHT_OPTIONS, type HeightOptions, verticalExtent } from "./heights.ts";

export interface IngestBuildingsOptions {
  input: string;
  out: string;
  crs?: string;
  origin?: Origin;
  name?: string;
  heights?: Partial<HeightOptions>;
  meshopt?: boolean;
  leafCapacity?: number;
  innerCapacity?: number;
  onProgress?: (p: IngestProgress) => void;
}

export interface IngestProgress {
  phase: "read" | "tiles";
  done: number;
  total: number;
}

export interface IngestSummary {
  input: string;
  out: string;
  crs: string;
  featuresRead: number;
  featuresWritten: number;
  skipped: Record<string, number>;
  heightSources: Record<string, number>;
  tiles: number;
  bytes: number;
  seconds: number;
  /** Of which reading and converting the input. */
  readSeconds: number;
  maxPositionErrorMetres: number;
  positionSamples: number;
  bbox: LayerManifest["bbox"];
}

const WHITE: ColoredMesh["color"] = [0.92, 0.93, 0.95, 1];
const CLASS_DESCRIPTION = "Building white model (extruded footprint)";

/** `cim ingest buildings`: footprints with heights to a 3D Tiles 1.1 white-model tileset. */
export async function ingestBuildings(opts: IngestBuildingsOptions): Promise<IngestSummary> {
  const started = performance.now();
  const heightOpts: HeightOptions = { ...DEFAULT_HEIGHT_OPTIONS, ...opts.heights };
  const source = await openVectorSource(opts.input);
  const buildings = new BuildingStore();
  const skipped: Record<string, number> = {};
  const heightSources: Record<string, number> = {};
  const schema = new PropertySchemaBuilder();
  let featuresRead = 0;
  let crs: ReturnType<typeof resolveSourceCrs> | undefined;
  let probe: PositionErrorProbe | undefined;

  for await (const f of source.features()) {
    // The declared CRS of streamed formats is known only once reading has started.
    if (!crs) {
      crs = resolveCrsFor(source.path, opts.crs ?? source.declaredCrs ?? "EPSG:4326", opts.origin);
      probe = new PositionErrorProbe(crs);
    }
    featuresRead++;
    let polygons: Footprint[];
    try {
      polygons = footprintsOf(f.geometry, crs, f.index);
    } catch (err) {
      if (err instanceof FeatureError) throw new SourceError(source.path, err.message, err.featureIndex);
      throw err;
    }
    if (polygons.length === 0) {
      const why = f.geometry ? `no polygon (${f.geometry.type})` : "no geometry";
      skipped[why] = (skipped[why] ?? 0) + 1;
      continue;
    }
    const extent = verticalExtent(f.properties, heightOpts);
    if (!extent) {
      skipped["base at or above height"] = (skipped["base at or above height"] ?? 0) + 1;
      continue;
    }
    heightSources[extent.source] = (heightSources[extent.source] ?? 0) + 1;
    const properties = {
      ...f.properties,
      "cim:height": extent.top,
      "cim:base": extent.base,
      "cim:heightSource": extent.source,
    };
    schema.observe(properties);
    const id = buildings.add(polygons, extent.base, extent.top, properties);
    probe!.offer(id, f.geometry, extent.base);
    if (featuresRead % 5000 === 0)
      opts.onProgress?.({ phase: "read", done: source.bytesRead(), total: source.totalBytes });
  }
  opts.onProgress?.({ phase: "read", done: source.totalBytes, total: source.totalBytes });
  const readSeconds = (performance.now() - started) / 1000;
  if (!crs) throw new SourceError(source.path, "no features in input");
  if (buildings.count === 0)
    throw new SourceError(source.path, `no building footprints (skipped: ${fmt(skipped)})`);

  const tree = buildLodQuadtree(
    { count: buildings.count, cx: buildings.cx.data, cy: buildings.cy.data, size: buildings.size.data },
    {
      leafCapacity: opts.leafCapacity ?? 500,
      innerCapacity: opts.innerCapacity ?? 150,
      maxDepth: 18,
    },
  );
  const propertyDefs = schema.build();
  const totalTiles = countTiles(tree);
  let tilesWritten = 0;
  let bytes = 0;
  const sourceCrs = crs;

  const layerRegion = await publishAtomically(opts.out, async (dir) => {
    const root = await writeLodTiles({
      dir,
      tree,
      addItemRegion: (id, region) => buildings.addToRegion(id, region),
      frameHeight: () => 0,
      content: (items, frame) => {
        const builder = new WhiteModelBuilder(frame);
        const rows = items.map((id, fid) => {
          builder.addBuilding(fid, buildings.polygons(id), buildings.base.data[id], buildings.top.data[id]);
          probe!.measure(id, frame);
          return buildings.properties[id];
        });
        return writeFeatureGlb([{ mesh: builder.build(), color: WHITE }], {
          className: "building",
          classDescription: CLASS_DESCRIPTION,
          properties: propertyDefs,
          rows,
          meshopt: opts.meshopt,
        });
      },
      onTile: (n) => opts.onProgress?.({ phase: "tiles", done: n, total: totalTiles }),
    });
    tilesWritten = root.tiles;
    bytes += root.bytes;
    const largest = Math.max(...tree.items.map((id) => buildings.size.data[id]), tree.geometricError);
    const tileset: TilesetJson = {
      asset: { version: "1.1", generator: "CIM Twin cim ingest buildings" },
      geometricError: largest,
      // The same schema as in every GLB, so a viewer can show each property's original name before any tile loads.
      schema: schemaJson("building", CLASS_DESCRIPTION, propertyDefs),
      root: root.root,
    };
    const tilesetBytes = JSON.stringify(tileset);
    bytes += Buffer.byteLength(tilesetBytes);
    await writeFile(join(dir, "tileset.json"), tilesetBytes);
    const manifest: LayerManifest = {
      formatVersion: 1,
      type: "buildings",
      name:
        opts.name ??
        source.path
          .split(/[\\/]/)
          .pop()!
          .replace(/\.[^.]+$/, ""),
      crs: sourceCrs.id,
      bbox: root.region.toBBox(),
      featureCount: buildings.count,
      tileCount: tilesWritten,
      createdAt: new Date().toISOString(),
      generator: `cim ingest buildings ${source.path}`,
    };
    await writeFile(join(dir, "layer.json"), JSON.stringify(manifest, null, 2));
    return root.region;
  });

  return {
    input: source.path,
    out: opts.out,
    crs: sourceCrs.id,
    featuresRead,
    featuresWritten: buildings.count,
    skipped,
    heightSources,
    tiles: tilesWritten,
    bytes,
    seconds: (performance.now() - started) / 1000,
    readSeconds,
    maxPositionErrorMetres: probe!.maxError,
    positionSamples: probe!.samples,
    bbox: layerRegion.toBBox(),
  };
}

function resolveCrsFor(path: string, spec: string, origin?: Origin) {
  try {
    return resolveSourceCrs(spec, origin);
  } catch (err) {
    throw new SourceError(path, (err as Error).message);
  }
}

function countTiles(n: LodNode): number {
  return 1 + n.children.reduce((s, c) => s + countTiles(c), 0);
}

function fmt(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
}
