import type { Command } from "commander";
import { ingestBuildings } from "../ingest/buildings/ingest-buildings.ts";
import { parseOrigin } from "../ingest/crs/source-crs.ts";
import { ingestIfc } from "../ingest/ifc/ingest-ifc.ts";
import { ingestPipes, PIPE_FORMATS, type PipeFormat } from "../ingest/pipes/ingest-pipes.ts";
import { createProgressReporter } from "./progress-bar.ts";

/** `cim ingest <kind> <input> --out <dir>` */
export function registerIngestCommands(program: Command): void {
  const ingest = program.command("ingest").description("convert source data to a 3D Tiles 1.1 layer");
  registerIfcCommand(ingest);
  registerPipesCommand(ingest);

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
    .description("an underground pipe network (CJJ 61 survey tables, EPANET or SWMM .inp) to 3D pipe tiles")
    .argument("<file...>", "cjj: the point table then the line table; epanet / swmm: the .inp file")
    .requiredOption("--out <dir>", "output folder (written atomically)")
    .requiredOption("--format <format>", `input format: ${PIPE_FORMATS.join(", ")}`)
    .option("--crs <crs>", "CRS of the coordinates, e.g. EPSG:4547 (CJJ default: WGS84)")
    .option("--origin <lon,lat,h>", "where local EPANET / SWMM coordinates (0, 0) lie")
    .option("--units <units>", "units of EPANET / SWMM x/y coordinates: m or ft", "m")
    .option("--name <name>", "layer name (default: file name)")
    .option("--strict", "fail on any reader error instead of skipping the bad rows")
    .option("--meshopt", "compress geometry with EXT_meshopt_compression")
    .action(async (files: string[], o: Record<string, string | boolean | undefined>) => {
      const format = o.format as string;
      if (!(PIPE_FORMATS as readonly string[]).includes(format))
        throw new Error(`--format must be one of ${PIPE_FORMATS.join(", ")}, got "${format}"`);
      if (o.units !== "m" && o.units !== "ft") throw new Error(`--units must be m or ft, got "${o.units}"`);
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
          .slice(0, 5)
          .map((i) => `    ${i.severity}: ${i.file}${i.row !== null ? `:${i.row}` : ""}: ${i.problem}`),
        ...(s.issues.length > 5 ? [`    ... and ${s.issues.length - 5} more`] : []),
        `  tiles               ${s.tiles}`,
        `  bytes               ${s.bytes} (${(s.bytes / 1e6).toFixed(1)} MB)`,
        `  seconds             ${s.seconds.toFixed(2)}`,
        `  heights             ${s.bbox[4].toFixed(2)} .. ${s.bbox[5].toFixed(2)} m`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function positive(text: string, flag: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} must be a positive number, got "${text}"`);
  return v;
}
