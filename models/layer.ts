import { z } from "zod";

/** Kinds of layer the catalog knows; later issues add to this list. */
export const LAYER_TYPES = ["buildings", "bim", "pipes", "pointcloud", "reality-mesh"] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

/** Geographic extent in degrees (CGCS2000 ~ WGS84) plus height range in metres. */
export const BBoxSchema = z.tuple([
  z.number().min(-180).max(180), // west
  z.number().min(-90).max(90), // south
  z.number().min(-180).max(180), // east
  z.number().min(-90).max(90), // north
  z.number(), // minHeight
  z.number(), // maxHeight
]);
export type BBox = z.infer<typeof BBoxSchema>;

/** A layer as the catalog returns it from GET /api/layers. */
export const LayerSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
  name: z.string().min(1).max(200),
  type: z.enum(LAYER_TYPES),
  /** URL of the layer's tileset.json, relative to the server root, e.g. /tiles/demo-buildings/tileset.json */
  url: z.string(),
  bbox: BBoxSchema,
  /** Source CRS the data came from, e.g. EPSG:4547 */
  crs: z.string(),
  createdAt: z.string(),
});
export type Layer = z.infer<typeof LayerSchema>;

/** Body of POST /api/layers: register a folder written by `cim ingest`. */
export const RegisterLayerSchema = z.object({
  /** Folder on the server's disk that holds tileset.json and layer.json. */
  path: z.string().min(1),
  id: LayerSchema.shape.id.optional(),
  name: z.string().min(1).max(200).optional(),
});
export type RegisterLayer = z.infer<typeof RegisterLayerSchema>;

/**
 * layer.json, written by every `cim ingest` next to tileset.json: what the catalog needs
 * to register the folder without re-reading the tiles.
 */
export const LayerManifestSchema = z.object({
  formatVersion: z.literal(1),
  type: z.enum(LAYER_TYPES),
  name: z.string(),
  crs: z.string(),
  bbox: BBoxSchema,
  featureCount: z.number().int().nonnegative(),
  tileCount: z.number().int().nonnegative(),
  createdAt: z.string(),
  /** Tool and command that wrote it, for traceability. */
  generator: z.string(),
});
export type LayerManifest = z.infer<typeof LayerManifestSchema>;
