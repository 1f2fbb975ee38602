import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { geojson } from "flatgeobuf";
import { SourceError, type SourceFeature, type VectorSource } from "./source-feature.ts";

/** FlatGeobuf, streamed feature by feature; the header's CRS code becomes the declared CRS. */
export async function openFlatGeobuf(path: string): Promise<VectorSource> {
  const size = (await stat(path)).size;
  let declaredCrs: string | undefined;
  const source: VectorSource = {
    path,
    totalBytes: size,
    bytesRead: () => size,
    get declaredCrs() {
      return declaredCrs;
    },
    async *features(): AsyncIterable<SourceFeature> {
      const stream = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream;
      let index = 0;
      try {
        for await (const f of geojson.deserialize(stream, {
          headerMetaFn: (h) => {
            if (h.crs?.code) declaredCrs = `EPSG:${h.crs.code}`;
          },
        })) {
          yield {
            index: index++,
            geometry: f.geometry as SourceFeature["geometry"],
            properties: (f.properties ?? {}) as Record<string, unknown>,
          };
        }
      } catch (err) {
        if (err instanceof SourceError) throw err;
        throw new SourceError(path, `invalid FlatGeobuf: ${(err as Error).message}`, index);
      }
    },
  };
  return source;
}
