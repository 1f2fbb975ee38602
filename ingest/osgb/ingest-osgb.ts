import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, relative } from "node:path";
import type { Worker } from "node:worker_threads";
import type { LayerManifest } from "../../models/layer.ts";
import type { Origin } from "../crs/source-crs.ts";
import { publishAtomically } from "../publish.ts";
import { assembleEnuTileTree, type EnuTileNode } from "../tiles3d/enu-tile-tree.ts";
import type { TilesetJson } from "../tiles3d/tileset-json.ts";
import { spawnTsWorker } from "../workers/spawn-ts-worker.ts";
import { relativeName, resolveOsgbInput } from "./osgb-input.ts";
import type { TileJob, TileRecord } from "./osgb-tile.ts";
import type { OsgbWorkerData, OsgbWorkerReply } from "./osgb-worker-types.ts";

export interface IngestOsgbOptions {
  /** Data folder, production folder, metadata.xml or one .osgb file. */
  input: string;
  out: string;
  /** Overrides metadata.xml's <SRS>. */
  crs?: string;
  /** Origin of ENU coordinates (also: georeferences a lone .osgb without metadata.xml as ENU). */
  origin?: Origin;
  /** Overrides metadata.xml's <SRSOrigin>. */
  srsOrigin?: [number, number, number];
  name?: string;
  workers?: number;
  onProgress?: (p: { phase: "tiles"; done: number; total: number }) => void;
}

export interface IngestOsgbSummary {
  input: string;
  dataDir: string;
  out: string;
  crs: string;
  srsOrigin: [number, number, number];
  metadata: string | null;
  /** .osgb files read (root tiles and every PagedLOD child reached). */
  files: number;
  /** Tiles in tileset.json (files with content or children, plus the root). */
  tiles: number;
  rootTiles: number;
  maxDepth: number;
  vertices: number;
  triangles: number;
  textures: number;
  bytes: number;
  /** PagedLOD children that could not be used, with the file that refers to them. */
  missing: { file: string; parent: string; reason: string }[];
  warnings: string[];
  warningCount: number;
  seconds: number;
  maxPositionErrorMetres: number;
  positionSamples: number;
  bbox: LayerManifest["bbox"];
}

const MAX_LISTED_WARNINGS = 50;

/**
 * ContextCapture / Smart3D / DJI Terra OSGB production to 3D Tiles 1.1: one tile per .osgb file, the PagedLOD
 * hierarchy kept as REPLACE refinement. Workers convert files while the main thread walks the hierarchy depth
 * first, so what is held in memory is the stack of files still to read plus one small record per tile.
 */
export async function ingestOsgb(opts: IngestOsgbOptions): Promise<IngestOsgbSummary> {
  const started = performance.now();
  const input = resolveOsgbInput(opts.input, {
    crs: opts.crs,
    origin: opts.origin,
    srsOrigin: opts.srsOrigin,
  });
  const { dataDir } = input;
  const rel = (f: string) => relativeName(dataDir, f);
  const summary: IngestOsgbSummary = {
    input: opts.input,
    dataDir,
    out: opts.out,
    crs: input.crs.id,
    srsOrigin: input.srsOrigin,
    metadata: input.metadata?.file ?? null,
    files: 0,
    tiles: 0,
    rootTiles: 0,
    maxDepth: 0,
    vertices: 0,
    triangles: 0,
    textures: 0,
    bytes: 0,
    missing: [],
    warnings: [],
    warningCount: 0,
    seconds: 0,
    maxPositionErrorMetres: 0,
    positionSamples: 0,
    bbox: [0, 0, 0, 0, 0, 0],
  };

  const nodes: (EnuTileNode | undefined)[] = [];
  const depthOf: number[] = [];
  const seen = new Set<string>();
  const usedUris = new Set<string>();
  const uriFor = (file: string, id: number): string => {
    const r = relative(dataDir, file);
    const path = (r.startsWith("..") ? basename(file) : r).replace(/\\/g, "/").replace(/[^\w+.\-/]/g, "_");
    let uri = `tiles/${path.replace(/\.osgb$/i, "")}.glb`;
    if (usedUris.has(uri)) uri = `tiles/${path.replace(/\.osgb$/i, "")}_${id}.glb`;
    usedUris.add(uri);
    return uri;
  };

  const region = await publishAtomically(opts.out, async (dir) => {
    // Depth first: the stack of files still to convert stays near depth x branching, not a whole LOD level.
    const stack: TileJob[] = [];
    const roots: number[] = [];
    for (const file of [...input.roots].reverse()) {
      const id = nodes.length;
      nodes.push(undefined);
      depthOf.push(0);
      roots.unshift(id);
      seen.add(file);
      stack.push({ id, file, uri: uriFor(file, id) });
    }
    summary.rootTiles = roots.length;
    let discovered = stack.length;

    const workerData: OsgbWorkerData = {
      crsSpec: input.crsSpec,
      origin: input.origin,
      srsOrigin: input.srsOrigin,
      outDir: dir,
    };
    const count = Math.max(1, Math.min(opts.workers ?? Math.min(4, availableParallelism()), discovered * 8));
    const workers: Worker[] = Array.from({ length: count }, () =>
      spawnTsWorker(new URL("./osgb-worker.ts", import.meta.url), workerData),
    );

    const onRecord = (r: TileRecord) => {
      summary.files++;
      summary.vertices += r.vertices;
      summary.triangles += r.triangles;
      summary.textures += r.textures;
      summary.bytes += r.bytes;
      summary.positionSamples += r.positionSamples;
      summary.maxPositionErrorMetres = Math.max(summary.maxPositionErrorMetres, r.positionError);
      for (const w of r.warnings) {
        summary.warningCount++;
        if (summary.warnings.length < MAX_LISTED_WARNINGS) summary.warnings.push(`${rel(r.file)}: ${w}`);
      }
      for (const m of r.missing)
        summary.missing.push({ file: rel(m.file), parent: rel(r.file), reason: m.reason });
      const node: EnuTileNode = {
        uri: r.uri,
        frame: r.frame,
        box: r.box,
        geometricError: r.geometricError,
        children: [],
      };
      for (const child of r.children) {
        if (seen.has(child)) {
          summary.missing.push({
            file: rel(child),
            parent: rel(r.file),
            reason: "already referenced by another PagedLOD (used once)",
          });
          continue;
        }
        seen.add(child);
        const id = nodes.length;
        nodes.push(undefined);
        depthOf.push(depthOf[r.id] + 1);
        summary.maxDepth = Math.max(summary.maxDepth, depthOf[r.id] + 1);
        node.children.push(id);
        stack.push({ id, file: child, uri: uriFor(child, id) });
        discovered++;
      }
      nodes[r.id] = node;
    };

    let finished = false;
    try {
      await new Promise<void>((resolvePromise, reject) => {
        const idle = [...workers];
        let inFlight = 0;
        let failed = false;
        const fail = (e: Error) => {
          if (failed) return;
          failed = true;
          reject(e);
        };
        const pump = () => {
          if (failed) return;
          while (idle.length > 0 && stack.length > 0) {
            idle.pop()!.postMessage(stack.pop());
            inFlight++;
          }
          if (inFlight === 0 && stack.length === 0) resolvePromise();
        };
        for (const w of workers) {
          w.on("message", (msg: OsgbWorkerReply) => {
            inFlight--;
            idle.push(w);
            if (msg.type === "error") {
              // A damaged file fails the whole ingest: publishing around it would hide a hole in the model.
              fail(new Error(msg.name === "OsgbError" ? msg.message : `${msg.file}: ${msg.message}`));
              return;
            }
            try {
              onRecord(msg.record);
            } catch (e) {
              fail(e as Error);
              return;
            }
            opts.onProgress?.({ phase: "tiles", done: summary.files, total: discovered });
            pump();
          });
          w.on("error", (e) => fail(new Error(`OSGB worker failed: ${e.message}`)));
          // A worker killed from outside (out of memory) sends nothing: without this the ingest would wait forever.
          w.on("exit", (code) => {
            if (!finished) fail(new Error(`OSGB worker exited unexpectedly (code ${code})`));
          });
        }
        pump();
      });
    } finally {
      finished = true;
      await Promise.all(workers.map((w) => w.terminate()));
    }

    const assembled = assembleEnuTileTree(nodes, roots);
    if (!assembled) throw new Error(`${dataDir}: no triangles in any .osgb file`);
    summary.tiles = assembled.tiles;
    const tileset: TilesetJson = {
      asset: { version: "1.1", generator: "CIM Twin cim ingest osgb" },
      geometricError: assembled.root.geometricError,
      root: assembled.root,
    };
    await writeFile(`${dir}/tileset.json`, JSON.stringify(tileset));
    const manifest: LayerManifest = {
      formatVersion: 1,
      type: "reality-mesh",
      name: opts.name ?? defaultName(input.metadata?.file, dataDir, input.roots),
      crs: input.crs.id,
      bbox: assembled.region.toBBox(),
      featureCount: 0,
      tileCount: assembled.tiles,
      createdAt: new Date().toISOString(),
      generator: `cim ingest osgb ${opts.input}`,
    };
    await writeFile(`${dir}/layer.json`, JSON.stringify(manifest, null, 2));
    return assembled.region;
  });

  summary.bbox = region.toBBox();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

function defaultName(metadata: string | undefined, dataDir: string, roots: string[]): string {
  if (roots.length === 1 && !metadata) return basename(roots[0]).replace(/\.osgb$/i, "");
  const folder = basename(dataDir) === "Data" ? basename(dirname(dataDir)) : basename(dataDir);
  return folder || "reality mesh";
}
