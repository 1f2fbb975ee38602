import type { ServerResponse } from "node:http";

/** Tiles and the API are public data meant to be loaded by viewers on any origin. */
export const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "ETag, Content-Range, Content-Length, Content-Encoding, Accept-Ranges",
} as const;

export const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  "access-control-allow-methods": "GET, HEAD, POST, DELETE, OPTIONS",
  "access-control-allow-headers":
    "Authorization, Content-Type, Range, If-None-Match, If-Modified-Since, If-Range",
  "access-control-max-age": "86400",
} as const;

/** Answers a CORS preflight with 204 and the allowed methods/headers. */
export function answerPreflight(res: ServerResponse): void {
  res.writeHead(204, PREFLIGHT_HEADERS);
  res.end();
}

export function sendJsonError(
  res: ServerResponse,
  status: number,
  error: string,
  extraHeaders: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error });
  res.writeHead(status, {
    ...CORS_HEADERS,
    ...extraHeaders,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}
