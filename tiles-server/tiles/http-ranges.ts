export type RangeResult =
  | { kind: "none" }
  | { kind: "unsatisfiable" }
  | { kind: "range"; start: number; end: number };

/**
 * One `bytes=` range of a representation of `size` bytes (RFC 9110 §14). Multiple ranges and
 * malformed headers are answered with the full body, which the RFC allows.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: "none" };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return { kind: "none" };
  const [, first, last] = match;
  if (first === "" && last === "") return { kind: "none" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return { kind: "none" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}

export type Encoding = "br" | "gzip" | "identity";

/** Browsers send a handful of distinct Accept-Encoding strings; parse each once. */
const negotiated = new Map<string, Encoding>();

/** Picks br over gzip when the client accepts both (q > 0). */
export function negotiateEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return "identity";
  let encoding = negotiated.get(acceptEncoding);
  if (encoding === undefined) {
    encoding = parseAcceptEncoding(acceptEncoding);
    if (negotiated.size >= 256) negotiated.clear();
    negotiated.set(acceptEncoding, encoding);
  }
  return encoding;
}

function parseAcceptEncoding(acceptEncoding: string): Encoding {
  let br = false;
  let gzip = false;
  for (const part of acceptEncoding.split(",")) {
    const [token, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    if (token === "br") br = true;
    else if (token === "gzip" || token === "x-gzip") gzip = true;
    else if (token === "*") {
      br = true;
      gzip = true;
    }
  }
  return br ? "br" : gzip ? "gzip" : "identity";
}

/** True when an If-None-Match list contains `etag` (strong comparison for strong tags, `*` matches). */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  for (const candidate of ifNoneMatch.split(",")) {
    const tag = candidate.trim();
    // If-None-Match uses weak comparison (RFC 9110 §13.1.2), so W/"x" matches "x".
    if (tag === "*" || tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}
