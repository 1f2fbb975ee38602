import type { Command } from "commander";
import { ingestBuildings } from "../ingest/buildings/ingest-buildings.ts";
import { parseOrigin } from "../ingest/crs/source-crs.ts";
import { ingestIfc } from "../ingest/ifc/ingest-ifc.ts";
import { createProgressReporter } from "./progress-bar.ts";

/** `cim ingest <kind> <input> --out <dir>` */
export function registerIngestCommands(program: Command): void {
  const ingest = program.command("ingest").description("convert source data to a 3D Tiles 1.1 layer");
  registerIfcCommand(ingest);

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

function positive(text: string, flag: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} must be a positive number, got "${text}"`);
  return v;
}
