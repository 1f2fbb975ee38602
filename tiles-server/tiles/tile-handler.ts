import { createReadStream } from "node:fs";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import { createBrotliCompress, createGzip, constants as zlibConstants } from "node:zlib";
import type { Logger } from "pino";
import type { LayerCatalog } from "../catalog/layer-catalog.ts";
import { answerPreflight, CORS_HEADERS, sendJsonError } from "../http/cors.ts";
import { type Encoding, etagMatches, negotiateEncoding, parseRange } from "./http-ranges.ts";
import { type TileFile, TileFileStore } from "./tile-files.ts";
import { parseTilePath } from "./tile-path.ts";

export interface TileHandlerDeps {
  catalog: LayerCatalog;
  files: TileFileStore;
  logger?: Logger;
}

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void;

function variantEtag(etag: string, encoding: Encoding): string {
  return encoding === "identity" ? etag : `${etag.slice(0, -1)}-${encoding}"`;
}

function notModified(req: IncomingMessage, file: TileFile, etag: string): boolean {
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, etag);
  const ifModifiedSince = req.headers["if-modified-since"];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Math.floor(file.mtimeMs / 1000) * 1000 <= since;
}

/** If-Range that no longer matches the file means "send the whole new file instead". */
function rangeApplies(req: IncomingMessage, file: TileFile): boolean {
  if (req.headers.range === undefined) return false;
  const ifRange = req.headers["if-range"];
  return ifRange === undefined || ifRange === file.etag || ifRange === file.lastModified;
}

function streamFile(res: ServerResponse, file: TileFile, start: number, end: number, encoding: Encoding) {
  const source = createReadStream(file.realPath, { start, end });
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

async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: TileFile,
  files: TileFileStore,
): Promise<void> {
  const compressible = TileFileStore.compressible(file);
  const wantsRange = rangeApplies(req, file);
  let encoding: Encoding =
    compressible && !wantsRange ? negotiateEncoding(req.headers["accept-encoding"]) : "identity";
  let compressedBody: Buffer | undefined;
  if (encoding !== "identity" && file.body !== undefined) {
    compressedBody = await files.compressedBody(file, encoding);
    if (compressedBody === undefined) encoding = "identity";
  }
  const etag = variantEtag(file.etag, encoding);
  const headers: OutgoingHttpHeaders = {
    ...CORS_HEADERS,
    "content-type": file.policy.contentType,
    etag,
    "last-modified": file.lastModified,
    "cache-control": file.policy.cacheControl,
    "accept-ranges": "bytes",
    "x-content-type-options": "nosniff",
  };
  if (compressible) headers.vary = "Accept-Encoding";

  if (notModified(req, file, etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const isHead = req.method === "HEAD";

  if (encoding !== "identity") {
    headers["content-encoding"] = encoding;
    if (compressedBody !== undefined) {
      headers["content-length"] = compressedBody.length;
      res.writeHead(200, headers);
      res.end(isHead ? undefined : compressedBody);
    } else {
      res.writeHead(200, headers);
      if (isHead) res.end();
      else streamFile(res, file, 0, file.size - 1, encoding);
    }
    return;
  }

  const range = wantsRange ? parseRange(req.headers.range, file.size) : ({ kind: "none" } as const);
  if (range.kind === "unsatisfiable") {
    sendJsonError(res, 416, `range not satisfiable for a ${file.size}-byte file`, {
      "content-range": `bytes */${file.size}`,
      "accept-ranges": "bytes",
    });
    return;
  }
  let status = 200;
  let start = 0;
  let end = file.size - 1;
  if (range.kind === "range") {
    status = 206;
    ({ start, end } = range);
    headers["content-range"] = `bytes ${start}-${end}/${file.size}`;
  }
  headers["content-length"] = end - start + 1;
  res.writeHead(status, headers);
  if (isHead || file.size === 0) res.end();
  else if (file.body !== undefined) res.end(file.body.subarray(start, end + 1));
  else streamFile(res, file, start, end, "identity");
}

/**
 * Serves `/tiles/<layerId>/<path...>` straight on the Node request, outside express: it is
 * the hot path (hundreds of small requests per camera move), so it does no database query and
 * no middleware work beyond what the response needs.
 */
export function createTileHandler(deps: TileHandlerDeps): RawHandler {
  const { catalog, files, logger } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "OPTIONS") return answerPreflight(res);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD, OPTIONS");
      return sendJsonError(res, 405, `method ${req.method} not allowed on tiles`);
    }
    const parsed = parseTilePath(req.url ?? "");
    if (!parsed.ok) return sendJsonError(res, parsed.status, parsed.error);
    const root = catalog.cachedRoot(parsed.layerId) ?? (await catalog.findRoot(parsed.layerId));
    if (root === undefined) return sendJsonError(res, 404, `layer "${parsed.layerId}" not found`);
    const file = await files.open(root, parsed.segments);
    if (file === undefined) return sendJsonError(res, 404, "not found");
    await serveFile(req, res, file, files);
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
    handle(req, res).catch((err: unknown) => {
      logger?.error({ err, url: req.url }, "tile request failed");
      if (!res.headersSent) sendJsonError(res, 500, "internal error while serving the tile");
      else res.destroy();
    });
  };
}
