import { extname } from "node:path";
import { openFlatGeobuf } from "./flatgeobuf-source.ts";
import { openGeoJson, openGeoJsonSeq } from "./geojson-source.ts";
import { openShapefile } from "./shapefile-source.ts";
import { SourceError, type VectorSource } from "./source-feature.ts";

/** Chooses the reader by file extension. */
export async function openVectorSource(path: string): Promise<VectorSource> {
  const ext = extname(path).toLowerCase();
  try {
    switch (ext) {
      case ".geojson":
      case ".json":
        return await openGeoJson(path);
      case ".geojsonl":
      case ".geojsons":
      case ".geojsonseq":
      case ".ndjson":
      case ".jsonl":
        return await openGeoJsonSeq(path);
      case ".shp":
        return await openShapefile(path);
      case ".fgb":
        return await openFlatGeobuf(path);
      default:
        throw new SourceError(path, `unsupported input "${ext}": use .geojson, .geojsonl, .shp or .fgb`);
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new SourceError(path, "file not found");
    throw new SourceError(path, (err as Error).message);
  }
}
