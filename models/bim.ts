import { z } from "zod";
import { BBoxSchema } from "./layer.ts";

/** File name of the element index that `cim ingest` writes next to tileset.json for a BIM layer. */
export const BIM_ELEMENT_INDEX_FILE = "elements.json";

/** IFC entity name as written by the ingest, e.g. IfcWall, IfcWallStandardCase, IfcBuildingElementProxy. */
export const IfcClassSchema = z
  .string()
  .regex(/^Ifc[A-Za-z0-9_]{1,96}$/, 'must be an IFC entity name such as "IfcWall"');

/**
 * An IFC GlobalId: 22 characters of IFC's base64 alphabet in every conforming model; kept a
 * little looser (1-64 of letters, digits, `_` and `$`) so a non-conforming exporter still registers.
 */
export const IfcGlobalIdSchema = z
  .string()
  .regex(/^[0-9A-Za-z_$]{1,64}$/, "must be an IFC GlobalId (letters, digits, _ and $)");

/** Extent of one element: degrees (west, south, east, north) and metres (min/max height). */
export const BimElementBBoxSchema = BBoxSchema.refine(
  ([west, south, east, north, minHeight, maxHeight]) =>
    west <= east && south <= north && minHeight <= maxHeight,
  { message: "must be ordered west <= east, south <= north, minHeight <= maxHeight" },
);

/**
 * Free text of an element. PostgreSQL text cannot hold NUL, and the length cap keeps index
 * entries (name and storey are indexed) well below PostgreSQL's btree row limit.
 */
const elementText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes("\0"), { message: "must not contain NUL characters" })
    .nullable();

/** One building element of a BIM layer, as listed in elements.json and returned by the search API. */
export const BimElementSchema = z.object({
  globalId: IfcGlobalIdSchema,
  ifcClass: IfcClassSchema,
  name: elementText(500),
  /** IFC ObjectType, typically the family/type name, e.g. "Basiswand:Bestand 300mm". */
  objectType: elementText(2000),
  /** Name of the IfcBuildingStorey that contains the element, null when it is not in a storey. */
  storey: elementText(500),
  /** Elevation of that storey in metres. */
  storeyElevation: z.number().nullable(),
  bbox: BimElementBBoxSchema,
});
export type BimElement = z.infer<typeof BimElementSchema>;

/** elements.json: the element index written by the IFC ingest; GlobalIds are unique within it. */
export const BimElementIndexSchema = z
  .object({
    formatVersion: z.literal(1),
    elements: z.array(BimElementSchema),
  })
  .superRefine((index, ctx) => {
    const seen = new Map<string, number>();
    index.elements.forEach((element, i) => {
      const first = seen.get(element.globalId);
      if (first === undefined) {
        seen.set(element.globalId, i);
        return;
      }
      ctx.addIssue({
        code: "custom",
        path: ["elements", i, "globalId"],
        message: `duplicate GlobalId "${element.globalId}" (already used by element ${first})`,
      });
    });
  });
export type BimElementIndex = z.infer<typeof BimElementIndexSchema>;

/** Largest page of GET /api/bim/:layerId/elements. */
export const BIM_SEARCH_MAX_LIMIT = 1000;
export const BIM_SEARCH_DEFAULT_LIMIT = 100;

/** A query parameter given as "" is the same as not given. */
const optionalParam = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

/** Query string of GET /api/bim/:layerId/elements (values arrive as strings). */
export const BimElementSearchQuerySchema = z.strictObject({
  /** Case-insensitive substring of the element name, or a GlobalId prefix (or the whole GlobalId). */
  q: optionalParam(z.string().max(200)),
  /** One IFC class or a comma-separated list, matched exactly, e.g. "IfcWall,IfcSlab". */
  class: optionalParam(
    z
      .string()
      .max(2000)
      .transform((text) => text.split(",").map((c) => c.trim()))
      .pipe(z.array(IfcClassSchema).min(1).max(100)),
  ),
  /** Storey name, matched exactly. */
  storey: optionalParam(z.string().max(500)),
  limit: optionalParam(z.coerce.number().int().min(1).max(BIM_SEARCH_MAX_LIMIT)).transform(
    (v) => v ?? BIM_SEARCH_DEFAULT_LIMIT,
  ),
  offset: optionalParam(z.coerce.number().int().min(0).max(100_000_000)).transform((v) => v ?? 0),
});
export type BimElementSearchQuery = z.output<typeof BimElementSearchQuerySchema>;

/** Response of GET /api/bim/:layerId/elements: one page, ordered by storey elevation then name. */
export const BimElementSearchResultSchema = z.object({
  /** Number of matching elements over all pages. */
  total: z.number().int().nonnegative(),
  items: z.array(BimElementSchema),
});
export type BimElementSearchResult = z.infer<typeof BimElementSearchResultSchema>;

/** An entry of GET /api/bim/:layerId/storeys; name null counts the elements outside any storey. */
export const BimStoreySchema = z.object({
  name: z.string().nullable(),
  elevation: z.number().nullable(),
  count: z.number().int().nonnegative(),
});
export type BimStorey = z.infer<typeof BimStoreySchema>;

/** An entry of GET /api/bim/:layerId/classes. */
export const BimClassCountSchema = z.object({
  ifcClass: z.string(),
  count: z.number().int().nonnegative(),
});
export type BimClassCount = z.infer<typeof BimClassCountSchema>;

/**
 * Folding applied to element names and to `q` before substring matching: NFKC (full-width
 * Ｗａｌｌ -> Wall) then lower case, done here rather than by the database's locale.
 */
export function foldForSearch(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}
