/**
 * checkTileset: the one call every test that writes a 3D Tiles 1.1 tileset makes.
 *
 *   const report = await checkTileset(join(out, "tileset.json"));
 *   expect(report.errors).toEqual([]);
 *   expect(report.features).toHaveLength(42);
 *
 * It never throws for a bad tileset; every problem is a precise line in `report.errors`, prefixed with the
 * tile path ("root.children[1]") or the content uri ("tiles/0.glb").
 */
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { distanceOutside, type WorldVolume } from "./tileset-checks/bounding-volume.ts";
import { IDENTITY, type Mat4, multiply, transformPoint, Y_UP_TO_Z_UP } from "./tileset-checks/geodesy.ts";
import { type GlbParts, readGlb, replaceGlbJson } from "./tileset-checks/glb-container.ts";
import { validateContent } from "./tileset-checks/gltf-validation.ts";
import {
  contentFilesSeenByLoadersGl,
  type LoadedContent,
  parseGlbWithLoadersGl,
} from "./tileset-checks/loaders-gl-reader.ts";
import { decodeMeshopt } from "./tileset-checks/meshopt.ts";
import { checkPropertyTables, withoutBooleanColumns } from "./tileset-checks/property-table-binary.ts";
import {
  type ContentRef,
  checkStructure,
  slack,
  type Tolerance,
} from "./tileset-checks/tileset-structure.ts";

export interface TilesetCheckOptions {
  /** Absolute slack for every containment check, metres. Default 0.05. */
  toleranceMeters?: number;
  /** Extra slack as a fraction of the enclosing volume's diagonal. Default 1e-3. */
  relativeTolerance?: number;
}

export interface TilesetFeature {
  /** Content uri as written in tileset.json, e.g. "tiles/0.glb". */
  tile: string;
  /** Property-table row, which is the feature id vertices carry. */
  featureId: number;
  /** Decoded by loaders.gl, except BOOLEAN columns (see report.notes). */
  properties: Record<string, unknown>;
}

export interface ContentSummary {
  tile: string;
  tilePath: string;
  vertexCount: number;
  /** Distinct in-range, non-null feature ids used by vertices. */
  distinctFeatureIds: number;
  /** Sum of property-table row counts. */
  propertyTableRows: number;
}

export interface TilesetReport {
  errors: string[];
  /** Validator warnings and things the checker could not check; not failures. */
  warnings: string[];
  /** How values were obtained where loaders.gl falls short (e.g. BOOLEAN columns). */
  notes: string[];
  tileCount: number;
  contents: ContentSummary[];
  features: TilesetFeature[];
  /** Sum of contents[].distinctFeatureIds. */
  distinctFeatureIds: number;
}

const MAX_LISTED = 5;

function listSome(items: number[]): string {
  const head = items.slice(0, MAX_LISTED).join(", ");
  return items.length > MAX_LISTED ? `${head} (and ${items.length - MAX_LISTED} more)` : head;
}

function checkVertices(
  ref: ContentRef,
  content: LoadedContent,
  upAxis: Mat4,
  tol: Tolerance,
  errors: string[],
): number {
  let vertexCount = 0;
  const volumes: Array<[string, WorldVolume]> = [["tile", ref.tileVolume]];
  if (ref.contentVolume) volumes.push(["content", ref.contentVolume]);
  for (const prim of content.primitives) {
    const n = Math.floor(prim.positions.length / 3);
    vertexCount += n * prim.instances.length;
    for (const instance of prim.instances) {
      const m = multiply(multiply(ref.world, upAxis), instance);
      for (const [which, volume] of volumes) {
        const allowed = slack(volume, tol);
        let worst = 0;
        let worstIndex = -1;
        let outside = 0;
        for (let i = 0; i < n; i++) {
          const p = transformPoint(m, [
            prim.positions[3 * i],
            prim.positions[3 * i + 1],
            prim.positions[3 * i + 2],
          ]);
          const d = distanceOutside(volume, p);
          if (d > allowed) outside++;
          if (d > worst) {
            worst = d;
            worstIndex = i;
          }
        }
        if (outside > 0)
          errors.push(
            `${ref.uri} (${ref.tilePath}): ${outside} of ${n} vertices of ${prim.label} lie outside the ${which} ` +
              `bounding volume (${volume.kind}); worst is vertex ${worstIndex}, ${worst.toFixed(3)} m outside ` +
              `(tolerance ${allowed.toFixed(3)} m)`,
          );
      }
    }
  }
  return vertexCount;
}

/** Feature-id range checks and orphan rows; returns the number of distinct valid ids. */
function checkFeatureIds(uri: string, content: LoadedContent, errors: string[], warnings: string[]): number {
  const referenced = content.tables.map(() => new Set<number>());
  const tableUsed = content.tables.map(() => false);
  const distinct = new Set<string>();
  for (const prim of content.primitives) {
    prim.featureIdSets.forEach((set, s) => {
      const where = `${uri}: ${prim.label} EXT_mesh_features.featureIds[${s}]`;
      if (!Number.isInteger(set.featureCount) || set.featureCount < 1) {
        errors.push(`${where}: featureCount ${set.featureCount} must be an integer >= 1`);
        return;
      }
      const table = set.propertyTable !== undefined ? content.tables[set.propertyTable] : undefined;
      if (set.propertyTable !== undefined) {
        if (!table) errors.push(`${where}: propertyTable ${set.propertyTable} does not exist`);
        else {
          tableUsed[set.propertyTable] = true;
          if (set.featureCount > table.count)
            errors.push(
              `${where}: featureCount ${set.featureCount} > propertyTables[${set.propertyTable}].count ${table.count}`,
            );
        }
      }
      if (set.kind !== "attribute") {
        warnings.push(`${where}: ${set.kind} feature ids are not checked by this checker`);
        return;
      }
      if (!set.data) {
        errors.push(`${where}: loaders.gl decoded no data for attribute _FEATURE_ID_${set.attribute}`);
        return;
      }
      if (set.normalized)
        errors.push(
          `${where}: the _FEATURE_ID_${set.attribute} accessor is normalized; EXT_mesh_features requires ` +
            "normalized false (quantizing feature ids, e.g. gltf-transform quantize/meshopt on '_' attributes, corrupts them)",
        );
      const bad: number[] = [];
      let badCount = 0;
      for (let v = 0; v < set.data.length; v++) {
        const id = Number(set.data[v]);
        if (id === set.nullFeatureId) continue;
        if (!Number.isInteger(id) || id < 0 || id >= set.featureCount) {
          badCount++;
          if (bad.length < MAX_LISTED) bad.push(v);
          continue;
        }
        distinct.add(`${set.propertyTable ?? `set${s}`}:${id}`);
        if (table && set.propertyTable !== undefined && id < table.count)
          referenced[set.propertyTable].add(id);
      }
      if (badCount > 0) {
        const first = Number(set.data[bad[0]]);
        errors.push(
          `${where}: ${badCount} vertices have a feature id >= featureCount ${set.featureCount} ` +
            `(first: vertex ${bad[0]} has feature id ${first}); vertices ${listSome(bad)}`,
        );
      }
    });
  }
  content.tables.forEach((table, t) => {
    if (!tableUsed[t]) {
      errors.push(`${uri}: propertyTables[${t}] is not referenced by any EXT_mesh_features feature ID set`);
      return;
    }
    const orphans: number[] = [];
    for (let row = 0; row < table.count; row++) if (!referenced[t].has(row)) orphans.push(row);
    if (orphans.length > 0)
      errors.push(
        `${uri}: propertyTables[${t}] has ${orphans.length} orphan row(s) no vertex references: rows ${listSome(orphans)}`,
      );
  });
  return distinct.size;
}

function plainValue(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return Array.from(v as unknown as ArrayLike<unknown>);
  if (Array.isArray(v)) return v.map(plainValue);
  return v;
}

function collectFeatures(
  uri: string,
  content: LoadedContent,
  booleans: Map<number, Map<string, boolean[]>>,
  errors: string[],
): TilesetFeature[] {
  const features: TilesetFeature[] = [];
  content.tables.forEach((table, t) => {
    const columns = new Map<string, ArrayLike<unknown>>(Object.entries(table.columns));
    for (const [name, values] of booleans.get(t) ?? []) columns.set(name, values);
    for (const [name, values] of columns)
      if (values.length < table.count)
        errors.push(
          `${uri}: propertyTables[${t}].${name}: loaders.gl decoded ${values.length} of ${table.count} values`,
        );
    for (let row = 0; row < table.count; row++) {
      const properties: Record<string, unknown> = {};
      for (const [name, values] of columns)
        if (row < values.length) properties[name] = plainValue(values[row]);
      features.push({ tile: uri, featureId: row, properties });
    }
  });
  return features;
}

export async function checkTileset(
  tilesetJsonPath: string,
  options: TilesetCheckOptions = {},
): Promise<TilesetReport> {
  const tol: Tolerance = {
    meters: options.toleranceMeters ?? 0.05,
    relative: options.relativeTolerance ?? 1e-3,
  };
  const tilesetPath = resolve(tilesetJsonPath);
  const structure = await checkStructure(tilesetPath, tol);
  const report: TilesetReport = {
    errors: [...structure.errors],
    warnings: [...structure.warnings],
    notes: [],
    tileCount: structure.tileCount,
    contents: [],
    features: [],
    distinctFeatureIds: 0,
  };
  const { errors, warnings, notes } = report;
  if (structure.tileCount === 0) return report;

  try {
    const seen = (await contentFilesSeenByLoadersGl(tilesetPath)).sort();
    const ours = structure.contents.map((c) => c.file).sort();
    const missing = ours.filter((f) => !seen.includes(f));
    if (missing.length > 0)
      errors.push(
        `loaders.gl does not see content(s) ${missing.map((f) => relative(dirname(tilesetPath), f)).join(", ")}`,
      );
  } catch (e) {
    errors.push(`tileset.json: loaders.gl Tiles3DLoader failed to load it: ${(e as Error).message}`);
  }

  const upAxis = structure.gltfUpAxis === "Y" ? Y_UP_TO_Z_UP : IDENTITY;
  const booleanNotes = new Set<string>();
  const readerNotes = new Map<string, string[]>();
  for (const ref of structure.contents) {
    const bytes = new Uint8Array(await readFile(ref.file));
    const validation = await validateContent(bytes, ref.uri, ref.file);
    errors.push(...validation.errors);
    warnings.push(...validation.warnings);

    let glb: GlbParts;
    try {
      glb = readGlb(bytes);
    } catch (e) {
      errors.push(`${ref.uri}: ${(e as Error).message}`);
      continue;
    }
    // gltf-validator cannot check EXT_meshopt_compression; the checker decodes the streams itself.
    const meshopt = await decodeMeshopt(glb, ref.uri);
    errors.push(...meshopt.errors);
    warnings.push(...meshopt.warnings);
    const tables = checkPropertyTables(meshopt.decoded ?? glb, ref.uri);
    errors.push(...tables.errors);

    const stripped = withoutBooleanColumns(glb.json);
    for (const name of stripped.removed) booleanNotes.add(name);
    let content: LoadedContent;
    try {
      content = await parseGlbWithLoadersGl(
        stripped.removed.length ? replaceGlbJson(bytes, stripped.json) : bytes,
      );
    } catch (e) {
      errors.push(`${ref.uri}: loaders.gl failed to parse the content: ${(e as Error).message}`);
      continue;
    }
    for (const note of new Set(content.notes))
      readerNotes.set(note, [...(readerNotes.get(note) ?? []), ref.uri]);
    for (const ext of ["CESIUM_RTC", "EXT_mesh_gpu_instancing", "KHR_draco_mesh_compression"])
      if (content.extensionsUsed.includes(ext))
        warnings.push(`${ref.uri}: ${ext} is not applied by the checker; vertex bounds checks may be wrong`);

    const vertexCount = checkVertices(ref, content, upAxis, tol, errors);
    const distinctFeatureIds = checkFeatureIds(ref.uri, content, errors, warnings);
    report.features.push(...collectFeatures(ref.uri, content, tables.booleans, errors));
    report.contents.push({
      tile: ref.uri,
      tilePath: ref.tilePath,
      vertexCount,
      distinctFeatureIds,
      propertyTableRows: content.tables.reduce((s, t) => s + t.count, 0),
    });
    report.distinctFeatureIds += distinctFeatureIds;
  }
  if (booleanNotes.size > 0)
    notes.push(
      `BOOLEAN properties ${[...booleanNotes].join(", ")} were decoded by the checker from the bitstream: ` +
        "loaders.gl 4.5 throws 'Not implemented - classProperty.type=BOOLEAN' on them",
    );
  for (const [note, uris] of readerNotes)
    notes.push(`${note} (in ${uris.length} content(s), e.g. ${uris.slice(0, 3).join(", ")})`);
  return report;
}
