import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LayerCatalog } from "../../tiles-server/catalog/layer-catalog.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { defaultTileCacheBytes, type TileFile, TileFileStore } from "../../tiles-server/tiles/tile-files.ts";
import { createTileHandler } from "../../tiles-server/tiles/tile-handler.ts";
import { DB_TARGETS, type DbEnvironment } from "./support/db-targets.ts";
import { rawHttp, request } from "./support/http-client.ts";
import {
  LARGE_FILE,
  LARGE_SIZE,
  LARGE_TEXT_FILE,
  type LayerFolderFixture,
  MEDIUM_FILE,
  MEDIUM_SIZE,
  patternBytes,
  SECRET,
  SMALL_FILES,
  writeLayerFolder,
} from "./support/layer-fixtures.ts";

const TOKEN = "tiles-test-token";
const L = "/tiles/city";

describe.each(DB_TARGETS)("tile serving with $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;
  let fixture: LayerFolderFixture;

  const file = (path: string) => readFileSync(join(fixture.root, path));

  beforeAll(async () => {
    env = await target.create();
    fixture = writeLayerFolder(env.tempDir, "city");
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
    await server.catalog.register({ path: fixture.root, id: "city" });
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it("serves every tile file type with its content type and exact bytes", async () => {
    const all = { "tileset.json": { bytes: file("tileset.json"), type: "application/json" }, ...SMALL_FILES };
    for (const [path, { bytes, type }] of Object.entries(all)) {
      const res = await request(server.url, `${L}/${path.split("/").map(encodeURIComponent).join("/")}`);
      expect(res.status, path).toBe(200);
      expect(res.headers["content-type"], path).toBe(type);
      expect(res.headers["content-encoding"], path).toBeUndefined();
      expect(res.body.equals(bytes), path).toBe(true);
      expect(res.headers["accept-ranges"], path).toBe("bytes");
    }
  });

  it("compresses JSON, subtree, glb and bin with gzip or brotli as the client asks", async () => {
    for (const path of ["tileset.json", "content/a.glb", "content/s.subtree", "content/d.bin"]) {
      const original = file(path);
      const br = await request(server.url, `${L}/${path}`, {
        headers: { "accept-encoding": "gzip, deflate, br" },
      });
      expect(br.headers["content-encoding"], path).toBe("br");
      expect(br.headers.vary, path).toMatch(/accept-encoding/i);
      expect(br.body.length, path).toBeLessThan(original.length);
      expect(Number(br.headers["content-length"]), path).toBe(br.body.length);
      expect(brotliDecompressSync(br.body).equals(original), path).toBe(true);

      const gz = await request(server.url, `${L}/${path}`, { headers: { "accept-encoding": "gzip" } });
      expect(gz.headers["content-encoding"], path).toBe("gzip");
      expect(gunzipSync(gz.body).equals(original), path).toBe(true);

      const refused = await request(server.url, `${L}/${path}`, {
        headers: { "accept-encoding": "br;q=0, gzip" },
      });
      expect(refused.headers["content-encoding"], path).toBe("gzip");
    }
  });

  it("never compresses images, even highly compressible ones", async () => {
    for (const path of ["textures/i.jpg", "textures/i.png", "textures/i.ktx2", "textures/i.webp"]) {
      const res = await request(server.url, `${L}/${path}`, { headers: { "accept-encoding": "gzip, br" } });
      expect(res.status, path).toBe(200);
      expect(res.headers["content-encoding"], path).toBeUndefined();
      expect(res.body.equals(file(path)), path).toBe(true);
    }
  });

  it("streams large files, compressing them on the fly", async () => {
    const plain = await request(server.url, `${L}/${LARGE_FILE}`);
    expect(plain.status).toBe(200);
    expect(Number(plain.headers["content-length"])).toBe(LARGE_SIZE);
    expect(plain.body.equals(file(LARGE_FILE))).toBe(true);

    const br = await request(server.url, `${L}/${LARGE_TEXT_FILE}`, { headers: { "accept-encoding": "br" } });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.body.length).toBeLessThan(100_000);
    expect(brotliDecompressSync(br.body).equals(file(LARGE_TEXT_FILE))).toBe(true);
    const gz = await request(server.url, `${L}/${LARGE_TEXT_FILE}`, {
      headers: { "accept-encoding": "gzip" },
    });
    expect(gunzipSync(gz.body).equals(file(LARGE_TEXT_FILE))).toBe(true);
  });

  it("sends a strong ETag, answers 304 to If-None-Match, and changes it when the file changes", async () => {
    const path = `${L}/content/t.b3dm`;
    const first = await request(server.url, path);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(etag.startsWith("W/")).toBe(false);
    expect(first.headers["last-modified"]).toBeDefined();

    const cached = await request(server.url, path, { headers: { "if-none-match": etag } });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    expect(cached.headers.etag).toBe(etag);
    const listed = await request(server.url, path, { headers: { "if-none-match": `"nope", ${etag}` } });
    expect(listed.status).toBe(304);
    const other = await request(server.url, path, { headers: { "if-none-match": '"something-else"' } });
    expect(other.status).toBe(200);

    // Compressed bytes are a different representation, so they carry a different strong ETag.
    const gz = await request(server.url, path, { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers.etag).not.toBe(etag);
    expect(gz.headers.etag.startsWith("W/")).toBe(false);
    const gz304 = await request(server.url, path, {
      headers: { "accept-encoding": "gzip", "if-none-match": gz.headers.etag },
    });
    expect(gz304.status).toBe(304);

    const edited = Buffer.from("edited tile content, different length");
    writeFileSync(join(fixture.root, "content/t.b3dm"), edited);
    const future = new Date(Date.now() + 5000);
    utimesSync(join(fixture.root, "content/t.b3dm"), future, future);
    const after = await request(server.url, path, { headers: { "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.body.equals(edited)).toBe(true);
  });

  it("revalidates JSON and lets clients cache binary content", async () => {
    const tileset = await request(server.url, `${L}/tileset.json`);
    expect(tileset.headers["cache-control"]).toBe("no-cache");
    const glb = await request(server.url, `${L}/content/a.glb`);
    expect(glb.headers["cache-control"]).toMatch(/public, max-age=\d+/);
  });

  for (const [label, path, size] of [
    ["in-memory", MEDIUM_FILE, MEDIUM_SIZE],
    ["streamed", LARGE_FILE, LARGE_SIZE],
  ] as const) {
    it(`serves byte ranges of a ${label} file (206) and 416 when unsatisfiable`, async () => {
      const bytes = file(path);
      const first = await request(server.url, `${L}/${path}`, {
        headers: { range: "bytes=0-99", "accept-encoding": "gzip, br" },
      });
      expect(first.status).toBe(206);
      expect(first.headers["content-range"]).toBe(`bytes 0-99/${size}`);
      expect(first.headers["content-encoding"]).toBeUndefined();
      expect(Number(first.headers["content-length"])).toBe(100);
      expect(first.body.equals(bytes.subarray(0, 100))).toBe(true);

      const middle = await request(server.url, `${L}/${path}`, { headers: { range: "bytes=1000-250999" } });
      expect(middle.status).toBe(206);
      expect(middle.body.equals(bytes.subarray(1000, 251000))).toBe(true);

      const open = await request(server.url, `${L}/${path}`, { headers: { range: `bytes=${size - 10}-` } });
      expect(open.status).toBe(206);
      expect(open.headers["content-range"]).toBe(`bytes ${size - 10}-${size - 1}/${size}`);
      expect(open.body.equals(bytes.subarray(size - 10))).toBe(true);

      const suffix = await request(server.url, `${L}/${path}`, { headers: { range: "bytes=-500" } });
      expect(suffix.status).toBe(206);
      expect(suffix.body.equals(bytes.subarray(size - 500))).toBe(true);

      const beyondEnd = await request(server.url, `${L}/${path}`, {
        headers: { range: `bytes=${size - 5}-${size + 100}` },
      });
      expect(beyondEnd.status).toBe(206);
      expect(beyondEnd.body.length).toBe(5);

      const unsatisfiable = await request(server.url, `${L}/${path}`, {
        headers: { range: `bytes=${size}-` },
      });
      expect(unsatisfiable.status).toBe(416);
      expect(unsatisfiable.headers["content-range"]).toBe(`bytes */${size}`);

      const staleIfRange = await request(server.url, `${L}/${path}`, {
        headers: { range: "bytes=0-9", "if-range": '"old-etag"' },
      });
      expect(staleIfRange.status).toBe(200);
      expect(staleIfRange.body.length).toBe(size);
    });
  }

  it("answers HEAD with the GET headers and no body", async () => {
    const head = await request(server.url, `${L}/${LARGE_FILE}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers["content-length"])).toBe(LARGE_SIZE);
    expect(head.headers["content-type"]).toBe("application/octet-stream");
    expect(head.headers.etag).toBeDefined();
    expect(head.body.length).toBe(0);
    const headGz = await request(server.url, `${L}/tileset.json`, {
      method: "HEAD",
      headers: { "accept-encoding": "gzip" },
    });
    expect(headGz.status).toBe(200);
    expect(headGz.headers["content-encoding"]).toBe("gzip");
    expect(headGz.body.length).toBe(0);
  });

  it("sends CORS headers on tiles and answers preflight", async () => {
    const get = await request(server.url, `${L}/content/a.glb`, {
      headers: { origin: "http://elsewhere.example" },
    });
    expect(get.headers["access-control-allow-origin"]).toBe("*");
    expect(get.headers["access-control-expose-headers"]).toMatch(/Content-Range/);
    const missing = await request(server.url, `${L}/content/none.glb`);
    expect(missing.status).toBe(404);
    expect(missing.headers["access-control-allow-origin"]).toBe("*");
    const preflight = await request(server.url, `${L}/content/a.glb`, {
      method: "OPTIONS",
      headers: { origin: "http://elsewhere.example", "access-control-request-headers": "range" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("*");
    expect(preflight.headers["access-control-allow-headers"]?.toLowerCase()).toContain("range");
  });

  it("returns 404 for unknown layers and files, 405 for writes", async () => {
    expect((await request(server.url, "/tiles/unknown-layer/tileset.json")).status).toBe(404);
    expect((await request(server.url, `${L}/content/missing.glb`)).status).toBe(404);
    expect((await request(server.url, `${L}/content`)).status).toBe(404);
    expect((await request(server.url, `${L}/`)).status).toBe(400);
    expect((await request(server.url, `${L}/.hidden`)).status).toBe(404);
    expect((await request(server.url, `${L}/content/a.glb`, { method: "PUT", body: "x" })).status).toBe(405);
  });

  it("follows symlinks that stay inside the layer folder", async () => {
    const res = await request(server.url, `${L}/content/alias.glb`);
    expect(res.status).toBe(200);
    expect(res.body.equals(file("content/a.glb"))).toBe(true);
  });

  it("stops serving a symlink re-pointed outside the layer after it was served and cached", async () => {
    const link = join(fixture.root, "content", "moving.glb");
    symlinkSync(join(fixture.root, "content", "a.glb"), link);
    for (let i = 0; i < 3; i++) {
      const res = await request(server.url, `${L}/content/moving.glb`);
      expect(res.status).toBe(200);
      expect(res.body.equals(file("content/a.glb"))).toBe(true);
    }
    unlinkSync(link);
    symlinkSync(fixture.secretFile, link);
    const res = await request(server.url, `${L}/content/moving.glb`);
    expect([403, 404]).toContain(res.status);
    expect(res.body.toString("latin1")).not.toContain(SECRET);
  });

  it("never serves a file outside the layer folder, however the path is spelled", async () => {
    const attempts: (string | Buffer)[] = [
      `${L}/../../../../../../etc/passwd`,
      `${L}/../city-secret.txt`,
      `${L}/content/../../city-secret.txt`,
      `${L}/%2e%2e/city-secret.txt`,
      `${L}/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd`,
      `${L}/.%2e/city-secret.txt`,
      `${L}/..%2fcity-secret.txt`,
      `${L}/..%2Fcity-secret.txt`,
      `${L}/%2e%2e%2fcity-secret.txt`,
      `${L}/content%2f..%2f..%2fcity-secret.txt`,
      `${L}/..\\city-secret.txt`,
      `${L}/content\\..\\..\\city-secret.txt`,
      `${L}/..%5ccity-secret.txt`,
      `${L}//etc/passwd`,
      `${L}/%2fetc%2fpasswd`,
      `/tiles/city/${encodeURIComponent(fixture.secretFile)}`,
      `${L}/${fixture.secretFile}`,
      `${L}/%252e%252e/city-secret.txt`,
      `${L}/tileset.json%00/../../city-secret.txt`,
      `${L}/city-secret.txt%00.json`,
      Buffer.concat([Buffer.from(`${L}/..`), Buffer.from([0]), Buffer.from("/city-secret.txt")]),
      `/tiles/../tiles/city/../city-secret.txt`,
      `/tiles/%2e%2e/etc/passwd`,
      `${L}/content/escape.glb`,
      `${L}/escape-dir/secret.txt`,
      `${L}/passwd.json`,
      `/tiles/..%2f..%2f..%2fetc/passwd`,
    ];
    for (const attempt of attempts) {
      const res = await rawHttp(server.url, attempt);
      const label = attempt.toString("latin1");
      expect([400, 403, 404], label).toContain(res.status);
      expect(res.body.toString("latin1"), label).not.toContain(SECRET);
      expect(res.body.toString("latin1"), label).not.toContain("root:x:0:0");
    }
  });
});

/**
 * Sends GETs for `paths` pipelined on one connection and parses the answers (all with
 * Content-Length). The client reads nothing until `whileHeld` has run, so answers queue up
 * on the server behind the first one.
 */
function pipelined(
  baseUrl: string,
  paths: string[],
  whileHeld: () => Promise<unknown>,
): Promise<{ status: number; body: Buffer }[]> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.pause();
    const chunks: Buffer[] = [];
    let received = 0;
    /** Bytes needed before parsing again is worth it (the end of a known incomplete body). */
    let needed = 0;
    const parse = (): { status: number; body: Buffer }[] | undefined => {
      const data = Buffer.concat(chunks);
      chunks.splice(0, chunks.length, data);
      const answers: { status: number; body: Buffer }[] = [];
      let at = 0;
      while (answers.length < paths.length) {
        const headEnd = data.indexOf("\r\n\r\n", at);
        if (headEnd === -1) return undefined;
        const head = data.subarray(at, headEnd).toString("latin1");
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
        if (Number.isNaN(length)) throw new Error(`no content-length in ${head}`);
        if (data.length < headEnd + 4 + length) {
          needed = headEnd + 4 + length;
          return undefined;
        }
        answers.push({
          status: Number(head.split(" ")[1]),
          body: data.subarray(headEnd + 4, headEnd + 4 + length),
        });
        at = headEnd + 4 + length;
      }
      return answers;
    };
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < needed) return;
      try {
        const answers = parse();
        if (answers !== undefined) {
          socket.destroy();
          resolve(answers);
        }
      } catch (err) {
        socket.destroy();
        reject(err);
      }
    });
    socket.on("error", reject);
    socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: test\r\n\r\n`).join(""));
    whileHeld().then(() => socket.resume(), reject);
  });
}

/** Reads a file through the store the way the handler does (open, then body), returning a copy. */
function readThrough(store: TileFileStore, root: string, rel: string): { file: TileFile; bytes: Buffer } {
  const file = store.open(root, rel.split("/").join(sep));
  if (file === undefined) throw new Error(`${rel}: not servable`);
  const body = store.body(file);
  if (body === undefined || body instanceof Promise) throw new Error(`${rel}: expected a synchronous body`);
  const bytes = Buffer.from(body);
  store.release(body);
  return { file, bytes };
}

describe("tile file store (metadata and body caches)", () => {
  let parent: string;
  let root: string;
  const KB = 1024;

  beforeEach(() => {
    parent = realpathSync(mkdtempSync(join(tmpdir(), "cim-tile-store-")));
    root = join(parent, "layer");
    mkdirSync(join(root, "t"), { recursive: true });
    for (const name of ["a", "b", "c", "d", "e"]) {
      writeFileSync(join(root, "t", `${name}.glb`), Buffer.alloc(10 * KB, name));
    }
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  /** Room for three 10 KiB bodies, not four. */
  // These cases count cache hits and path resolutions of blocking reads; on a busy test machine a read can take
  // longer than the 2 ms that sends reads to the thread pool, which other tests cover.
  const syncOnly = { slowReadMs: Number.POSITIVE_INFINITY };
  const threeBodies = () => new TileFileStore({ maxBytes: 35 * KB, ...syncOnly });

  it("caches bodies while there is room, then admits only bodies asked for more often", () => {
    const store = threeBodies();
    for (const name of ["a", "b", "c"]) {
      for (let i = 0; i < 2; i++) readThrough(store, root, `t/${name}.glb`);
    }
    expect(store.stats()).toMatchObject({ bodies: 3, bodyHits: 3, bodyMisses: 3, rejected: 0 });

    // One-off requests of other files do not evict the bodies asked for twice.
    for (const name of ["d", "e"]) {
      expect(readThrough(store, root, `t/${name}.glb`).bytes.equals(Buffer.alloc(10 * KB, name))).toBe(true);
    }
    expect(store.stats()).toMatchObject({ bodies: 3, rejected: 2 });
    readThrough(store, root, "t/a.glb");
    expect(store.stats().bodyHits).toBe(4);

    // A body asked for more often than the least recently used one (b: 2 requests) takes its place.
    readThrough(store, root, "t/d.glb"); // 2nd request: ties with b, still not admitted
    expect(store.stats()).toMatchObject({ bodies: 3, rejected: 3 });
    readThrough(store, root, "t/d.glb"); // 3rd: more than b
    expect(store.stats()).toMatchObject({ bodies: 3, rejected: 3 });
    const hits = store.stats().bodyHits;
    readThrough(store, root, "t/d.glb");
    expect(store.stats().bodyHits).toBe(hits + 1);
    readThrough(store, root, "t/b.glb");
    expect(store.stats().bodyHits).toBe(hits + 1); // b was displaced: read from disk again
    expect(store.stats().bodyBytes).toBeLessThanOrEqual(35 * KB);
  });

  it("keeps metadata when bodies are not cached: a body miss does not resolve the path again", () => {
    const store = new TileFileStore({ maxBytes: 0, ...syncOnly });
    for (let i = 0; i < 5; i++) {
      for (const name of ["a", "b", "c"]) {
        const { bytes } = readThrough(store, root, `t/${name}.glb`);
        expect(bytes.equals(Buffer.alloc(10 * KB, name)), name).toBe(true);
      }
    }
    expect(store.stats()).toMatchObject({ files: 3, bodies: 0, bodyHits: 0, bodyMisses: 15, resolutions: 3 });
  });

  it("bounds the metadata cache, keeping recently used files", () => {
    const store = new TileFileStore({ maxBytes: 0, maxEntries: 2, ...syncOnly });
    readThrough(store, root, "t/a.glb");
    readThrough(store, root, "t/b.glb");
    readThrough(store, root, "t/a.glb"); // a used again: b is the one to go
    readThrough(store, root, "t/c.glb");
    expect(store.stats()).toMatchObject({ files: 2, resolutions: 3 });
    readThrough(store, root, "t/a.glb");
    expect(store.stats().resolutions).toBe(3);
    readThrough(store, root, "t/b.glb");
    expect(store.stats()).toMatchObject({ files: 2, resolutions: 4 });
  });

  it("sees a file changed on disk: new metadata, ETag and body, also for a same-size edit", () => {
    const store = threeBodies();
    const path = join(root, "t", "a.glb");
    const first = readThrough(store, root, "t/a.glb");
    readThrough(store, root, "t/a.glb");
    expect(store.stats().bodies).toBe(1);

    writeFileSync(path, Buffer.alloc(10 * KB, "z")); // same size
    const later = new Date(Date.now() + 10_000);
    utimesSync(path, later, later);
    const edited = readThrough(store, root, "t/a.glb");
    expect(edited.file).not.toBe(first.file);
    expect(edited.file.etag).not.toBe(first.file.etag);
    expect(edited.bytes.equals(Buffer.alloc(10 * KB, "z"))).toBe(true);

    // Replaced by rename (new inode), even with the same size and mtime.
    const replacement = join(root, "t", "a.tmp");
    writeFileSync(replacement, Buffer.alloc(10 * KB, "y"));
    utimesSync(replacement, later, later);
    renameSync(replacement, path);
    const renamed = readThrough(store, root, "t/a.glb");
    expect(renamed.file.etag).not.toBe(edited.file.etag);
    expect(renamed.bytes.equals(Buffer.alloc(10 * KB, "y"))).toBe(true);

    unlinkSync(path);
    expect(store.open(root, `t${sep}a.glb`)).toBeUndefined();
    expect(store.stats().files).toBe(0);
  });

  it("re-checks containment when a cached path starts resolving outside the layer", () => {
    const store = threeBodies();
    const secret = join(parent, "secret.glb");
    writeFileSync(secret, "TOP-SECRET");
    symlinkSync(join(root, "t", "a.glb"), join(root, "t", "link.glb"));
    for (let i = 0; i < 3; i++) readThrough(store, root, "t/link.glb");

    // The link now points outside.
    unlinkSync(join(root, "t", "link.glb"));
    symlinkSync(secret, join(root, "t", "link.glb"));
    expect(store.open(root, `t${sep}link.glb`)).toBeUndefined();

    // A cached directory swapped for a symlink to an outside directory with the same file names.
    mkdirSync(join(parent, "outside"));
    writeFileSync(join(parent, "outside", "b.glb"), "TOP-SECRET");
    for (let i = 0; i < 3; i++) readThrough(store, root, "t/b.glb");
    renameSync(join(root, "t"), join(root, "old-t"));
    symlinkSync(join(parent, "outside"), join(root, "t"));
    expect(store.open(root, `t${sep}b.glb`)).toBeUndefined();
  });

  it("sizes the body cache from CIM_TILE_CACHE_MB, else from the machine's memory", () => {
    const GiB = 1024 ** 3;
    expect(defaultTileCacheBytes({ CIM_TILE_CACHE_MB: "300" }, 64 * GiB)).toBe(300 * 1024 * 1024);
    expect(defaultTileCacheBytes({ CIM_TILE_CACHE_MB: "0" }, 64 * GiB)).toBe(0);
    expect(defaultTileCacheBytes({}, 4 * GiB)).toBe(512 * 1024 * 1024);
    expect(defaultTileCacheBytes({}, 64 * GiB)).toBe(GiB);
    expect(defaultTileCacheBytes({}, 256 * 1024 * 1024)).toBe(64 * 1024 * 1024);
    expect(() => defaultTileCacheBytes({ CIM_TILE_CACHE_MB: "lots" })).toThrow(/CIM_TILE_CACHE_MB/);
    expect(new TileFileStore({ maxBytes: 5 }).maxBytes).toBe(5);
  });
});

describe.each([
  { reads: "blocking reads", syncReads: true },
  { reads: "thread-pool reads", syncReads: false },
])("tile handler with a small body cache and $reads", ({ syncReads }) => {
  let parent: string;
  let root: string;
  let server: Server;
  let url: string;
  // Several different files per scratch size class (256 KiB, 1 MiB), so a buffer recycled too
  // early would show another file's bytes.
  const HUGE = 16 * 1024 * 1024;
  const sizes = [700, 90_000, 150_000, 160_000, 200_000, 300_000, 600_000, 700_000, 900_000, 1_500_000];

  beforeAll(async () => {
    parent = realpathSync(mkdtempSync(join(tmpdir(), "cim-tile-handler-")));
    root = join(parent, "layer");
    mkdirSync(root);
    for (const [i, size] of sizes.entries())
      writeFileSync(join(root, `f${i}.glb`), patternBytes(size, i + 1));
    writeFileSync(join(root, "huge.bin"), Buffer.alloc(HUGE, 7));
    const catalog = { cachedRoot: () => root, findRoot: async () => root } as unknown as LayerCatalog;
    // Room for about one file: most reads go through recycled scratch buffers.
    const files = new TileFileStore({ maxBytes: 100_000, syncReads });
    server = createServer(createTileHandler({ catalog, files }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(parent, { recursive: true, force: true });
  });

  it("answers many concurrent requests for uncached files with the exact bytes", async () => {
    const expected = sizes.map((size, i) => patternBytes(size, i + 1));
    const requests = Array.from({ length: 80 }, (_, k) => {
      const i = (k * 7) % sizes.length;
      const headers: Record<string, string> =
        k % 4 === 0 ? { range: "bytes=100-5099" } : k % 4 === 1 ? { "accept-encoding": "gzip" } : {};
      return request(url, `/tiles/x/f${i}.glb`, { headers }).then((res) => ({ res, i, k }));
    });
    for (const { res, i, k } of await Promise.all(requests)) {
      const want = expected[i];
      if (k % 4 === 0) {
        expect(res.status, `f${i}`).toBe(206);
        expect(res.body.equals(want.subarray(100, 5100)), `f${i} range`).toBe(true);
      } else if (res.headers["content-encoding"] === "gzip") {
        expect(gunzipSync(res.body).equals(want), `f${i} gzip`).toBe(true);
      } else {
        expect(res.status, `f${i}`).toBe(200);
        expect(res.body.equals(want), `f${i}`).toBe(true);
      }
    }
  });

  it("keeps an answer's body intact while it waits to be sent", async () => {
    // Answers on one connection go out in order: while the client does not read, the answers
    // after the streamed 16 MB file wait in memory. Meanwhile another connection reads other
    // files of the same size classes; a read buffer recycled before its answer was written
    // would then carry another file's bytes.
    const order = [2, 3, 4, 6, 7, 8];
    const answers = await pipelined(
      url,
      ["/tiles/x/huge.bin", ...order.map((i) => `/tiles/x/f${i}.glb`)],
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        for (const i of [...order].reverse()) {
          const res = await request(url, `/tiles/x/f${i}.glb`);
          expect(res.body.equals(patternBytes(sizes[i], i + 1)), `f${i} meanwhile`).toBe(true);
        }
      },
    );
    expect(answers.map((a) => a.status)).toEqual([200, ...order.map(() => 200)]);
    expect(answers[0].body.length).toBe(HUGE);
    order.forEach((i, k) => {
      expect(answers[k + 1].body.equals(patternBytes(sizes[i], i + 1)), `queued answer: f${i}`).toBe(true);
    });
  });

  it("serves a file rewritten between requests with its new bytes and validators", async () => {
    const path = join(root, "f3.glb");
    const before = await request(url, "/tiles/x/f3.glb");
    const replacement = patternBytes(150_000, 99);
    writeFileSync(path, replacement);
    const later = new Date(Date.now() + 10_000);
    utimesSync(path, later, later);
    const after = await request(url, "/tiles/x/f3.glb", {
      headers: { "if-none-match": before.headers.etag },
    });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.body.equals(replacement)).toBe(true);
  });
});
