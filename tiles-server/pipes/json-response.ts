import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { Request, Response } from "express";

const gzipAsync = promisify(gzip);
/** Below this the app-wide compression middleware is fine; above it its default level costs tens of ms. */
const FAST_GZIP_FROM = 64 * 1024;

/**
 * Sends an already serialised JSON body. Large analysis results (a trace down a city's water network lists a
 * hundred thousand ids) are gzipped here at level 1, off the event loop, which is several times faster than the
 * compression middleware's default level for about the same size on id lists; the middleware leaves a response
 * alone once it carries a Content-Encoding.
 */
export async function sendJson(req: Request, res: Response, body: Buffer): Promise<void> {
  res.set("cache-control", "no-cache").type("application/json; charset=utf-8");
  if (body.length >= FAST_GZIP_FROM && req.acceptsEncodings("gzip") === "gzip") {
    const packed = await gzipAsync(body, { level: 1 });
    res.set("content-encoding", "gzip").vary("Accept-Encoding").send(packed);
    return;
  }
  res.send(body);
}
