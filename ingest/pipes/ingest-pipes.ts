import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { LayerManifest } from "../../models/layer.ts";
import type { ImportIssue, NetworkIndex, PipeClass, PipeNetwork } from "../../models/pipes.ts";
import { type Origin, resolveSourceCrs, type SourceCrs } from "../crs/source-crs.ts";
import { publishAtomically } from "../publish.ts";
import { writeFeatureGlb } from "../tiles3d/feature-glb.ts";
import { PropertySchemaBuilder, schemaJson } from "../tiles3d/property-schema.ts";
import type { LodNode } from "../tiles3d/quadtree-lod.ts";
import type { Region, TilesetJson } from "../tiles3d/tileset-json.ts";
import { writeLodTiles } from "../tiles3d/write-lod-tiles.ts";
import { type CjjMapping, readMappingFile } from "./cjj/columns.ts";
import { readCjjTables } from "./cjj/read-cjj.ts";
import { readEpanetInp } from "./epanet/read-epanet-inp.ts";
import { readGisNetwork } from "./gis/read-gis.ts";
import { readSwmmInp } from "./swmm/read-swmm-inp.ts";
import { type PipeFeature, pipeFeatures } from "./tiles/pipe-features.ts";
import { PipeLineBuilder } from "./tiles/pipe-lines.ts";
import { buildPipeLod } from "./tiles/pipe-lod.ts";
import { PipeTileBuilder } from "./tiles/pipe-mesh.ts";
import { PropertyColumns } from "./tiles/pipe-properties.ts";

export const PIPE_FORMATS = ["cjj", "geojson", "shp", "epanet", "swmm"] as const;
export type PipeFormat = (typeof PIPE_FORMATS)[number];

export interface IngestPipesOptions {
  /** cjj: [pointsFile, linesFile]; geojson / shp: line and point layers; epanet / swmm: [inpFile]. */
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
  /** cjj / geojson / shp: header, class, kind and depth mapping, or the path of its JSON file (`--mapping`). */
  mapping?: CjjMapping | { file: string };
  /** geojson / shp: class of features without a class attribute (`--class`), before the file name is tried. */
  pipeClass?: PipeClass;
  name?: string;
  meshopt?: boolean;
  /** Most features in a leaf tile (drawn as tubes); default 500. */
  leafCapacity?: number;
  /** Most links an inner tile draws as lines; default 4000. */
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
/** Links an inner (line) tile draws: keeps the root tile around a megabyte, property table included. */
const OVERVIEW_CAPACITY = 4000;

/** `cim ingest pipes`: a pipe network (CJJ 61 survey tables, EPANET or SWMM .inp) to 3D Tiles 1.1. */
export async function ingestPipes(opts: IngestPipesOptions): Promise<IngestPipesSummary> {
  const started = performance.now();
  opts.onProgress?.({ phase: "read", done: 0, total: 1 });
  const net = await readNetwork(opts);
  const crs = networkCrs(opts, net);
  const scale = opts.units === "ft" ? FEET : 1;
  const { features, skipped } = pipeFeatures(net, crs, scale);
  const counts = { nodes: net.nodes.length, links: net.links.length, issues: net.issues };
  opts.onProgress?.({ phase: "read", done: 1, total: 1 });
  if (features.length === 0)
    throw new PipeIngestError(`${opts.inputs.join(", ")}: no pipe or node with geometry to write`);

  const schema = new PropertySchemaBuilder();
  const raw = PropertyColumns.collect(features.length, (i) => features[i].properties, schema);
  const propertyDefs = schema.build();
  const columns = new PropertyColumns(propertyDefs, raw);
  raw.clear();
  const lod = buildPipeLod(features, {
    leafCapacity: opts.leafCapacity ?? 500,
    overviewCapacity: opts.innerCapacity ?? OVERVIEW_CAPACITY,
  });
  const tree = lod.root;
  const totalTiles = countTiles(tree);
  let tilesWritten = 0;
  let bytes = 0;

  const layerRegion = await publishAtomically(opts.out, async (dir) => {
    await writeNetworkIndex(join(dir, "network.json"), net, crs, scale, features);
    const root = await writeLodTiles({
      dir,
      tree,
      addItemRegion: (id, region) => addFeature(region, features[id]),
      frameHeight: () => 0,
      refine: "REPLACE",
      contentItems: (node) => (node.children.length === 0 ? node.items : (lod.overview.get(node) ?? [])),
      content: (items, frame, node) => {
        // Leaves draw tubes, boxes and symbols; inner tiles their most prominent links as lines.
        const builder = node.children.length === 0 ? new PipeTileBuilder(frame) : new PipeLineBuilder(frame);
        for (let fid = 0; fid < items.length; fid++) builder.add(fid, features[items[fid]]);
        return writeFeatureGlb(builder.build(), {
          className: CLASS_NAME,
          classDescription: CLASS_DESCRIPTION,
          properties: propertyDefs,
          rows: columns.rows(items),
          meshopt: opts.meshopt,
        });
      },
      onTile: (n) => opts.onProgress?.({ phase: "tiles", done: n, total: totalTiles }),
    });
    tilesWritten = root.tiles;
    bytes += root.bytes;
    // Beyond the root's own error nothing of the network is worth drawing.
    const largest = Math.max(2 * tree.geometricError, 1);
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
    return root.region;
  });

  const nodeFeatures = features.filter((f) => f.role === "node").length;
  return {
    inputs: opts.inputs,
    out: opts.out,
    format: opts.format,
    crs: crs.id,
    nodes: counts.nodes,
    links: counts.links,
    features: features.length,
    nodeFeatures,
    linkFeatures: features.length - nodeFeatures,
    skipped,
    issues: counts.issues,
    tiles: tilesWritten,
    bytes,
    seconds: (performance.now() - started) / 1000,
    bbox: layerRegion.toBBox(),
  };
}

async function readNetwork(opts: IngestPipesOptions): Promise<PipeNetwork> {
  const strict = Boolean(opts.strict);
  const gis = opts.format === "geojson" || opts.format === "shp";
  if (opts.mapping && !gis && opts.format !== "cjj")
    throw new PipeIngestError(`--mapping applies to --format cjj, geojson and shp, not ${opts.format}`);
  if (opts.pipeClass && !gis)
    throw new PipeIngestError(`--class applies to --format geojson and shp, not ${opts.format}`);
  const mapping =
    opts.mapping && "file" in opts.mapping ? await readMappingFile(opts.mapping.file) : opts.mapping;
  switch (opts.format) {
    case "geojson":
    case "shp":
      return readGisNetwork({
        inputs: opts.inputs,
        format: opts.format,
        crs: opts.crs,
        mapping,
        pipeClass: opts.pipeClass,
        strict,
      });
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
      return readCjjTables({ points: opts.inputs[0], lines: opts.inputs[1], crs: opts.crs, mapping, strict });
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

/**
 * network.json, the topology the server loads for analysis, in geodetic coordinates (see NetworkIndexSchema):
 * written object by object, since one JSON.stringify of a city network is a string of hundreds of megabytes.
 */
async function writeNetworkIndex(
  file: string,
  net: PipeNetwork,
  crs: SourceCrs,
  scale: number,
  features: PipeFeature[],
): Promise<void> {
  const paths = new Map<string, [number, number, number][]>();
  for (const f of features) {
    if (f.role === "link" && f.shape.type !== "cylinder") paths.set(f.id, f.shape.path);
  }
  type IndexNode = NetworkIndex["nodes"][number];
  type IndexLink = NetworkIndex["links"][number];
  const node = (n: PipeNetwork["nodes"][number]): IndexNode => {
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
  };
  const link = (l: PipeNetwork["links"][number]): IndexLink => ({
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
  });
  const out = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.on("finish", resolve);
    out.on("error", reject);
  });
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, "drain");
  };
  const CHUNK = 2000;
  await write(`{"formatVersion":1,"nodes":[`);
  for (let i = 0; i < net.nodes.length; i += CHUNK) {
    const part = net.nodes.slice(i, i + CHUNK).map((n) => JSON.stringify(node(n)));
    await write((i > 0 ? "," : "") + part.join(","));
  }
  await write(`],"links":[`);
  for (let i = 0; i < net.links.length; i += CHUNK) {
    const part = net.links.slice(i, i + CHUNK).map((l) => JSON.stringify(link(l)));
    await write((i > 0 ? "," : "") + part.join(","));
  }
  await write("]}");
  out.end();
  await done;
}
