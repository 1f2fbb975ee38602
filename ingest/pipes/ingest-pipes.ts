import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { LayerManifest } from "../../models/layer.ts";
import type { ImportIssue, NetworkIndex, PipeNetwork } from "../../models/pipes.ts";
import { type Origin, resolveSourceCrs, type SourceCrs } from "../crs/source-crs.ts";
import { publishAtomically } from "../publish.ts";
import { writeFeatureGlb } from "../tiles3d/feature-glb.ts";
import { PropertySchemaBuilder, schemaJson } from "../tiles3d/property-schema.ts";
import { buildLodQuadtree, type LodNode } from "../tiles3d/quadtree-lod.ts";
import type { Region, TilesetJson } from "../tiles3d/tileset-json.ts";
import { writeLodTiles } from "../tiles3d/write-lod-tiles.ts";
import { readCjjTables } from "./cjj/read-cjj.ts";
import { readEpanetInp } from "./epanet/read-epanet-inp.ts";
import { readSwmmInp } from "./swmm/read-swmm-inp.ts";
import { type PipeFeature, pipeFeatures } from "./tiles/pipe-features.ts";
import { PipeTileBuilder } from "./tiles/pipe-mesh.ts";

export const PIPE_FORMATS = ["cjj", "epanet", "swmm"] as const;
export type PipeFormat = (typeof PIPE_FORMATS)[number];

export interface IngestPipesOptions {
  /** cjj: [pointsFile, linesFile]; epanet / swmm: [inpFile]. */
  inputs: string[];
  out: string;
  format: PipeFormat;
  /** Source CRS of the coordinates (required for CJJ tables unless they are WGS84; or "ENU" with `origin`). */
  crs?: string;
  /** Where local (EPANET / SWMM) coordinates (0, 0) lie; implies an ENU frame unless `crs` is given. */
  origin?: Origin;
  /** Units of the x / y coordinates: "ft" scales them by 0.3048. Default "m". */
  units?: "m" | "ft";
  strict?: boolean;
  name?: string;
  meshopt?: boolean;
  leafCapacity?: number;
  innerCapacity?: number;
  onProgress?: (p: IngestPipesProgress) => void;
}

export interface IngestPipesProgress {
  phase: "read" | "tiles";
  done: number;
  total: number;
}

export interface IngestPipesSummary {
  inputs: string[];
  out: string;
  format: PipeFormat;
  crs: string;
  /** Counts read from the source. */
  nodes: number;
  links: number;
  /** Features written: nodes with geometry + links. */
  features: number;
  nodeFeatures: number;
  linkFeatures: number;
  /** Network objects left without geometry, by reason. */
  skipped: Record<string, number>;
  /** Issues the reader reported (the data was still ingested unless strict). */
  issues: ImportIssue[];
  tiles: number;
  bytes: number;
  seconds: number;
  bbox: LayerManifest["bbox"];
}

export class PipeIngestError extends Error {}

const CLASS_NAME = "pipe_feature";
const CLASS_DESCRIPTION =
  "Underground pipe network feature: a link (pipe, conduit, pump, valve...) or a node symbol";
const FEET = 0.3048;

/** `cim ingest pipes`: a pipe network (CJJ 61 survey tables, EPANET or SWMM .inp) to 3D Tiles 1.1. */
export async function ingestPipes(opts: IngestPipesOptions): Promise<IngestPipesSummary> {
  const started = performance.now();
  opts.onProgress?.({ phase: "read", done: 0, total: 1 });
  const net = await readNetwork(opts);
  const crs = networkCrs(opts, net);
  const scale = opts.units === "ft" ? FEET : 1;
  const { features, skipped } = pipeFeatures(net, crs, scale);
  opts.onProgress?.({ phase: "read", done: 1, total: 1 });
  if (features.length === 0)
    throw new PipeIngestError(`${opts.inputs.join(", ")}: no pipe or node with geometry to write`);

  const schema = new PropertySchemaBuilder();
  for (const f of features) schema.observe(f.properties);
  const propertyDefs = schema.build();
  const tree = buildLodQuadtree(
    {
      count: features.length,
      cx: features.map((f) => f.lon),
      cy: features.map((f) => f.lat),
      size: features.map((f) => f.size),
    },
    { leafCapacity: opts.leafCapacity ?? 500, innerCapacity: opts.innerCapacity ?? 150, maxDepth: 18 },
  );
  const totalTiles = countTiles(tree);
  let tilesWritten = 0;
  let bytes = 0;

  const layerRegion = await publishAtomically(opts.out, async (dir) => {
    const root = await writeLodTiles({
      dir,
      tree,
      addItemRegion: (id, region) => addFeature(region, features[id]),
      frameHeight: () => 0,
      content: (items, frame) => {
        const builder = new PipeTileBuilder(frame);
        const rows = items.map((id, fid) => {
          builder.add(fid, features[id]);
          return features[id].properties;
        });
        return writeFeatureGlb(builder.build(), {
          className: CLASS_NAME,
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
    const largest = Math.max(...tree.items.map((id) => features[id].size), tree.geometricError);
    const tileset: TilesetJson = {
      asset: { version: "1.1", generator: "CIM Twin cim ingest pipes" },
      geometricError: largest,
      schema: schemaJson(CLASS_NAME, CLASS_DESCRIPTION, propertyDefs),
      root: root.root,
    };
    const tilesetText = JSON.stringify(tileset);
    bytes += Buffer.byteLength(tilesetText);
    await writeFile(join(dir, "tileset.json"), tilesetText);
    const manifest: LayerManifest = {
      formatVersion: 1,
      type: "pipes",
      name: opts.name ?? basename(opts.inputs[opts.inputs.length - 1]).replace(/\.[^.]+$/, ""),
      crs: crs.id,
      bbox: root.region.toBBox(),
      featureCount: features.length,
      tileCount: tilesWritten,
      createdAt: new Date().toISOString(),
      generator: `cim ingest pipes --format ${opts.format} ${opts.inputs.join(" ")}`,
    };
    await writeFile(join(dir, "layer.json"), JSON.stringify(manifest, null, 2));
    await writeFile(join(dir, "network.json"), JSON.stringify(networkIndex(net, crs, scale, features)));
    return root.region;
  });

  const nodeFeatures = features.filter((f) => f.role === "node").length;
  return {
    inputs: opts.inputs,
    out: opts.out,
    format: opts.format,
    crs: crs.id,
    nodes: net.nodes.length,
    links: net.links.length,
    features: features.length,
    nodeFeatures,
    linkFeatures: features.length - nodeFeatures,
    skipped,
    issues: net.issues,
    tiles: tilesWritten,
    bytes,
    seconds: (performance.now() - started) / 1000,
    bbox: layerRegion.toBBox(),
  };
}

async function readNetwork(opts: IngestPipesOptions): Promise<PipeNetwork> {
  const strict = Boolean(opts.strict);
  switch (opts.format) {
    case "epanet":
    case "swmm": {
      if (opts.inputs.length !== 1)
        throw new PipeIngestError(`--format ${opts.format} takes one .inp file, got ${opts.inputs.length}`);
      return opts.format === "epanet"
        ? readEpanetInp(opts.inputs[0], { strict })
        : readSwmmInp(opts.inputs[0], { strict });
    }
    case "cjj": {
      if (opts.inputs.length !== 2)
        throw new PipeIngestError(
          `--format cjj takes the point table and the line table, got ${opts.inputs.length} file(s)`,
        );
      return readCjjTables({ points: opts.inputs[0], lines: opts.inputs[1], crs: opts.crs, strict });
    }
    default:
      throw new PipeIngestError(
        `unknown pipe format "${opts.format as string}" (use ${PIPE_FORMATS.join(", ")})`,
      );
  }
}

/** EPANET / SWMM coordinates are local: they need --origin (ENU frame) or --crs. CJJ tables default to WGS84. */
function networkCrs(opts: IngestPipesOptions, net: PipeNetwork): SourceCrs {
  let spec = opts.crs ?? net.crs ?? undefined;
  if (!spec && opts.origin) spec = "ENU";
  if (!spec) {
    if (opts.format === "cjj") spec = "EPSG:4326";
    else
      throw new PipeIngestError(
        `${opts.inputs[0]}: ${opts.format.toUpperCase()} coordinates are local: give --origin lon,lat[,h] (or --crs)`,
      );
  }
  try {
    return resolveSourceCrs(spec, opts.origin);
  } catch (err) {
    throw new PipeIngestError(`${opts.inputs[0]}: ${(err as Error).message}`);
  }
}

function addFeature(r: Region, f: PipeFeature): void {
  r.addPoint(f.west, f.south, f.minH);
  r.addPoint(f.east, f.north, f.maxH);
}

function countTiles(n: LodNode): number {
  return 1 + n.children.reduce((s, c) => s + countTiles(c), 0);
}

/** The topology the server loads for analysis, in geodetic coordinates (see NetworkIndexSchema). */
function networkIndex(
  net: PipeNetwork,
  crs: SourceCrs,
  scale: number,
  features: PipeFeature[],
): NetworkIndex {
  const paths = new Map<string, [number, number, number][]>();
  for (const f of features) {
    if (f.role === "link" && f.shape.type !== "cylinder") paths.set(f.id, f.shape.path);
  }
  return {
    formatVersion: 1,
    nodes: net.nodes.map((n) => {
      const [lon, lat] = crs.toGeodetic(n.x * scale, n.y * scale, 0);
      return {
        id: n.id,
        kind: n.kind,
        pipeClass: n.pipeClass,
        lon,
        lat,
        groundElevation: n.groundElevation,
        invertElevation: n.invertElevation,
        attributes: n.attributes,
      };
    }),
    links: net.links.map((l) => ({
      id: l.id,
      kind: l.kind,
      pipeClass: l.pipeClass,
      from: l.from,
      to: l.to,
      section: l.section,
      fromInvert: l.fromInvert,
      toInvert: l.toInvert,
      length: l.length,
      material: l.material,
      path: paths.get(l.id) ?? [],
      attributes: l.attributes,
    })),
  };
}
