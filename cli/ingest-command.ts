import type { Command } from "commander";
import { parseOrigin } from "../ingest/crs/source-crs.ts";
import { classFromValue } from "../ingest/pipes/cjj/classes.ts";
import { ingestPipes, PIPE_FORMATS, type PipeFormat } from "../ingest/pipes/ingest-pipes.ts";
import { createProgressReporter } from "./progress-bar.ts";

/** `cim ingest <kind> <input> --out <dir>` */
export function registerIngestCommands(program: Command): void {
  const ingest = program.command("ingest").description("convert source data to a 3D Tiles 1.1 layer");
  registerIfcCommand(ingest);
  registerPipesCommand(ingest);
  registerOsgbCommand(ingest);
  registerLasCommand(ingest);
  registerMeshCommand(ingest);

  ingest
    .command("buildings")
    .description("building footprints (GeoJSON, GeoJSONSeq, Shapefile, FlatGeobuf) to extruded white models")
    .argument("<input>", "footprint file: .geojson, .geojsonl, .shp or .fgb")
    .requiredOption("--out <dir>", "output folder (written atomically)")
    .option(
      "--crs <crs>",
      "source CRS, e.g. EPSG:4547, EPSG:4490, ENU:lat,lon (default: .prj / file / WGS84)",
    )
    .option("--origin <lon,lat,h>", "origin for local ENU coordinates")
    .option("--name <name>", "layer name (default: file name)")
    .option("--height-field <field>", "attribute with the building height in metres", "height")
    .option(
      "--floors-field <field>",
      "attribute with the number of floors (default: floors, building:levels, 层数)",
    )
    .option("--floor-height <m>", "metres per floor when only floors are known", "3")
    .option("--default-height <m>", "height when neither height nor floors is known", "10")
    .option(
      "--base-field <field>",
      "attribute with the height of the part's base (default: base, min_height)",
    )
    .option("--meshopt", "compress geometry with EXT_meshopt_compression")
    .option("--tile-features <n>", "most features in a leaf tile (inner tiles keep a third of that)", "500")
    .action(async (input: string, o: Record<string, string | boolean | undefined>) => {
      const progress = createProgressReporter({ read: "reading", tiles: "tiles" });
      const { ingestBuildings } = await import("../ingest/buildings/ingest-buildings.ts");
      const summary = await ingestBuildings({
        input,
        out: o.out as string,
        crs: o.crs as string | undefined,
        origin: o.origin ? parseOrigin(o.origin as string) : undefined,
        name: o.name as string | undefined,
        meshopt: Boolean(o.meshopt),
        leafCapacity: Math.round(positive(o.tileFeatures as string, "--tile-features")),
        innerCapacity: Math.max(1, Math.round(positive(o.tileFeatures as string, "--tile-features") / 3)),
        heights: {
          heightField: o.heightField as string,
          floorHeight: positive(o.floorHeight as string, "--floor-height"),
          defaultHeight: positive(o.defaultHeight as string, "--default-height"),
          ...(o.floorsField ? { floorsFields: [o.floorsField as string] } : {}),
          ...(o.baseField ? { baseFields: [o.baseField as string] } : {}),
        },
        onProgress: (p) => progress.update(p),
      }).finally(() => progress.stop());
      const skipped = Object.entries(summary.skipped);
      const lines = [
        `ingested ${summary.input} -> ${summary.out}`,
        `  crs                 ${summary.crs}`,
        `  features read       ${summary.featuresRead}`,
        `  features written    ${summary.featuresWritten} (height from ${Object.entries(summary.heightSources)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ")})`,
        `  skipped             ${skipped.length ? skipped.map(([k, v]) => `${v} ${k}`).join(", ") : 0}`,
        `  tiles               ${summary.tiles}`,
        `  bytes               ${summary.bytes} (${(summary.bytes / 1e6).toFixed(1)} MB)`,
        `  seconds             ${summary.seconds.toFixed(2)} (reading ${summary.readSeconds.toFixed(2)})`,
        `  max position error  ${(summary.maxPositionErrorMetres * 1000).toFixed(2)} mm over ${summary.positionSamples} sampled vertices (vs proj4)`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function registerIfcCommand(ingest: Command): void {
  ingest
    .command("ifc")
    .description("an IFC model (IFC2x3, IFC4, IFC4x3) to BIM tiles with every element's properties")
    .argument("<input>", "the .ifc file")
    .requiredOption("--out <dir>", "output folder (written atomically)")
    .option("--origin <lon,lat,h>", "where the model origin lies, when the file is not georeferenced")
    .option(
      "--heading <deg>",
      "azimuth of the model's +Y axis, degrees clockwise from north (with --origin)",
      "0",
    )
    .option(
      "--crs <crs>",
      "CRS of a model drawn in map coordinates, or of an IfcMapConversion without a CRS name",
    )
    .option("--name <name>", "layer name (default: file name)")
    .option("--spaces", "also write IfcSpace volumes")
    .option("--element-timeout <s>", "skip an element whose geometry takes longer than this", "10")
    .option("--meshopt", "compress geometry with EXT_meshopt_compression")
    .action(async (input: string, o: Record<string, string | boolean | undefined>) => {
      const progress = createProgressReporter({ elements: "elements", tiles: "tiles" });
      const heading = Number(o.heading);
      if (!Number.isFinite(heading))
        throw new Error(`--heading must be a number of degrees, got "${o.heading}"`);
      const { ingestIfc } = await import("../ingest/ifc/ingest-ifc.ts");
      const s = await ingestIfc({
        input,
        out: o.out as string,
        origin: o.origin ? parseOrigin(o.origin as string) : undefined,
        heading,
        crs: o.crs as string | undefined,
        name: o.name as string | undefined,
        includeSpaces: Boolean(o.spaces),
        elementTimeoutMs: positive(o.elementTimeout as string, "--element-timeout") * 1000,
        meshopt: Boolean(o.meshopt),
        onProgress: (p) => progress.update(p),
      }).finally(() => progress.stop());
      const lines = [
        `ingested ${s.input} -> ${s.out}`,
        `  schema              ${s.schema}`,
        `  georeference        ${s.georeference} (${s.crs})`,
        `  products            ${s.products} with geometry (${s.withoutGeometry} without)`,
        `  triangles           ${s.triangles}`,
        `  tiles               ${s.tiles}`,
        `  bytes               ${s.bytes} (${(s.bytes / 1e6).toFixed(1)} MB)`,
        `  skipped elements    ${s.skipped.length ? s.skipped.map((k) => `#${k.expressId} (${k.reason})`).join(", ") : 0}`,
        `  seconds             ${s.seconds.toFixed(2)}`,
        `  max position error  ${(s.maxPositionErrorMetres * 1000).toFixed(2)} mm (float32 storage)`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function registerPipesCommand(ingest: Command): void {
  ingest
    .command("pipes")
    .description(
      "an underground pipe network (CJJ 61 survey tables, GeoJSON, Shapefile, EPANET or SWMM .inp) to 3D pipe tiles",
    )
    .argument(
      "<file...>",
      "cjj: the point table then the line table; geojson / shp: line and point layers; epanet / swmm: the .inp file",
    )
    .requiredOption("--out <dir>", "output folder (written atomically)")
    .requiredOption("--format <format>", `input format: ${PIPE_FORMATS.join(", ")}`)
    .option("--crs <crs>", "CRS of the coordinates, e.g. EPSG:4547 (CJJ default: WGS84)")
    .option("--origin <lon,lat,h>", "where local EPANET / SWMM coordinates (0, 0) lie")
    .option("--units <units>", "units of EPANET / SWMM x/y coordinates: m or ft", "m")
    .option("--name <name>", "layer name (default: file name)")
    .option(
      "--mapping <file.json>",
      "cjj / geojson / shp: map other header names, class values, kinds, depths",
    )
    .option("--class <class>", "geojson / shp: pipe class of features without one (JS, YS, 给水, ...)")
    .option("--strict", "fail on any reader error instead of skipping the bad rows")
    .option("--meshopt", "compress geometry with EXT_meshopt_compression")
    .action(async (files: string[], o: Record<string, string | boolean | undefined>) => {
      const format = o.format as string;
      if (!(PIPE_FORMATS as readonly string[]).includes(format))
        throw new Error(`--format must be one of ${PIPE_FORMATS.join(", ")}, got "${format}"`);
      if (o.units !== "m" && o.units !== "ft") throw new Error(`--units must be m or ft, got "${o.units}"`);
      const pipeClass = o.class ? classFromValue(o.class as string) : undefined;
      if (o.class && !pipeClass)
        throw new Error(
          `--class must be a pipe class code or name (JS, PS, YS, WS, RQ, RL, DL, TX, GY, 给水, ...)`,
        );
      const progress = createProgressReporter({ read: "reading", tiles: "tiles" });
      const s = await ingestPipes({
        inputs: files,
        out: o.out as string,
        format: format as PipeFormat,
        crs: o.crs as string | undefined,
        origin: o.origin ? parseOrigin(o.origin as string) : undefined,
        units: o.units,
        name: o.name as string | undefined,
        strict: Boolean(o.strict),
        mapping: o.mapping ? { file: o.mapping as string } : undefined,
        pipeClass,
        meshopt: Boolean(o.meshopt),
        onProgress: (p) => progress.update(p),
      }).finally(() => progress.stop());
      const skipped = Object.entries(s.skipped);
      const lines = [
        `ingested ${s.inputs.join(", ")} -> ${s.out}`,
        `  format              ${s.format}`,
        `  crs                 ${s.crs}`,
        `  nodes read          ${s.nodes}`,
        `  links read          ${s.links}`,
        `  features written    ${s.features} (${s.linkFeatures} links, ${s.nodeFeatures} node symbols)`,
        `  without geometry    ${skipped.length ? skipped.map(([k, v]) => `${v} ${k}`).join(", ") : 0}`,
        `  issues              ${s.issues.length}`,
        ...s.issues
          .slice(0, 20)
          .map(
            (i) =>
              `    ${i.severity}: ${i.file}${i.row !== null ? `:${i.row}` : ""}${i.column !== null ? ` [${i.column}]` : ""}: ${i.problem}`,
          ),
        ...(s.issues.length > 20 ? [`    ... and ${s.issues.length - 20} more`] : []),
        `  tiles               ${s.tiles}`,
        `  bytes               ${s.bytes} (${(s.bytes / 1e6).toFixed(1)} MB)`,
        `  seconds             ${s.seconds.toFixed(2)}`,
        `  heights             ${s.bbox[4].toFixed(2)} .. ${s.bbox[5].toFixed(2)} m`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function registerOsgbCommand(ingest: Command): void {
  ingest
    .command("osgb")
    .description(
      "a ContextCapture / Smart3D / DJI Terra OSGB reality mesh to 3D Tiles, keeping its PagedLOD levels",
    )
    .argument("<input>", "the Data folder, its parent, metadata.xml, or one .osgb file")
    .requiredOption("--out <dir>", "output folder (written atomically)")
    .option("--crs <crs>", "overrides metadata.xml <SRS>: EPSG:4547, ENU:lat,lon, WKT or proj4")
    .option("--origin <lon,lat,h>", "origin of ENU coordinates (a lone .osgb without metadata.xml)")
    .option("--srs-origin <x,y,z>", "overrides metadata.xml <SRSOrigin> (in the CRS's units)")
    .option("--name <name>", "layer name (default: the production folder's name)")
    .option("--workers <n>", "worker threads (default: up to 4)")
    .action(async (input: string, o: Record<string, string | undefined>) => {
      let srsOrigin: [number, number, number] | undefined;
      if (o.srsOrigin) {
        const v = o.srsOrigin.split(",").map((x) => Number(x.trim()));
        if (v.length < 2 || v.length > 3 || v.some((x) => !Number.isFinite(x)))
          throw new Error(`--srs-origin must be "x,y[,z]", got "${o.srsOrigin}"`);
        srsOrigin = [v[0], v[1], v[2] ?? 0];
      }
      const progress = createProgressReporter({ tiles: "tiles" });
      const { ingestOsgb } = await import("../ingest/osgb/ingest-osgb.ts");
      const s = await ingestOsgb({
        input,
        out: o.out as string,
        crs: o.crs,
        origin: o.origin ? parseOrigin(o.origin) : undefined,
        srsOrigin,
        name: o.name,
        workers: o.workers ? Math.round(positive(o.workers, "--workers")) : undefined,
        onProgress: (p) => progress.update(p),
      }).finally(() => progress.stop());
      const lines = [
        `ingested ${s.input} -> ${s.out}`,
        `  metadata            ${s.metadata ?? "(none)"}`,
        `  crs                 ${s.crs} (SRSOrigin ${s.srsOrigin.join(",")})`,
        `  files               ${s.files} .osgb (${s.rootTiles} root tiles, ${s.maxDepth + 1} LOD levels)`,
        `  tiles               ${s.tiles}`,
        `  triangles           ${s.triangles} (${s.vertices} vertices)`,
        `  textures            ${s.textures}`,
        `  missing children    ${s.missing.length}`,
        ...s.missing.slice(0, 20).map((m) => `    ${m.file} (from ${m.parent}): ${m.reason}`),
        ...(s.missing.length > 20 ? [`    ... and ${s.missing.length - 20} more`] : []),
        `  warnings            ${s.warningCount}`,
        ...s.warnings.slice(0, 20).map((w) => `    ${w}`),
        `  bytes               ${s.bytes} (${(s.bytes / 1e6).toFixed(1)} MB)`,
        `  seconds             ${s.seconds.toFixed(2)}`,
        `  max position error  ${(s.maxPositionErrorMetres * 1000).toFixed(2)} mm over ${s.positionSamples} sampled vertices (vs proj4)`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function registerLasCommand(ingest: Command): void {
  ingest
    .command("las")
    .description(
      "a LAS 1.0-1.4 / LAZ point cloud to a 3D Tiles 1.1 octree of glTF points (streamed, any size)",
    )
    .argument("<file>", ".las or .laz file")
    .requiredOption("--out <dir>", "output folder (written atomically)")
    .option("--crs <crs>", "overrides the file's GeoTIFF/WKT CRS: EPSG:xxxx, WKT or proj4")
    .option("--name <name>", "layer name (default: the file name)")
    .option("--max-points-in-memory <n>", "points of one subtree held in memory (default 2000000)")
    .option(
      "--format <format>",
      "3dtiles (3D Tiles 1.1, default) or potree (Potree 2.0, source CRS)",
      "3dtiles",
    )
    .action(async (file: string, o: Record<string, string | undefined>) => {
      if (o.format !== "3dtiles" && o.format !== "potree")
        throw new Error(`--format must be 3dtiles or potree, got "${o.format}"`);
      const progress = createProgressReporter({
        bounds: "bounds",
        histogram: "histogram",
        distribute: "distribute",
        tiles: "tiles",
      });
      const { ingestLas } = await import("../ingest/pointcloud/ingest-las.ts");
      const s = await ingestLas({
        input: file,
        out: o.out as string,
        format: o.format,
        crs: o.crs,
        name: o.name,
        maxPointsInMemory: o.maxPointsInMemory
          ? Math.round(positive(o.maxPointsInMemory, "--max-points-in-memory"))
          : undefined,
        onProgress: (p) => progress.update(p),
      }).finally(() => progress.stop());
      const lines = [
        `ingested ${s.input} -> ${s.out}`,
        `  las                 ${s.version}, point format ${s.pointFormat}${s.compressed ? " (LAZ)" : ""}`,
        `  crs                 ${s.crs} (from ${s.crsSource})`,
        `  points              ${s.points} read, ${s.pointsWritten} written`,
        `  ${s.format === "potree" ? "nodes (Potree 2.0)" : "tiles             "}  ${s.tiles} (${s.chunks} subtrees, depth ${s.depth})`,
        `  bytes               ${s.bytes} (${(s.bytes / 1e6).toFixed(1)} MB)`,
        `  seconds             ${s.seconds.toFixed(2)} (${(s.points / s.seconds / 1e6).toFixed(2)} M points/s)`,
        `  max position error  ${(s.maxPositionErrorMetres * 1000).toFixed(2)} mm over ${s.positionSamples} sampled points (${s.format === "potree" ? "vs the file's coordinates" : "vs proj4"})`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function registerMeshCommand(ingest: Command): void {
  ingest
    .command("mesh")
    .description("one big textured mesh (OBJ + MTL, glTF, GLB) to 3D Tiles with levels of detail")
    .argument("<input>", "the .obj, .gltf or .glb file")
    .requiredOption("--out <dir>", "output folder (written atomically)")
    .option("--crs <crs>", "CRS of the coordinates, e.g. EPSG:4547 (or ENU:lat,lon)")
    .option("--offset <x,y,z>", "added to every coordinate first (ContextCapture's SRSOrigin)")
    .option("--origin <lon,lat,h>", "where local ENU coordinates (0, 0, 0) lie")
    .option("--max-triangles-per-tile <n>", "most triangles in a leaf tile", "100000")
    .option("--name <name>", "layer name (default: file name)")
    .action(async (input: string, o: Record<string, string | undefined>) => {
      let offset: [number, number, number] | undefined;
      if (o.offset) {
        const v = o.offset.split(",").map((x) => Number(x.trim()));
        if (v.length < 2 || v.length > 3 || v.some((x) => !Number.isFinite(x)))
          throw new Error(`--offset must be "x,y[,z]", got "${o.offset}"`);
        offset = [v[0], v[1], v[2] ?? 0];
      }
      const progress = createProgressReporter({ read: "reading", tiles: "tiles" });
      const { ingestMesh } = await import("../ingest/mesh/ingest-mesh.ts");
      const s = await ingestMesh({
        input,
        out: o.out as string,
        crs: o.crs,
        offset,
        origin: o.origin ? parseOrigin(o.origin) : undefined,
        maxTrianglesPerTile: Math.round(
          positive(o.maxTrianglesPerTile as string, "--max-triangles-per-tile"),
        ),
        name: o.name,
        onProgress: (p) => progress.update(p),
      }).finally(() => progress.stop());
      const lines = [
        `ingested ${s.input} -> ${s.out}`,
        `  format              ${s.format}`,
        `  crs                 ${s.crs} (offset ${s.offset.join(",")})`,
        `  source              ${s.sourceTriangles} triangles, ${s.sourceVertices} vertices, ${s.materials} materials, ${s.textures} textures`,
        `  tiles               ${s.tiles} (${s.levels.length} levels)`,
        ...s.levels.map(
          (l) =>
            `    level ${l.level}${l.level === 0 ? " (leaves)" : ""}  ${l.tiles} tiles, triangles ${l.trianglesIn} -> ${l.trianglesOut}, simplification error ${l.maxSimplificationErrorMetres.toFixed(3)} m, geometric error <= ${l.maxGeometricError.toFixed(3)} m`,
        ),
        `  texel size          ${s.texelMetres.toFixed(3)} m`,
        `  warnings            ${s.warnings.length}`,
        ...s.warnings.slice(0, 20).map((w) => `    ${w}`),
        `  bytes               ${s.bytes} (${(s.bytes / 1e6).toFixed(1)} MB)`,
        `  seconds             ${s.seconds.toFixed(2)} (reading ${s.readSeconds.toFixed(2)})`,
        `  max position error  ${(s.maxPositionErrorMetres * 1000).toFixed(2)} mm over ${s.positionSamples} sampled vertices (vs proj4)`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function positive(text: string, flag: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} must be a positive number, got "${text}"`);
  return v;
}
