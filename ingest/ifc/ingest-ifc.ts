import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { LayerManifest } from "../../models/layer.ts";
import { ecefToEnu, type Mat4, transformPoint, type Vec3 } from "../crs/geodesy.ts";
import type { Origin } from "../crs/source-crs.ts";
import { withEventLoopHeld } from "../event-loop-hold.ts";
import { publishAtomically } from "../publish.ts";
import { SourceError } from "../sources/source-feature.ts";
import { type ColoredMesh, writeFeatureGlb } from "../tiles3d/feature-glb.ts";
import { PropertySchemaBuilder, schemaJson } from "../tiles3d/property-schema.ts";
import { buildLodQuadtree, type LodNode } from "../tiles3d/quadtree-lod.ts";
import { Region, type TilesetJson } from "../tiles3d/tileset-json.ts";
import { writeLodTiles } from "../tiles3d/write-lod-tiles.ts";
import { GeoreferenceError, resolveGeoreference } from "./georeference.ts";
import { type ElementExtraction, IfcExtraction, IfcExtractionError } from "./ifc-extraction.ts";
import type { PlacedElementData } from "./ifc-types.ts";
import { findPlacementCycleInStep } from "./placement-cycles.ts";
import { StepEntities } from "./step-entities.ts";
import { precheckStep, type StepStatements, StepSyntaxError } from "./step-precheck.ts";

export interface IngestIfcOptions {
  input: string;
  out: string;
  origin?: Origin;
  heading?: number;
  crs?: string;
  name?: string;
  includeSpaces?: boolean;
  elementTimeoutMs?: number;
  leafCapacity?: number;
  meshopt?: boolean;
  /**
   * Worker threads meshing in parallel, each with its own web-ifc and copy of the model; 0 meshes on the calling
   * thread. Default: see defaultWorkers.
   */
  workers?: number;
  onProgress?: (p: { phase: "elements" | "tiles"; done: number; total: number }) => void;
}

export interface IngestIfcSummary {
  input: string;
  out: string;
  schema: string;
  georeference: string;
  crs: string;
  products: number;
  triangles: number;
  tiles: number;
  bytes: number;
  skipped: { expressId: number; reason: string }[];
  withoutGeometry: number;
  seconds: number;
  maxPositionErrorMetres: number;
  bbox: LayerManifest["bbox"];
}

/** One element ready for tiling: geometry already in ECEF. */
interface PlacedElement {
  /** Position in the model's product list: workers finish out of order, output must not depend on it. */
  order: number;
  row: Record<string, unknown>;
  /** Rank of its storey by elevation (0 = lowest), -1 outside any storey: drives the viewer's storey explode. */
  storeyIndex: number;
  parts: PlacedElementData["parts"];
  region: Region;
}

const CLASS_DESCRIPTION = "IFC product (BIM element) with its property and quantity sets";

/** `cim ingest ifc`: an IFC model to a 3D Tiles 1.1 layer with every element's properties, and its element index. */
export function ingestIfc(opts: IngestIfcOptions): Promise<IngestIfcSummary> {
  return withEventLoopHeld(() => runIngest(opts));
}

async function runIngest(opts: IngestIfcOptions): Promise<IngestIfcSummary> {
  const started = performance.now();
  const path = opts.input;
  let bytes: Uint8Array;
  try {
    // Synchronous reads and writes here: on a busy machine each asynchronous call waits for a thread-pool thread
    // and then for the main thread to be scheduled again (tens of ms each at load 20, measured), and the ingest has
    // nothing else to do meanwhile.
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SourceError(path, code === "ENOENT" ? "file not found" : (err as Error).message);
  }
  let statements: StepStatements;
  try {
    statements = precheckStep(bytes);
  } catch (err) {
    if (err instanceof StepSyntaxError) throw new SourceError(path, err.message);
    throw err;
  }
  const step = new StepEntities(bytes, statements.starts, statements.count);
  const cycle = findPlacementCycleInStep(step);
  if (cycle) throw new SourceError(path, cycle.message);
  const workers = opts.workers ?? defaultWorkers(bytes.length);
  const extractionOptions = {
    path,
    fileBytes: bytes.length,
    includeSpaces: Boolean(opts.includeSpaces),
    elementTimeoutMs: opts.elementTimeoutMs ?? 10_000,
    georeference: { origin: opts.origin, heading: opts.heading, crs: opts.crs },
    workers,
  };
  // Loaded here, not at the top: web-ifc is 6 MB of JavaScript, and a file the syntax pass rejects never needs it.
  const extraction: ElementExtraction =
    workers > 0
      ? new IfcExtraction(extractionOptions)
      : new (await import("./in-process-extraction.ts")).InProcessExtraction(extractionOptions, bytes, step);
  try {
    const info = await extraction.open().catch(rethrowFor(path));
    let geo: ReturnType<typeof resolveGeoreference>;
    try {
      geo = resolveGeoreference(info, { origin: opts.origin, heading: opts.heading, crs: opts.crs });
    } catch (err) {
      if (err instanceof GeoreferenceError) throw new SourceError(path, err.message);
      throw new SourceError(path, (err as Error).message);
    }
    const storeyRank = new Map(
      [...info.storeys]
        .sort(
          (a, b) => (a.elevation ?? 0) - (b.elevation ?? 0) || String(a.name).localeCompare(String(b.name)),
        )
        .map((s, i) => [s.name, i]),
    );
    const elements: PlacedElement[] = [];
    const schema = new PropertySchemaBuilder();
    let triangles = 0;
    let withoutGeometry = 0;
    const total = info.productIds.length;
    try {
      for await (const { index, element } of extraction.elements()) {
        if (element) {
          const placed = place(element, storeyRank, index);
          schema.observe(placed.row);
          elements.push(placed);
          for (const p of placed.parts) triangles += p.indices.length / 3;
        } else withoutGeometry++;
        if (index % 20 === 0) opts.onProgress?.({ phase: "elements", done: index + 1, total });
      }
    } catch (err) {
      rethrowFor(path)(err);
    }
    opts.onProgress?.({ phase: "elements", done: total, total });
    if (elements.length === 0) throw new SourceError(path, "no IFC product with geometry");
    elements.sort((a, b) => a.order - b.order);

    const cx = new Float64Array(elements.length);
    const cy = new Float64Array(elements.length);
    const size = new Float64Array(elements.length);
    elements.forEach((e, i) => {
      [cx[i], cy[i]] = e.region.centre();
      const r = e.region;
      const dLon = (r.east - r.west) * 111_320 * Math.cos((r.north * Math.PI) / 180);
      const dLat = (r.north - r.south) * 110_940;
      size[i] = Math.hypot(dLon, dLat, r.maxH - r.minH);
    });
    const leaf = opts.leafCapacity ?? 250;
    const tree = buildLodQuadtree(
      { count: elements.length, cx, cy, size },
      { leafCapacity: leaf, innerCapacity: Math.max(1, Math.round(leaf / 3)), maxDepth: 16 },
    );
    const defs = schema.build();
    let tiles = 0;
    let written = 0;
    let maxError = 0;
    const totalTiles = countTiles(tree);

    const rootRegion = await publishAtomically(opts.out, async (dir) => {
      const root = await writeLodTiles({
        dir,
        tree,
        addItemRegion: (id, region) => region.addRegion(elements[id].region),
        frameHeight: (region) => (region.minH + region.maxH) / 2,
        content: (items, frame) => {
          const { parts, error } = tileMeshes(
            items.map((id) => elements[id]),
            frame,
          );
          maxError = Math.max(maxError, error);
          return writeFeatureGlb(parts, {
            className: "element",
            classDescription: CLASS_DESCRIPTION,
            properties: defs,
            rows: items.map((id) => elements[id].row),
            meshopt: opts.meshopt,
          });
        },
        onTile: (n) => opts.onProgress?.({ phase: "tiles", done: n, total: totalTiles }),
      });
      tiles = root.tiles;
      written = root.bytes;
      const tileset: TilesetJson = {
        asset: { version: "1.1", generator: "CIM Twin cim ingest ifc" },
        geometricError: Math.max(tree.geometricError, ...tree.items.map((id) => size[id])),
        schema: schemaJson("element", CLASS_DESCRIPTION, defs),
        root: root.root,
      };
      writeFileSync(join(dir, "tileset.json"), JSON.stringify(tileset));
      writeFileSync(
        join(dir, "elements.json"),
        JSON.stringify({
          formatVersion: 1,
          elements: elements.map((e) => ({
            globalId: e.row.GlobalId,
            ifcClass: e.row.IfcClass,
            name: e.row.Name ?? null,
            objectType: e.row.ObjectType ?? null,
            storey: e.row.Storey ?? null,
            storeyElevation: e.row.StoreyElevation ?? null,
            bbox: e.region.toBBox(),
          })),
        }),
      );
      const manifest: LayerManifest = {
        formatVersion: 1,
        type: "bim",
        name:
          opts.name ??
          path
            .split(/[\\/]/)
            .pop()!
            .replace(/\.ifc$/i, ""),
        crs: geo.crs,
        bbox: root.region.toBBox(),
        featureCount: elements.length,
        tileCount: tiles,
        createdAt: new Date().toISOString(),
        generator: `cim ingest ifc ${path}`,
      };
      writeFileSync(join(dir, "layer.json"), JSON.stringify(manifest, null, 2));
      return root.region;
    });

    return {
      input: path,
      out: opts.out,
      schema: info.schema,
      georeference: geo.method,
      crs: geo.crs,
      products: elements.length,
      triangles,
      tiles,
      bytes: written,
      skipped: extraction.skipped,
      withoutGeometry,
      seconds: (performance.now() - started) / 1000,
      maxPositionErrorMetres: maxError,
      bbox: rootRegion.toBBox(),
    };
  } finally {
    await extraction.close();
  }
}

/**
 * Meshing on the calling thread unless the machine has cores to spare and the file is big enough for parallel
 * meshing to win back each worker's start-up and its own copy of web-ifc and of the model. On 2 cores the calling
 * thread was faster for every file of bench/ifc.bench.ts (up to the 4.4 MB tower); the 4-core, 10 MB threshold is
 * where the workers are expected to pay, not a measurement.
 */
function defaultWorkers(fileBytes: number): number {
  const cores = availableParallelism();
  return cores >= 4 && fileBytes >= 10_000_000 ? Math.min(4, cores) : 0;
}

function rethrowFor(path: string) {
  return (err: unknown): never => {
    if (err instanceof IfcExtractionError) {
      throw new SourceError(
        path,
        err.entityId !== undefined && !err.message.startsWith("#")
          ? `#${err.entityId}: ${err.message}`
          : err.message,
      );
    }
    throw err;
  };
}

function place(e: PlacedElementData, storeyRank: Map<string | null, number>, order: number): PlacedElement {
  const region = new Region();
  const [west, south, east, north, minH, maxH] = e.bounds;
  region.addPoint(west, south, minH);
  region.addPoint(east, north, maxH);
  const row: Record<string, unknown> = {
    GlobalId: e.globalId,
    IfcClass: e.ifcClass,
    Name: e.name,
    ObjectType: e.objectType,
    Storey: e.storey,
    StoreyElevation: e.storeyElevation,
    ...e.properties,
  };
  return {
    order,
    row,
    parts: e.parts,
    region,
    storeyIndex: e.storey === null ? -1 : (storeyRank.get(e.storey) ?? -1),
  };
}

/** Groups a tile's elements by colour into meshes in the tile's ENU frame (glTF y-up). */
function tileMeshes(items: PlacedElement[], frame: Mat4): { parts: ColoredMesh[]; error: number } {
  const groups = new Map<
    string,
    {
      color: ColoredMesh["color"];
      members: { fid: number; part: PlacedElement["parts"][number]; storey: number }[];
    }
  >();
  items.forEach((el, fid) => {
    for (const part of el.parts) {
      const key = part.color.map((c) => c.toFixed(4)).join(",");
      let g = groups.get(key);
      if (!g) {
        g = { color: part.color, members: [] };
        groups.set(key, g);
      }
      g.members.push({ fid, part, storey: el.storeyIndex });
    }
  });
  let error = 0;
  const tmp: Vec3 = [0, 0, 0];
  const parts: ColoredMesh[] = [];
  for (const g of groups.values()) {
    const vertexCount = g.members.reduce((s, m) => s + m.part.ecef.length / 3, 0);
    const indexCount = g.members.reduce((s, m) => s + m.part.indices.length, 0);
    const positions = new Float32Array(vertexCount * 3);
    const normals = new Float32Array(vertexCount * 3);
    const featureIds = new Uint16Array(vertexCount);
    const storeyIndex = new Float32Array(vertexCount);
    const indices = new Uint32Array(indexCount);
    let v = 0;
    let k = 0;
    for (const { fid, part, storey } of g.members) {
      for (let i = 0; i < part.indices.length; i++) indices[k++] = part.indices[i] + v;
      const n = part.ecef.length / 3;
      for (let i = 0; i < n; i++, v++) {
        ecefToEnu(frame, part.ecef[3 * i], part.ecef[3 * i + 1], part.ecef[3 * i + 2], tmp);
        positions[3 * v] = tmp[0];
        positions[3 * v + 1] = tmp[2];
        positions[3 * v + 2] = -tmp[1];
        if ((v & 63) === 0) {
          const back = transformPoint(frame, positions[3 * v], -positions[3 * v + 2], positions[3 * v + 1]);
          error = Math.max(
            error,
            Math.hypot(
              back[0] - part.ecef[3 * i],
              back[1] - part.ecef[3 * i + 1],
              back[2] - part.ecef[3 * i + 2],
            ),
          );
        }
        // Normals: ECEF direction -> tile ENU (rotation only) -> y-up.
        const nx = part.normals[3 * i];
        const ny = part.normals[3 * i + 1];
        const nz = part.normals[3 * i + 2];
        const e = frame[0] * nx + frame[1] * ny + frame[2] * nz;
        const nn = frame[4] * nx + frame[5] * ny + frame[6] * nz;
        const u = frame[8] * nx + frame[9] * ny + frame[10] * nz;
        normals[3 * v] = e;
        normals[3 * v + 1] = u;
        normals[3 * v + 2] = -nn;
        featureIds[v] = fid;
        storeyIndex[v] = storey;
      }
    }
    parts.push({
      color: g.color,
      mesh: { positions, normals, featureIds, indices, extraAttributes: { _STOREY_INDEX: storeyIndex } },
    });
  }
  return { parts, error };
}

function countTiles(n: LodNode): number {
  return 1 + n.children.reduce((s, c) => s + countTiles(c), 0);
}
