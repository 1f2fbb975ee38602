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

/** One colour of a placed element: Earth-centred positions and normals, glTF material colour (linear). */
export interface PlacedPart {
  color: [number, number, number, number];
  ecef: Float64Array;
  normals: Float32Array;
  indices: Uint32Array;
}

/** An element as the worker hands it over: georeferenced, with its geodetic bounds (west, south, east, north in
 * degrees, min and max height in metres). */
export interface PlacedElementData extends Omit<ElementData, "parts"> {
  parts: PlacedPart[];
  bounds: [number, number, number, number, number, number];
}

/** The flags that decide the georeference when the model does not (see georeference.ts). */
export interface GeoreferenceRequest {
  origin?: { lon: number; lat: number; height: number };
  heading?: number;
  crs?: string;
}

export type WorkerRequest =
  | { cmd: "open"; path: string; includeSpaces: boolean }
  /**
   * Mesh products until none is left: the next product index is taken from a counter shared by all workers
   * (Int32 at offset 0), so a worker that gets the heavy elements never leaves the others idle.
   */
  | { cmd: "mesh"; next: SharedArrayBuffer; georeference: GeoreferenceRequest };

export type WorkerReply =
  | { type: "opened"; info: ModelInfo }
  | { type: "begin"; index: number }
  | { type: "element"; index: number; element: PlacedElementData | null }
  | { type: "done" }
  | { type: "error"; message: string; entityId?: number };
