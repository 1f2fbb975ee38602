import { sep } from "node:path";

export type TilePath =
  /** `relPath`: the decoded segments after the layer id, joined with the platform separator. */
  | { ok: true; layerId: string; segments: readonly string[]; relPath: string }
  | { ok: false; status: 400 | 404; error: string };

/** Encoded separators and NUL would let one URL segment become several path components. */
const ENCODED_SEPARATOR_OR_NUL = /%(2f|5c|00)/i;
/** Same rule as LayerSchema.id, as a plain regex because this runs on every tile request. */
const LAYER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Parses the raw request target `/tiles/<layerId>/<path...>` into decoded segments that are
 * each a plain file name: no separators, no dot-segments, no NUL, no dotfiles. Works on the
 * raw URL because a normalised one would already have resolved `..`.
 */
export function parseTilePath(rawUrl: string): TilePath {
  const known = parsed.get(rawUrl);
  if (known !== undefined) return known;
  const result = parse(rawUrl);
  if (result.ok) {
    if (parsed.size >= MAX_REMEMBERED) parsed.clear();
    parsed.set(rawUrl, result);
  }
  return result;
}

/**
 * Valid tile URLs parsed recently. A viewer asks for the same few thousand URLs again and
 * again, and the parse (regex, decode, checks per segment) is pure, so its result is reused.
 */
const parsed = new Map<string, TilePath>();
const MAX_REMEMBERED = 20_000;

function parse(rawUrl: string): TilePath {
  const queryAt = rawUrl.search(/[?#]/);
  const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  if (!rawPath.startsWith("/tiles/")) return { ok: false, status: 404, error: "not found" };
  if (rawPath.includes("\\") || rawPath.includes("\0")) {
    return { ok: false, status: 400, error: "invalid tile path: backslash or NUL byte" };
  }
  const rawSegments = rawPath.slice("/tiles/".length).split("/");
  const segments: string[] = [];
  for (const raw of rawSegments) {
    if (ENCODED_SEPARATOR_OR_NUL.test(raw)) {
      return { ok: false, status: 400, error: "invalid tile path: encoded separator or NUL byte" };
    }
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, error: "invalid tile path: malformed percent-encoding" };
    }
    if (segment === "" || segment === "." || segment === "..") {
      return { ok: false, status: 400, error: "invalid tile path: empty or dot segment" };
    }
    if (segment.includes("/") || segment.includes("\\") || segment.includes("\0")) {
      return { ok: false, status: 400, error: "invalid tile path: separator in a segment" };
    }
    // Dotfiles (.git, .env, editor swap files) are never part of a tileset.
    if (segment.startsWith(".")) return { ok: false, status: 404, error: "not found" };
    segments.push(segment);
  }
  const [layerId, ...fileSegments] = segments;
  if (!LAYER_ID.test(layerId) || fileSegments.length === 0) {
    return { ok: false, status: 404, error: "not found" };
  }
  return { ok: true, layerId, segments: fileSegments, relPath: fileSegments.join(sep) };
}
