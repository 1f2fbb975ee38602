import type { GeoJsonGeometry } from "../buildings/footprint.ts";

/** A feature as read from any vector source, before CRS conversion. */
export interface SourceFeature {
  /** 0-based position in the source file, quoted in error messages. */
  index: number;
  geometry: GeoJsonGeometry;
  properties: Record<string, unknown>;
}

/** A vector file opened for reading: its CRS as declared by the file (if any) and its features in order. */
export interface VectorSource {
  path: string;
  /** CRS declared by the file itself (.prj WKT, FlatGeobuf header, GeoJSON "crs" member), if any. */
  declaredCrs?: string;
  /**
   * Text encoding of the attributes when the file does not fix it and the reader chose one: "gb18030" from a
   * Shapefile's .dbf language byte or from bytes that are not valid UTF-8 (GBK exports), or "utf-8".
   */
  guessedEncoding?: { encoding: string; reason: string };
  /** Size in bytes of what will be read, for progress. */
  totalBytes: number;
  /** Bytes consumed so far (approximate), for progress. */
  bytesRead(): number;
  features(): AsyncIterable<SourceFeature>;
}

/** Input errors name the file and, where one applies, the feature index. */
export class SourceError extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly featureIndex?: number,
  ) {
    super(`${path}${featureIndex !== undefined ? `: feature ${featureIndex}` : ""}: ${message}`);
  }
}
