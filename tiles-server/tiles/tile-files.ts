import { type Stats, statSync } from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import { sep } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, gzip, constants as zlibConstants } from "node:zlib";
import { type ContentPolicy, contentPolicyFor } from "./content-types.ts";
import { LruCache } from "./lru-cache.ts";

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export interface TileFileCacheOptions {
  /** Total bytes of file bodies and compressed variants kept in memory (default 128 MiB). */
  maxBytes?: number;
  /** Files up to this size are kept in memory; larger ones are streamed from disk (default 1 MiB). */
  maxFileBytes?: number;
}

/** Below this, compression framing costs about as much as it saves. */
const MIN_COMPRESS_BYTES = 256;
/** A compressed variant is only used when it saves at least this fraction. */
const MIN_SAVING = 0.1;
/** Rough memory cost of an entry without a body (strings, Stats-derived numbers, Map slot). */
const ENTRY_OVERHEAD = 512;

/** Cached facts about one served file, valid while size, mtime and inode are unchanged. */
export interface TileFile {
  /** Requested path (root + segments), the LRU key. */
  readonly path: string;
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly policy: ContentPolicy;
  /** The whole file when small enough to cache; undefined means stream it from disk. */
  readonly body: Buffer | undefined;
  /** Compressed variants by encoding; resolves to undefined when compression does not pay. */
  readonly compressed: Map<"br" | "gzip", Promise<Buffer | undefined>>;
}

function sameFile(file: TileFile, st: Stats): boolean {
  return file.size === st.size && file.mtimeMs === st.mtimeMs && file.ino === st.ino;
}

function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Resolves tile files under layer roots with a bounded LRU of metadata and small bodies.
 * Each request costs one stat() so edits on disk are seen immediately.
 */
export class TileFileStore {
  private readonly cache: LruCache<TileFile>;
  private readonly maxFileBytes: number;
  /** Loads in progress, so a burst of requests for a cold file reads and compresses it once. */
  private readonly loading = new Map<string, Promise<TileFile | undefined>>();

  constructor(opts: TileFileCacheOptions = {}) {
    this.cache = new LruCache<TileFile>(opts.maxBytes ?? 128 * 1024 * 1024, 100_000);
    this.maxFileBytes = opts.maxFileBytes ?? 1024 * 1024;
  }

  /**
   * The file at `root/segments...`, or undefined when it is missing, not a regular file, or
   * (through a symlink) resolves outside the canonical `root`.
   */
  async open(root: string, segments: readonly string[]): Promise<TileFile | undefined> {
    const path = root + sep + segments.join(sep);
    // A synchronous stat of a page-cached inode costs microseconds, far less than a thread-pool
    // round trip; it is the one per-request file system call on the hot path.
    let st: Stats | undefined;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      return undefined; // ENOTDIR, ELOOP, EACCES: nothing servable there
    }
    if (st === undefined || !st.isFile()) {
      this.cache.delete(path);
      return undefined;
    }
    const cached = this.cache.get(path);
    if (cached !== undefined && sameFile(cached, st)) return cached;
    const inFlight = this.loading.get(path);
    if (inFlight !== undefined) return inFlight;
    const pending = this.load(root, path, st).finally(() => this.loading.delete(path));
    this.loading.set(path, pending);
    return pending;
  }

  private async load(root: string, path: string, st: Stats): Promise<TileFile | undefined> {
    let realPath: string;
    try {
      realPath = await realpath(path);
    } catch {
      return undefined;
    }
    if (!isInside(root, realPath)) {
      this.cache.delete(path);
      return undefined;
    }
    let body: Buffer | undefined;
    if (st.size <= this.maxFileBytes) {
      const bytes = await readFile(realPath).catch(() => undefined);
      // A file rewritten between stat and read: serve from disk now, cache on a later request.
      if (bytes !== undefined && bytes.length === st.size) body = bytes;
    }
    const file: TileFile = {
      path,
      realPath,
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      etag: `"${st.ino.toString(36)}-${st.size.toString(36)}-${Math.round(st.mtimeMs * 1000).toString(36)}"`,
      lastModified: st.mtime.toUTCString(),
      policy: contentPolicyFor(path),
      body,
      compressed: new Map(),
    };
    if (body !== undefined || st.size > this.maxFileBytes) {
      this.cache.set(path, file, ENTRY_OVERHEAD + (body?.length ?? 0));
    }
    return file;
  }

  /** Whether `file` is served compressed at all (decides Vary and the compressed path). */
  static compressible(file: TileFile): boolean {
    return file.policy.compressible && file.size >= MIN_COMPRESS_BYTES;
  }

  /** The cached compressed body of a cached file, computed once off the event loop. */
  compressedBody(file: TileFile, encoding: "br" | "gzip"): Promise<Buffer | undefined> {
    const existing = file.compressed.get(encoding);
    if (existing !== undefined) return existing;
    const body = file.body;
    if (body === undefined) return Promise.resolve(undefined);
    const pending = (
      encoding === "br"
        ? brotliAsync(body, {
            params: {
              [zlibConstants.BROTLI_PARAM_QUALITY]: 9,
              [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length,
            },
          })
        : gzipAsync(body, { level: 9 })
    ).then(
      (out) => {
        if (out.length > body.length * (1 - MIN_SAVING)) return undefined;
        this.cache.addWeight(file.path, file, out.length);
        return out;
      },
      () => undefined,
    );
    file.compressed.set(encoding, pending);
    return pending;
  }

  clear(): void {
    this.cache.clear();
  }
}
