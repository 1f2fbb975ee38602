/** Messages and data shared by the IFC worker and the ingest that drives it (structured-clone friendly). */

export type IfcValue = string | number | boolean;

export interface StoreyInfo {
  expressId: number;
  name: string | null;
  elevation: number | null;
}

export interface MapConversionInfo {
  crsName: string | null;
  eastings: number;
  northings: number;
  orthogonalHeight: number;
  xAxisAbscissa: number;
  xAxisOrdinate: number;
  scale: number;
}

export interface SiteGeoInfo {
  refLatitude: number | null;
  refLongitude: number | null;
  refElevation: number | null;
  /** Model coordinates (Z up, metres) of the site's placement origin. */
  origin: [number, number, number];
}

export interface ModelInfo {
  schema: string;
  /** Metres per project length unit (0.001 for millimetres). */
  lengthUnitScale: number;
  mapConversion: MapConversionInfo | null;
  site: SiteGeoInfo | null;
  /** True north in model XY, if the model context declares one. */
  trueNorth: [number, number] | null;
  storeys: StoreyInfo[];
  /** Products to mesh, in file order. */
  productIds: number[];
}

/** Geometry of one element in one colour, in model coordinates (Z up, metres). */
export interface ElementPart {
  color: [number, number, number, number];
  positions: Float64Array;
  normals: Float32Array;
  indices: Uint32Array;
}

export interface ElementData {
  expressId: number;
  globalId: string;
  ifcClass: string;
  name: string | null;
  objectType: string | null;
  storey: string | null;
  storeyElevation: number | null;
  /** "Pset_WallCommon.IsExternal" -> value, from the element's and its type's property and quantity sets. */
  properties: Record<string, IfcValue>;
  parts: ElementPart[];
}

export type WorkerRequest =
  | { cmd: "open"; path: string; includeSpaces: boolean }
  /** Mesh products from, from + stride, from + 2 stride ... (several workers share a model this way). */
  | { cmd: "mesh"; from: number; stride: number };

export type WorkerReply =
  | { type: "opened"; info: ModelInfo }
  | { type: "begin"; index: number }
  | { type: "element"; index: number; element: ElementData | null }
  | { type: "done" }
  | { type: "error"; message: string; entityId?: number };
