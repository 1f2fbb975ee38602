import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import iconv from "iconv-lite";
import { SourceError, type SourceFeature, type VectorSource } from "./source-feature.ts";

/** Whole-document GeoJSON is parsed in one go; beyond this size GeoJSONSeq or FlatGeobuf streams instead. */
const MAX_DOCUMENT_BYTES = 400 * 1024 * 1024;

/** GeoJSON FeatureCollection / Feature / geometry in one document. */
export async function openGeoJson(path: string): Promise<VectorSource> {
  const size = (await stat(path)).size;
  if (size > MAX_DOCUMENT_BYTES) {
    throw new SourceError(
      path,
      `${(size / 1e6).toFixed(0)} MB is too large for a single GeoJSON document; use GeoJSON text sequences (.geojsonl, one feature per line) or FlatGeobuf (.fgb)`,
    );
  }
  // RFC 7946 says UTF-8, but GIS exports on Chinese Windows write GBK: bytes that are not UTF-8 are read as GB18030.
  const bytes = await readFile(path);
  let text: string;
  let guessedEncoding: VectorSource["guessedEncoding"];
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = iconv.decode(bytes, "gb18030");
    guessedEncoding = { encoding: "gb18030", reason: "the file is not valid UTF-8" };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new SourceError(path, `invalid JSON: ${describeJsonError(err as Error, text)}`);
  }
  const features = featuresOf(doc, path);
  return {
    path,
    declaredCrs: namedCrs(doc),
    guessedEncoding,
    totalBytes: size,
    bytesRead: () => size,
    async *features() {
      for (let i = 0; i < features.length; i++) yield toSourceFeature(features[i], i, path);
    },
  };
}

/** GeoJSON text sequences (RFC 8142) or newline-delimited features: streamed, so any size works. */
export async function openGeoJsonSeq(path: string): Promise<VectorSource> {
  const size = (await stat(path)).size;
  let consumed = 0;
  return {
    path,
    totalBytes: size,
    bytesRead: () => consumed,
    async *features() {
      const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
      const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      let index = 0;
      let lineNo = 0;
      for await (const raw of lines) {
        lineNo++;
        consumed += raw.length + 1;
        // RFC 8142 records start with the record separator (0x1e).
        const line = (raw.charCodeAt(0) === 0x1e ? raw.slice(1) : raw).trim();
        if (!line) continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (err) {
          throw new SourceError(path, `line ${lineNo}: invalid JSON: ${(err as Error).message}`, index);
        }
        yield toSourceFeature(value, index++, path);
      }
    },
  };
}

function featuresOf(doc: unknown, path: string): unknown[] {
  const d = doc as { type?: string; features?: unknown };
  if (d?.type === "FeatureCollection") {
    if (!Array.isArray(d.features)) throw new SourceError(path, `FeatureCollection has no "features" array`);
    return d.features;
  }
  if (d?.type === "Feature") return [d];
  if (typeof d?.type === "string") return [{ type: "Feature", geometry: d, properties: {} }];
  throw new SourceError(path, `not GeoJSON: expected a FeatureCollection, Feature or geometry object`);
}

function toSourceFeature(value: unknown, index: number, path: string): SourceFeature {
  const f = value as { type?: string; geometry?: unknown; properties?: unknown; id?: unknown };
  if (!f || typeof f !== "object" || f.type !== "Feature") {
    throw new SourceError(
      path,
      `expected a GeoJSON Feature, got ${JSON.stringify(value)?.slice(0, 60)}`,
      index,
    );
  }
  if (f.geometry !== null && (typeof f.geometry !== "object" || f.geometry === undefined)) {
    throw new SourceError(path, `"geometry" must be an object or null`, index);
  }
  const properties = (f.properties && typeof f.properties === "object" ? f.properties : {}) as Record<
    string,
    unknown
  >;
  if (f.id !== undefined && properties.id === undefined) properties.id = f.id;
  return { index, geometry: f.geometry as SourceFeature["geometry"], properties };
}

/** Legacy GeoJSON 2008 "crs" member, still written by many Chinese GIS exports. */
function namedCrs(doc: unknown): string | undefined {
  const name = (doc as { crs?: { properties?: { name?: string } } })?.crs?.properties?.name;
  if (!name) return undefined;
  const m = /EPSG:{1,2}(\d+)/i.exec(name);
  if (m) return `EPSG:${m[1]}`;
  if (/CRS84$/i.test(name)) return "EPSG:4326";
  return undefined;
}

function describeJsonError(err: Error, text: string): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  const byteOffset = Buffer.byteLength(before, "utf8");
  return `${err.message} (line ${line}, column ${column}, byte offset ${byteOffset})`;
}
