import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "./support/db-targets.ts";
import { rawHttp, request } from "./support/http-client.ts";
import {
  LARGE_FILE,
  LARGE_SIZE,
  LARGE_TEXT_FILE,
  type LayerFolderFixture,
  MEDIUM_FILE,
  MEDIUM_SIZE,
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
