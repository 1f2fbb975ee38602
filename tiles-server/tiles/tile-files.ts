import {
  close,
  closeSync,
  fstat,
  fstatSync,
  open,
  openSync,
  read,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from "node:fs";
import { totalmem } from "node:os";
import { sep } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, gzip, constants as zlibConstants } from "node:zlib";
import { type ContentPolicy, contentPolicyFor } from "./content-types.ts";

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

export interface TileFileCacheOptions {
  /**
   * Bytes of file bodies and compressed variants kept in memory. Default: env
   * `CIM_TILE_CACHE_MB`, else 1/8 of the machine's memory, at least 64 MiB and at most 1 GiB.
   */
  maxBytes?: number;
  /** Files up to this size are served from memory; larger ones are streamed from disk (default 1 MiB). */
  maxFileBytes?: number;
  /**
   * Files whose metadata (real path, validators, prebuilt headers) is remembered, whether or
   * not their body is in memory (default 100,000; ~1 KB each).
   */
  maxEntries?: number;
  /**
   * Read uncached bodies with blocking calls while such reads stay fast (default true); false
   * always uses the thread pool, e.g. for a layer folder on a network file system.
   */
  syncReads?: boolean;
  /** A blocking read slower than this (ms) sends reads to the thread pool for a second (default 2). */
  slowReadMs?: number;
}

const MIB = 1024 * 1024;
const MIN_DEFAULT_BYTES = 64 * MIB;
const MAX_DEFAULT_BYTES = 1024 * MIB;

/**
 * Body cache size when the caller gives none: `CIM_TILE_CACHE_MB` (0 disables body caching),
 * else 1/8 of RAM within [64 MiB, 1 GiB]. A tile working set larger than the cache thrashes it
 * (every miss costs open/read/close and an allocation), so the default scales with the machine.
 */
export function defaultTileCacheBytes(env: NodeJS.ProcessEnv = process.env, memory = totalmem()): number {
  const raw = env.CIM_TILE_CACHE_MB;
  if (raw !== undefined && raw.trim() !== "") {
    const mb = Number(raw);
    if (!Number.isFinite(mb) || mb < 0) {
      throw new Error(`CIM_TILE_CACHE_MB must be a number of MiB >= 0, got "${raw}"`);
    }
    return Math.floor(mb * MIB);
  }
  return Math.min(MAX_DEFAULT_BYTES, Math.max(MIN_DEFAULT_BYTES, Math.floor(memory / 8)));
}

const STAT_OPTIONS = { throwIfNoEntry: false } as const;

/** Below this, compression framing costs about as much as it saves. */
const MIN_COMPRESS_BYTES = 256;
/** A compressed variant is only used when it saves at least this fraction. */
const MIN_SAVING = 0.1;
/** Rough memory cost of a cached body beyond its bytes (Buffer object, map slot). */
const BODY_OVERHEAD = 256;
/**
 * Bodies that are not in memory are read with blocking calls (open, fstat, read, close) while
 * those are fast. For a page-cached file that is the cheapest way: measured on the bench
 * machine, ~70 µs of CPU for 400 KB, against 150-300 µs through the libuv thread pool (four
 * round trips with thread wake-ups, contending with the event loop on a small machine), and the
 * loop has nothing better to do meanwhile than wait for that copy anyway. The risk is a read
 * that has to wait for the disk: one that takes longer than SLOW_READ_MS switches reads to the
 * thread pool for ASYNC_PERIOD_MS, so a cold disk does not stall every connection.
 */
const SLOW_READ_MS = 2;
const ASYNC_PERIOD_MS = 1000;
/** Frequencies saturate here; aging halves them, so a burst long ago stops counting. */
const MAX_FREQUENCY = 255;
/** Admission displaces at most this many bodies; a body needing more is not cached. */
const MAX_VICTIMS = 32;
/** Admission inspects at most this many bodies (recently used ones get a second chance). */
const MAX_SCAN = 256;
/** Scratch buffers (bodies read but not cached) come in power-of-two sizes from this one up. */
const MIN_SCRATCH = 16 * 1024;
/** Free scratch buffers kept per size class. */
const SCRATCH_PER_CLASS = 8;

type CompressedEncoding = "br" | "gzip";

/** A compressed representation; `headers` is a slot for the handler's prebuilt response headers. */
export interface CompressedBody {
  readonly body: Buffer;
  headers?: string[];
}

/**
 * Facts about one served file, valid while the stat() of its requested path reports the same
 * device, inode, size and mtime. Kept for up to `maxEntries` files independently of the body
 * cache, so a body miss costs a read, not a path resolution.
 */
export class TileFile {
  /** Body in memory (admitted to the body cache); undefined means read or stream it from disk. */
  body: Buffer | undefined = undefined;
  /** Compressed variants of the cached body; resolve to undefined when compression does not pay. */
  compressed: Map<CompressedEncoding, Promise<CompressedBody | undefined>> | undefined = undefined;
  /** Slot for the handler's prebuilt headers of a full identity 200 answer. */
  okHeaders: string[] | undefined = undefined;
  /** Requests seen (aged), used to decide body admission. */
  frequency = 0;
  /**
   * Recency bits (CLOCK, "second chance"): set on use, cleared when eviction passes over the
   * entry, which then moves to the young end instead of being evicted. Cheaper on the hit path
   * than moving the entry in its map on every request.
   */
  usedMeta = false;
  usedBody = false;
  /** Bytes charged to the body cache for body + compressed variants (0 when not cached). */
  weight = 0;
  /** Thread-pool read of a body to be cached, in progress: shared by the requests meanwhile. */
  loading: Promise<Buffer | undefined> | undefined = undefined;
  readonly etag: string;
  readonly lastModified: string;
  readonly policy: ContentPolicy;
  /** Whether the file is served compressed at all (decides Vary and the compressed path). */
  readonly compressible: boolean;

  constructor(
    /** Requested path (root + segments): the cache key, validated by stat() on every request. */
    readonly path: string,
    /** Canonical path, checked to be inside the layer root; bodies are read from here. */
    readonly realPath: string,
    readonly size: number,
    readonly mtimeMs: number,
    readonly ino: number,
    readonly dev: number,
    mtime: Date,
  ) {
    this.etag = `"${ino.toString(36)}-${size.toString(36)}-${Math.round(mtimeMs * 1000).toString(36)}"`;
    this.lastModified = mtime.toUTCString();
    this.policy = contentPolicyFor(path);
    this.compressible = this.policy.compressible && size >= MIN_COMPRESS_BYTES;
  }

  matches(st: Stats): boolean {
    return this.size === st.size && this.mtimeMs === st.mtimeMs && this.ino === st.ino && this.dev === st.dev;
  }
}

export interface TileCacheStats {
  /** Files whose metadata is remembered. */
  files: number;
  /** Files whose body is in memory, and the bytes charged for them (bodies + compressed variants). */
  bodies: number;
  bodyBytes: number;
  maxBytes: number;
  /** Body requests answered from memory / read from disk since start. */
  bodyHits: number;
  bodyMisses: number;
  /** Bodies read from disk that the admission policy did not cache. */
  rejected: number;
  /** Path resolutions (realpath + containment check) since start. */
  resolutions: number;
}

function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Fills `buffer` from offset 0 of `fd`; false on a short read (the file shrank). */
function readAllSync(fd: number, buffer: Buffer): boolean {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

function readAt(fd: number, buffer: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, offset, buffer.length - offset, offset, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/**
 * Resolves tile files under layer roots. Two caches:
 * - metadata (real path checked against the root, validators, headers) for up to `maxEntries`
 *   files, LRU; each request still costs one stat() of the requested path, so an edit on
 *   disk, a replaced file or a re-pointed symlink is seen at once and re-resolved;
 * - bodies of files up to `maxFileBytes`, LRU bounded by bytes, with frequency-based admission
 *   (TinyLFU-like): while there is room every body read is kept; once full, a body only
 *   displaces bodies requested less often than itself, so a stream of one-off requests does
 *   not flush the hot tiles, and a working set larger than the cache keeps a stable part of it
 *   in memory instead of evicting every body just before it is asked for again.
 */
export class TileFileStore {
  private readonly metas = new Map<string, TileFile>();
  /** Files with a cached body, least recently used first. */
  private readonly bodies = new Map<string, TileFile>();
  private bodyBytes = 0;
  readonly maxBytes: number;
  private readonly maxFileBytes: number;
  private readonly maxEntries: number;
  private accesses = 0;
  /** performance.now() until which bodies are read through the thread pool (see SLOW_READ_MS). */
  private asyncUntil = 0;
  private readonly syncReads: boolean;
  private readonly slowReadMs: number;
  private counters = { bodyHits: 0, bodyMisses: 0, rejected: 0, resolutions: 0 };
  /**
   * Bodies that are not cached are read into recycled buffers: a freshly allocated buffer of
   * a few hundred KB costs more in page faults (and later GC) than the read itself. At most
   * SCRATCH_PER_CLASS free buffers per power-of-two size up to maxFileBytes (~16 MiB in all).
   */
  private readonly scratch = new Map<number, Buffer[]>();
  /** Scratch views handed out by body(), to their whole pooled buffer; see release(). */
  private readonly lent = new WeakMap<Buffer, Buffer>();

  constructor(opts: TileFileCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? defaultTileCacheBytes();
    this.maxFileBytes = opts.maxFileBytes ?? MIB;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 100_000);
    this.syncReads = opts.syncReads ?? true;
    this.slowReadMs = opts.slowReadMs ?? SLOW_READ_MS;
  }

  /**
   * The file at `root/segments...` (`relPath` = segments joined with the platform separator),
   * or undefined when it is missing, not a regular file, or resolves (through a symlink)
   * outside the canonical `root`. Synchronous: a stat of a page-cached inode costs
   * microseconds, far less than a thread-pool round trip, and the path resolution of a file
   * seen for the first time (or changed) is a handful of lstat calls.
   */
  open(root: string, relPath: string): TileFile | undefined {
    const path = root + sep + relPath;
    let st: Stats | undefined;
    try {
      st = statSync(path, STAT_OPTIONS);
    } catch {
      return undefined; // ENOTDIR, ELOOP, EACCES: nothing servable there
    }
    let file = this.metas.get(path);
    if (st === undefined || !st.isFile()) {
      if (file !== undefined) this.forget(file);
      return undefined;
    }
    if (file?.matches(st)) {
      file.usedMeta = true;
    } else {
      if (file !== undefined) this.forget(file);
      file = this.resolve(root, path, st);
      if (file === undefined) return undefined;
      if (this.metas.size >= this.maxEntries) this.evictMeta();
      this.metas.set(path, file);
    }
    if (file.frequency < MAX_FREQUENCY) file.frequency++;
    if (++this.accesses >= this.agingPeriod()) this.age();
    return file;
  }

  /** Forgets the least recently used file (its body too), giving recently used ones a second chance. */
  private evictMeta(): void {
    for (const file of this.metas.values()) {
      if (!file.usedMeta) {
        this.forget(file);
        return;
      }
      file.usedMeta = false;
      this.metas.delete(file.path);
      this.metas.set(file.path, file);
    }
  }

  private resolve(root: string, path: string, st: Stats): TileFile | undefined {
    this.counters.resolutions++;
    let realPath: string;
    try {
      // The libc realpath: one call instead of an lstat per component from JS.
      realPath = realpathSync.native(path);
    } catch {
      return undefined;
    }
    if (!isInside(root, realPath)) return undefined;
    return new TileFile(path, realPath, st.size, st.mtimeMs, st.ino, st.dev, st.mtime);
  }

  /**
   * The whole body of a file of at most `maxFileBytes`: from memory, else read from disk now,
   * usually synchronously (see SLOW_READ_MS), into a buffer the cache keeps if the admission
   * policy agrees, else into a recycled scratch buffer (pass it to release() once the response
   * no longer needs it). Undefined: the file is larger (stream it), or it changed on disk
   * since `open()` validated it, which also drops its metadata: open it again.
   */
  body(file: TileFile): Buffer | Promise<Buffer | undefined> | undefined {
    if (file.body !== undefined) {
      this.counters.bodyHits++;
      file.usedBody = true;
      return file.body;
    }
    if (file.size > this.maxFileBytes) return undefined;
    if (file.loading !== undefined) return file.loading;
    this.counters.bodyMisses++;
    const victims = this.victimsFor(file);
    if (victims === undefined) this.counters.rejected++;
    const started = performance.now();
    if (this.syncReads && started >= this.asyncUntil) {
      const buffer = victims !== undefined ? Buffer.allocUnsafeSlow(file.size) : this.borrow(file.size);
      const ok = this.readSync(file, buffer);
      const finished = performance.now();
      if (finished - started > this.slowReadMs) this.asyncUntil = finished + ASYNC_PERIOD_MS;
      if (!ok) {
        this.release(buffer);
        return undefined;
      }
      if (victims !== undefined) this.admit(file, buffer, victims);
      return buffer;
    }
    if (victims === undefined) {
      const buffer = this.borrow(file.size);
      return this.readAsync(file, buffer).then((ok) => {
        if (ok) return buffer;
        this.release(buffer);
        return undefined;
      });
    }
    // Shared by the requests that arrive while it loads.
    const buffer = Buffer.allocUnsafeSlow(file.size);
    const loading = this.readAsync(file, buffer).then((ok) => {
      file.loading = undefined;
      if (!ok) return undefined;
      // The cache changed while reading: decide again.
      const now = this.isCurrent(file) ? this.victimsFor(file) : undefined;
      if (now !== undefined) this.admit(file, buffer, now);
      return buffer;
    });
    file.loading = loading;
    return loading;
  }

  /** Hands a body obtained from body() back once nothing references it (no-op for cached bodies). */
  release(body: Buffer): void {
    const whole = this.lent.get(body);
    if (whole === undefined) return;
    this.lent.delete(body);
    const free = this.scratch.get(whole.length);
    if (free === undefined) this.scratch.set(whole.length, [whole]);
    else if (free.length < SCRATCH_PER_CLASS) free.push(whole);
  }

  private borrow(size: number): Buffer {
    let capacity = MIN_SCRATCH;
    while (capacity < size) capacity *= 2;
    const whole = this.scratch.get(capacity)?.pop() ?? Buffer.allocUnsafeSlow(capacity);
    const view = whole.subarray(0, size);
    this.lent.set(view, whole);
    return view;
  }

  /** False when the file is gone or is no longer the inode/size/mtime `file` describes. */
  isCurrent(file: TileFile): boolean {
    return this.metas.get(file.path) === file;
  }

  /** Reads the whole file into `buffer` (its exact size); false (and metadata dropped) if it changed. */
  private readSync(file: TileFile, buffer: Buffer): boolean {
    let fd: number;
    try {
      fd = openSync(file.realPath, "r");
    } catch {
      this.forget(file);
      return false;
    }
    try {
      // The opened inode must be the one validated (and resolved inside the root).
      if (file.matches(fstatSync(fd)) && readAllSync(fd, buffer)) return true;
    } catch {
      // unreadable now: treated as changed
    } finally {
      closeSync(fd);
    }
    this.forget(file);
    return false;
  }

  private async readAsync(file: TileFile, buffer: Buffer): Promise<boolean> {
    let fd: number;
    try {
      fd = await openAsync(file.realPath, "r");
    } catch {
      this.forget(file);
      return false;
    }
    try {
      if (file.matches(await fstatAsync(fd))) {
        let done = 0;
        while (done < buffer.length) {
          const n = await readAt(fd, buffer, done);
          if (n === 0) break;
          done += n;
        }
        if (done === buffer.length) return true;
      }
    } catch {
      // unreadable now: treated as changed
    } finally {
      await closeAsync(fd).catch(() => {});
    }
    this.forget(file);
    return false;
  }

  /**
   * Admission (TinyLFU-like): the bodies that caching `file` would displace, or undefined when
   * it should not be cached. A body is cached when it fits in the free room, or when it is
   * requested more often than each least recently used body it would displace. Recently used
   * bodies passed over get their second chance (moved to the young end).
   */
  private victimsFor(file: TileFile): TileFile[] | undefined {
    const weight = file.size + BODY_OVERHEAD;
    if (weight > this.maxBytes) return undefined;
    let excess = this.bodyBytes + weight - this.maxBytes;
    const victims: TileFile[] = [];
    if (excess <= 0) return victims;
    let scanned = 0;
    for (const victim of this.bodies.values()) {
      if (++scanned > MAX_SCAN) return undefined;
      if (victim.usedBody) {
        victim.usedBody = false;
        this.bodies.delete(victim.path);
        this.bodies.set(victim.path, victim);
        continue;
      }
      if (victim.frequency >= file.frequency || victims.length === MAX_VICTIMS) return undefined;
      victims.push(victim);
      excess -= victim.weight;
      if (excess <= 0) return victims;
    }
    return undefined;
  }

  /** Caches `body` for `file`, displacing the `victims` victimsFor() chose. */
  private admit(file: TileFile, body: Buffer, victims: TileFile[]): void {
    if (file.body !== undefined) return;
    for (const victim of victims) this.dropBody(victim);
    const weight = body.length + BODY_OVERHEAD;
    file.body = body;
    file.weight = weight;
    file.usedBody = false;
    this.bodyBytes += weight;
    this.bodies.set(file.path, file);
  }

  private dropBody(file: TileFile): void {
    if (file.body === undefined) return;
    this.bodies.delete(file.path);
    this.bodyBytes -= file.weight;
    file.weight = 0;
    file.body = undefined;
    file.compressed = undefined;
  }

  /** Drops metadata and body of `file` (changed, removed, or evicted). */
  private forget(file: TileFile): void {
    this.dropBody(file);
    if (this.metas.get(file.path) === file) this.metas.delete(file.path);
  }

  /** Aging window: a few requests per remembered file, so frequencies reflect recent demand. */
  private agingPeriod(): number {
    return Math.max(10_000, 8 * this.metas.size);
  }

  private age(): void {
    this.accesses = 0;
    for (const file of this.metas.values()) file.frequency >>= 1;
  }

  /**
   * The compressed variant of `body` (a body of `file`), or undefined when compression does not
   * pay. Computed off the event loop at a high quality; kept with the cached body, recomputed
   * (same bytes, so the same strong ETag holds) when the body was not admitted.
   */
  compressedBody(
    file: TileFile,
    body: Buffer,
    encoding: CompressedEncoding,
  ): Promise<CompressedBody | undefined> {
    const cached = file.body === body;
    const existing = cached ? file.compressed?.get(encoding) : undefined;
    if (existing !== undefined) return existing;
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
      (out): CompressedBody | undefined => {
        if (out.length > body.length * (1 - MIN_SAVING)) return undefined;
        if (cached && file.body === body) this.addWeight(file, out.length);
        return { body: out };
      },
      () => undefined,
    );
    if (cached) {
      file.compressed ??= new Map();
      file.compressed.set(encoding, pending);
    }
    return pending;
  }

  /** Charges a compressed variant to its body, evicting the oldest other bodies if over budget. */
  private addWeight(file: TileFile, extra: number): void {
    file.weight += extra;
    this.bodyBytes += extra;
    for (const victim of this.bodies.values()) {
      if (this.bodyBytes <= this.maxBytes) break;
      if (victim !== file) this.dropBody(victim);
    }
  }

  stats(): TileCacheStats {
    return {
      files: this.metas.size,
      bodies: this.bodies.size,
      bodyBytes: this.bodyBytes,
      maxBytes: this.maxBytes,
      ...this.counters,
    };
  }

  clear(): void {
    for (const file of this.bodies.values()) {
      file.body = undefined;
      file.compressed = undefined;
      file.weight = 0;
    }
    this.bodies.clear();
    this.metas.clear();
    this.bodyBytes = 0;
  }
}
