import { createReadStream } from "node:fs";
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import { createBrotliCompress, createGzip, constants as zlibConstants } from "node:zlib";
import type { Logger } from "pino";
import type { LayerCatalog } from "../catalog/layer-catalog.ts";
import { answerPreflight, CORS_HEADERS, sendJsonError } from "../http/cors.ts";
import { type Encoding, etagMatches, negotiateEncoding, parseRange } from "./http-ranges.ts";
import type { CompressedBody, TileFile, TileFileStore } from "./tile-files.ts";
import { parseTilePath } from "./tile-path.ts";

export interface TileHandlerDeps {
  catalog: LayerCatalog;
  files: TileFileStore;
  logger?: Logger;
}

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Streamed files are read in 1 MiB chunks: 64 KiB chunks cost ~30 % of large-file throughput. */
const STREAM_CHUNK = 1024 * 1024;

const CORS_PAIRS: string[] = Object.entries(CORS_HEADERS).flat();

function variantEtag(etag: string, encoding: Encoding): string {
  return encoding === "identity" ? etag : `${etag.slice(0, -1)}-${encoding}"`;
}

/** Headers every answer about `file` carries, as [name, value, ...] (the form writeHead takes as is). */
function basePairs(file: TileFile, etag: string): string[] {
  const pairs = [
    ...CORS_PAIRS,
    "content-type",
    file.policy.contentType,
    "etag",
    etag,
    "last-modified",
    file.lastModified,
    "cache-control",
    file.policy.cacheControl,
    "accept-ranges",
    "bytes",
    "x-content-type-options",
    "nosniff",
  ];
  if (file.compressible) pairs.push("vary", "Accept-Encoding");
  return pairs;
}

/** Headers of a full identity 200 answer: built once per file version, reused by every request. */
function okHeaders(file: TileFile): string[] {
  file.okHeaders ??= [...basePairs(file, file.etag), "content-length", String(file.size)];
  return file.okHeaders;
}

function compressedHeaders(file: TileFile, encoding: Encoding, compressed: CompressedBody): string[] {
  compressed.headers ??= [
    ...basePairs(file, variantEtag(file.etag, encoding)),
    "content-encoding",
    encoding,
    "content-length",
    String(compressed.body.length),
  ];
  return compressed.headers;
}

function headerObject(pairs: string[]): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (let i = 0; i < pairs.length; i += 2) headers[pairs[i]] = pairs[i + 1];
  return headers;
}

function isConditional(h: IncomingHttpHeaders): boolean {
  return h["if-none-match"] !== undefined || h["if-modified-since"] !== undefined;
}

function notModified(h: IncomingHttpHeaders, file: TileFile, etag: string): boolean {
  const ifNoneMatch = h["if-none-match"];
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, etag);
  const ifModifiedSince = h["if-modified-since"];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Math.floor(file.mtimeMs / 1000) * 1000 <= since;
}

/** If-Range that no longer matches the file means "send the whole new file instead". */
function rangeApplies(h: IncomingHttpHeaders, file: TileFile): boolean {
  if (h.range === undefined) return false;
  const ifRange = h["if-range"];
  return ifRange === undefined || ifRange === file.etag || ifRange === file.lastModified;
}

function streamFile(res: ServerResponse, file: TileFile, start: number, end: number, encoding: Encoding) {
  const source = createReadStream(file.realPath, { start, end, highWaterMark: STREAM_CHUNK });
  const onDone = (err: NodeJS.ErrnoException | null) => {
    if (err && !res.destroyed) res.destroy(err);
  };
  if (encoding === "identity") pipeline(source, res, onDone);
  else if (encoding === "gzip") pipeline(source, createGzip({ level: 6 }), res, onDone);
  else {
    // Streaming large files: a low brotli quality keeps up with the disk.
    const br = createBrotliCompress({ params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } });
    pipeline(source, br, res, onDone);
  }
}

/**
 * Serves `/tiles/<layerId>/<path...>` straight on the Node request, outside express: it is
 * the hot path (hundreds of small requests per camera move), so it does no database query and
 * no middleware work beyond what the response needs. A plain GET of a file whose body is in
 * memory (or small enough to be read synchronously) is answered without a promise.
 */
export function createTileHandler(deps: TileHandlerDeps): RawHandler {
  const { catalog, files, logger } = deps;

  /** Sends `body` (or a slice of it) and hands it back to the store once written (scratch buffers). */
  function endWith(res: ServerResponse, file: TileFile, body: Buffer, chunk: Buffer = body): void {
    if (body === file.body) res.end(chunk);
    else res.end(chunk, () => files.release(body));
  }

  /** Identity 200 of the whole file: the common case, answered synchronously when the body is at hand. */
  function sendWhole(res: ServerResponse, file: TileFile, body: Buffer | undefined): void {
    res.writeHead(200, okHeaders(file));
    if (body !== undefined) endWith(res, file, body);
    else streamFile(res, file, 0, file.size - 1, "identity");
  }

  function serveTile(
    req: IncomingMessage,
    res: ServerResponse,
    root: string,
    relPath: string,
    retried: boolean,
  ): void | Promise<void> {
    const file = files.open(root, relPath);
    if (file === undefined) return sendJsonError(res, 404, "not found");
    const h = req.headers;
    const plain =
      req.method === "GET" &&
      h.range === undefined &&
      !isConditional(h) &&
      (!file.compressible || negotiateEncoding(h["accept-encoding"]) === "identity");
    if (!plain) return serveGeneral(req, res, root, relPath, file, retried);
    if (file.size === 0) return sendWhole(res, file, Buffer.alloc(0));
    const body = files.body(file);
    if (body instanceof Promise) {
      return body.then((loaded) => {
        if (loaded === undefined && !files.isCurrent(file) && !retried) {
          return serveTile(req, res, root, relPath, true);
        }
        sendWhole(res, file, loaded);
      });
    }
    if (body === undefined && !files.isCurrent(file) && !retried) {
      return serveTile(req, res, root, relPath, true);
    }
    sendWhole(res, file, body);
  }

  /** Everything else: HEAD, conditional requests, ranges, compressed answers. */
  async function serveGeneral(
    req: IncomingMessage,
    res: ServerResponse,
    root: string,
    relPath: string,
    file: TileFile,
    retried: boolean,
  ): Promise<void> {
    const h = req.headers;
    const isHead = req.method === "HEAD";
    const wantsRange = rangeApplies(h, file);
    let encoding: Encoding =
      file.compressible && !wantsRange ? negotiateEncoding(h["accept-encoding"]) : "identity";
    // The body is needed to send it, and to know whether compression pays (which decides the
    // representation, hence the ETag a conditional request is compared with).
    let body: Buffer | undefined;
    if (!isHead || encoding !== "identity") {
      const read = await files.body(file);
      if (read === undefined && !files.isCurrent(file)) {
        if (!retried) return serveTile(req, res, root, relPath, true);
        // Rewritten again between two stat() calls: answer from disk, without caching.
      }
      body = read;
    }
    let compressed: CompressedBody | undefined;
    if (encoding !== "identity" && body !== undefined) {
      compressed = await files.compressedBody(file, body, encoding);
      if (compressed === undefined) encoding = "identity";
    }
    const etag = variantEtag(file.etag, encoding);

    if (notModified(h, file, etag)) {
      if (body !== undefined) files.release(body);
      res.writeHead(304, basePairs(file, etag));
      res.end();
      return;
    }
    if (compressed !== undefined) {
      if (body !== undefined) files.release(body);
      res.writeHead(200, compressedHeaders(file, encoding, compressed));
      res.end(isHead ? undefined : compressed.body);
      return;
    }
    if (encoding !== "identity") {
      // Too large for memory: compressed on the fly, length unknown (chunked).
      res.writeHead(200, [...basePairs(file, etag), "content-encoding", encoding]);
      if (isHead) res.end();
      else streamFile(res, file, 0, file.size - 1, encoding);
      return;
    }

    const range = wantsRange ? parseRange(h.range, file.size) : ({ kind: "none" } as const);
    if (range.kind === "unsatisfiable") {
      if (body !== undefined) files.release(body);
      sendJsonError(res, 416, `range not satisfiable for a ${file.size}-byte file`, {
        "content-range": `bytes */${file.size}`,
        "accept-ranges": "bytes",
      });
      return;
    }
    if (range.kind === "none") {
      if (isHead || file.size === 0) {
        if (body !== undefined) files.release(body);
        res.writeHead(200, okHeaders(file));
        res.end();
      } else sendWhole(res, file, body);
      return;
    }
    const { start, end } = range;
    const headers = headerObject(basePairs(file, etag));
    headers["content-range"] = `bytes ${start}-${end}/${file.size}`;
    headers["content-length"] = end - start + 1;
    res.writeHead(206, headers);
    if (isHead) {
      if (body !== undefined) files.release(body);
      res.end();
    } else if (body !== undefined) endWith(res, file, body, body.subarray(start, end + 1));
    else streamFile(res, file, start, end, "identity");
  }

  async function serveAfterLookup(
    req: IncomingMessage,
    res: ServerResponse,
    layerId: string,
    relPath: string,
  ): Promise<void> {
    const root = await catalog.findRoot(layerId);
    if (root === undefined) return sendJsonError(res, 404, `layer "${layerId}" not found`);
    await serveTile(req, res, root, relPath, false);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
    if (req.method === "OPTIONS") return answerPreflight(res);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD, OPTIONS");
      return sendJsonError(res, 405, `method ${req.method} not allowed on tiles`);
    }
    const parsed = parseTilePath(req.url ?? "");
    if (!parsed.ok) return sendJsonError(res, parsed.status, parsed.error);
    const root = catalog.cachedRoot(parsed.layerId);
    if (root === undefined) return serveAfterLookup(req, res, parsed.layerId, parsed.relPath);
    return serveTile(req, res, root, parsed.relPath, false);
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    logger?.error({ err, url: req.url }, "tile request failed");
    if (!res.headersSent) sendJsonError(res, 500, "internal error while serving the tile");
    else res.destroy();
  }

  return (req, res) => {
    const started = logger?.isLevelEnabled("debug") ? performance.now() : 0;
    if (started) {
      res.once("finish", () =>
        logger?.debug(
          { method: req.method, url: req.url, status: res.statusCode, ms: performance.now() - started },
          "tile",
        ),
      );
    }
    try {
      const pending = handle(req, res);
      if (pending !== undefined) pending.catch((err: unknown) => fail(req, res, err));
    } catch (err) {
      fail(req, res, err);
    }
  };
}
