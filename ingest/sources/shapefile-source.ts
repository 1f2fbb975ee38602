import { existsSync } from "node:fs";
import { open as openFile, readFile, stat } from "node:fs/promises";
import * as shapefile from "shapefile";
import { SourceError, type SourceFeature, type VectorSource } from "./source-feature.ts";

/**
 * ESRI Shapefile (.shp + .dbf, optional .prj and .cpg). Chinese data often carries GBK attributes without a .cpg,
 * so when none is given the .dbf's bytes are tested as UTF-8 and read as GBK if they are not valid UTF-8.
 */
export async function openShapefile(shpPath: string): Promise<VectorSource> {
  const stem = shpPath.replace(/\.shp$/i, "");
  const dbfPath = sibling(stem, ".dbf");
  const prjPath = sibling(stem, ".prj");
  const cpgPath = sibling(stem, ".cpg");
  const size = (await stat(shpPath)).size;
  const encoding = cpgPath ? codePageToEncoding((await readFile(cpgPath, "latin1")).trim()) : undefined;
  const guessed = dbfPath && !encoding ? await guessDbfEncoding(dbfPath) : undefined;
  const dbfEncoding = dbfPath ? (encoding ?? guessed?.encoding) : undefined;
  const declaredCrs = prjPath ? (await readFile(prjPath, "utf8")).trim() : undefined;
  let index = 0;
  return {
    path: shpPath,
    declaredCrs,
    guessedEncoding: guessed,
    totalBytes: size,
    bytesRead: () => size,
    async *features(): AsyncIterable<SourceFeature> {
      let source: Awaited<ReturnType<typeof shapefile.open>>;
      try {
        source = await shapefile.open(shpPath, dbfPath, { encoding: dbfEncoding });
      } catch (err) {
        throw new SourceError(shpPath, `cannot open shapefile: ${(err as Error).message}`);
      }
      for (;;) {
        let r: { done: boolean; value: GeoJSON.Feature };
        try {
          r = (await source.read()) as typeof r;
        } catch (err) {
          throw new SourceError(shpPath, `unreadable record: ${(err as Error).message}`, index);
        }
        if (r.done) return;
        yield {
          index: index++,
          geometry: r.value.geometry as SourceFeature["geometry"],
          properties: (r.value.properties ?? {}) as Record<string, unknown>,
        };
      }
    },
  };
}

function sibling(stem: string, ext: string): string | undefined {
  for (const e of [ext, ext.toUpperCase()]) if (existsSync(stem + e)) return stem + e;
  return undefined;
}

function codePageToEncoding(cpg: string): string {
  const c = cpg.toUpperCase();
  if (c.includes("UTF") && c.includes("8")) return "utf-8";
  if (c === "936" || c.includes("GBK") || c.includes("GB2312") || c.includes("GB18030")) return "gb18030";
  if (c === "950" || c.includes("BIG5")) return "big5";
  return cpg;
}

async function guessDbfEncoding(dbfPath: string): Promise<{ encoding: string; reason: string }> {
  const fh = await openFile(dbfPath, "r");
  try {
    const header = Buffer.alloc(32);
    await fh.read(header, 0, 32, 0);
    const headerLength = header.readUInt16LE(8);
    // LDID byte 29: 0x4d = GB2312 / 936 as written by ArcGIS.
    if (header[29] === 0x4d)
      return { encoding: "gb18030", reason: "the .dbf language byte says GB2312 (936)" };
    const sample = Buffer.alloc(1 << 20);
    const { bytesRead } = await fh.read(sample, 0, sample.length, headerLength);
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(trimPartialUtf8(sample.subarray(0, bytesRead)));
      return { encoding: "utf-8", reason: "no .cpg; the .dbf bytes are valid UTF-8" };
    } catch {
      return { encoding: "gb18030", reason: "no .cpg and the .dbf bytes are not valid UTF-8" };
    }
  } finally {
    await fh.close();
  }
}

/** A sample cut mid-character must not count as invalid UTF-8. */
function trimPartialUtf8(b: Buffer): Buffer {
  const end = b.length;
  for (let k = 1; k <= 3 && end - k >= 0; k++) {
    const byte = b[end - k];
    if ((byte & 0xc0) === 0xc0) return b.subarray(0, end - k);
    if ((byte & 0x80) === 0) break;
  }
  return b;
}
