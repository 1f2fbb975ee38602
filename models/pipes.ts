import { z } from "zod";

/**
 * Underground pipe networks, as every source (CJJ 61 survey tables, GeoJSON/Shapefile, EPANET, SWMM) is read into
 * before 3D geometry, tiling and topology. Coordinates are in the source CRS (or local units for EPANET/SWMM);
 * lengths and elevations in metres after unit conversion.
 */

/** Pipe classes after CJJ 61: 给水, 排水 (雨水, 污水), 燃气, 热力, 电力, 通信, 工业, unknown. */
export const PIPE_CLASSES = ["JS", "PS", "YS", "WS", "RQ", "RL", "DL", "TX", "GY", "UNKNOWN"] as const;
export type PipeClass = (typeof PIPE_CLASSES)[number];

/** Gravity networks flow by inverts; pressure networks by connection to sources. */
export const GRAVITY_CLASSES: ReadonlySet<PipeClass> = new Set(["PS", "YS", "WS"]);

export const NODE_KINDS = [
  "junction",
  "well",
  "valve",
  "hydrant",
  "meter",
  "outfall",
  "reservoir",
  "tank",
  "storage",
  "feature",
] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

export const LINK_KINDS = ["pipe", "conduit", "pump", "valve", "weir", "orifice", "outlet"] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/** Cross-section of a link: circular (diameter) or rectangular (width x height); others by their bounding size. */
export const SectionSchema = z.discriminatedUnion("shape", [
  z.object({ shape: z.literal("circular"), diameter: z.number().positive() }),
  z.object({
    shape: z.enum(["rect_closed", "rect_open", "trapezoidal", "triangular", "other"]),
    width: z.number().positive(),
    height: z.number().positive(),
  }),
]);
export type Section = z.infer<typeof SectionSchema>;

const AttributeValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const PipeNodeSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(NODE_KINDS),
  pipeClass: z.enum(PIPE_CLASSES),
  x: z.number(),
  y: z.number(),
  /** Ground (cover) elevation, metres. */
  groundElevation: z.number().nullable(),
  /** Lowest point: well bottom / junction invert, metres. */
  invertElevation: z.number().nullable(),
  /** Every source attribute, verbatim (Chinese headers kept). */
  attributes: z.record(z.string(), AttributeValue),
});
export type PipeNode = z.infer<typeof PipeNodeSchema>;

export const PipeLinkSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(LINK_KINDS),
  pipeClass: z.enum(PIPE_CLASSES),
  from: z.string(),
  to: z.string(),
  /** Intermediate vertices (x, y) between the end nodes, in order. */
  vertices: z.array(z.tuple([z.number(), z.number()])),
  section: SectionSchema.nullable(),
  /** Elevation of the pipe bottom (invert) at each end, metres, when known. */
  fromInvert: z.number().nullable(),
  toInvert: z.number().nullable(),
  /** Length as recorded by the source (may differ from the drawn length), metres. */
  length: z.number().nullable(),
  material: z.string().nullable(),
  attributes: z.record(z.string(), AttributeValue),
});
export type PipeLink = z.infer<typeof PipeLinkSchema>;

/** One problem found while importing: where (file, row, column) and what. */
export const ImportIssueSchema = z.object({
  file: z.string(),
  row: z.number().int().nullable(),
  column: z.string().nullable(),
  problem: z.string(),
  severity: z.enum(["error", "warning"]),
});
export type ImportIssue = z.infer<typeof ImportIssueSchema>;

export const PipeNetworkSchema = z.object({
  /** Where it came from: "epanet", "swmm", "cjj", "geojson", "shp". */
  format: z.string(),
  /** Source CRS if the file declares one; EPANET/SWMM coordinates are local. */
  crs: z.string().nullable(),
  nodes: z.array(PipeNodeSchema),
  links: z.array(PipeLinkSchema),
  issues: z.array(ImportIssueSchema),
});
export type PipeNetwork = z.infer<typeof PipeNetworkSchema>;

/**
 * network.json, written by `cim ingest pipes` next to tileset.json: the network's topology in geodetic
 * coordinates, loaded into PostgreSQL when the layer is registered (trace, burst isolation, checks).
 * Node and link ids are the `id` property of the features in the tiles.
 */
export const NetworkIndexSchema = z.object({
  formatVersion: z.literal(1),
  nodes: z.array(
    z.object({
      id: z.string().min(1),
      kind: z.enum(NODE_KINDS),
      pipeClass: z.enum(PIPE_CLASSES),
      lon: z.number().min(-180).max(180),
      lat: z.number().min(-90).max(90),
      groundElevation: z.number().nullable(),
      invertElevation: z.number().nullable(),
      attributes: z.record(z.string(), AttributeValue),
    }),
  ),
  links: z.array(
    z.object({
      id: z.string().min(1),
      kind: z.enum(LINK_KINDS),
      pipeClass: z.enum(PIPE_CLASSES),
      from: z.string(),
      to: z.string(),
      section: SectionSchema.nullable(),
      fromInvert: z.number().nullable(),
      toInvert: z.number().nullable(),
      length: z.number().nullable(),
      material: z.string().nullable(),
      /** Centreline as drawn: lon, lat (degrees), height of the pipe axis (metres). */
      path: z.array(z.tuple([z.number(), z.number(), z.number()])),
      attributes: z.record(z.string(), AttributeValue),
    }),
  ),
});
export type NetworkIndex = z.infer<typeof NetworkIndexSchema>;
