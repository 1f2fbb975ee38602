import { extname } from "node:path";

export interface ContentPolicy {
  contentType: string;
  /** Worth gzip/brotli: text and uncompressed binary, not already-compressed images. */
  compressible: boolean;
  cacheControl: string;
}

/** JSON (tileset.json above all) is edited in place by re-ingest, so clients must revalidate it. */
const REVALIDATE = "no-cache";
/** Tile content changes rarely; an hour bounds staleness after a re-ingest while sparing requests. */
const CACHE_CONTENT = "public, max-age=3600";

const POLICIES: Record<string, ContentPolicy> = {
  ".json": { contentType: "application/json", compressible: true, cacheControl: REVALIDATE },
  ".geojson": { contentType: "application/geo+json", compressible: true, cacheControl: REVALIDATE },
  ".glb": { contentType: "model/gltf-binary", compressible: true, cacheControl: CACHE_CONTENT },
  ".gltf": { contentType: "model/gltf+json", compressible: true, cacheControl: CACHE_CONTENT },
  ".subtree": { contentType: "application/octet-stream", compressible: true, cacheControl: CACHE_CONTENT },
  ".bin": { contentType: "application/octet-stream", compressible: true, cacheControl: CACHE_CONTENT },
  ".b3dm": { contentType: "application/octet-stream", compressible: true, cacheControl: CACHE_CONTENT },
  ".i3dm": { contentType: "application/octet-stream", compressible: true, cacheControl: CACHE_CONTENT },
  ".pnts": { contentType: "application/octet-stream", compressible: true, cacheControl: CACHE_CONTENT },
  ".cmpt": { contentType: "application/octet-stream", compressible: true, cacheControl: CACHE_CONTENT },
  ".jpg": { contentType: "image/jpeg", compressible: false, cacheControl: CACHE_CONTENT },
  ".jpeg": { contentType: "image/jpeg", compressible: false, cacheControl: CACHE_CONTENT },
  ".png": { contentType: "image/png", compressible: false, cacheControl: CACHE_CONTENT },
  ".ktx2": { contentType: "image/ktx2", compressible: false, cacheControl: CACHE_CONTENT },
  ".webp": { contentType: "image/webp", compressible: false, cacheControl: CACHE_CONTENT },
};

const FALLBACK: ContentPolicy = {
  contentType: "application/octet-stream",
  compressible: false,
  cacheControl: CACHE_CONTENT,
};

export function contentPolicyFor(filePath: string): ContentPolicy {
  return POLICIES[extname(filePath).toLowerCase()] ?? FALLBACK;
}
