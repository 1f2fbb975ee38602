import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LayerSchema } from "../../models/layer.ts";
import { type RunningServer, registerLayerFolder, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "./support/db-targets.ts";
import { jsonRequest, type RawResponse, request } from "./support/http-client.ts";
import { manifest, TILESET, writeLayerFolder } from "./support/layer-fixtures.ts";

const TOKEN = "test-admin-token-0123456789";

function json<T = unknown>(res: RawResponse): T {
  return JSON.parse(res.body.toString("utf8")) as T;
}

describe.each(DB_TARGETS)("layer catalog API on $name", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;
  let layerRoot: string;

  /** A folder with its own tileset.json/layer.json contents, for the bad-manifest cases. */
  function folderWith(name: string, files: Record<string, string | undefined>): string {
    const dir = join(env.tempDir, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      if (text !== undefined) writeFileSync(join(dir, file), text);
    }
    return dir;
  }

  beforeAll(async () => {
    env = await target.create();
    layerRoot = writeLayerFolder(env.tempDir, "demo", { name: "Demo Buildings 北京" }).root;
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it("starts with an empty catalog and a healthy database", async () => {
    const list = await request(server.url, "/api/layers");
    expect(list.status).toBe(200);
    expect(list.headers["content-type"]).toMatch(/^application\/json/);
    expect(json(list)).toEqual([]);

    const health = await request(server.url, "/healthz");
    expect(health.status).toBe(200);
    expect(json(health)).toEqual({ status: "ok", db: "ok" });
  });

  it("rejects writes without the admin token or with a wrong one", async () => {
    const none = await jsonRequest(server.url, "/api/layers", "POST", { path: layerRoot });
    expect(none.status).toBe(401);
    expect(json<{ error: string }>(none).error).toMatch(/token/);
    const wrong = await jsonRequest(server.url, "/api/layers", "POST", { path: layerRoot }, `${TOKEN}x`);
    expect(wrong.status).toBe(401);
    const short = await jsonRequest(server.url, "/api/layers", "POST", { path: layerRoot }, "x");
    expect(short.status).toBe(401);
    const basic = await request(server.url, "/api/layers", {
      method: "POST",
      headers: { authorization: `Basic ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ path: layerRoot }),
    });
    expect(basic.status).toBe(401);
    expect(json(await request(server.url, "/api/layers"))).toEqual([]);
  });

  it("registers an ingested folder with an id derived from the manifest name (201)", async () => {
    const res = await jsonRequest(server.url, "/api/layers", "POST", { path: layerRoot }, TOKEN);
    expect(res.status).toBe(201);
    const layer = LayerSchema.parse(json(res));
    expect(layer).toMatchObject({
      id: "demo-buildings",
      name: "Demo Buildings 北京",
      type: "buildings",
      url: "/tiles/demo-buildings/tileset.json",
      crs: "EPSG:4547",
      bbox: [116.3, 39.9, 116.4, 40.0, 0, 120],
    });
    expect(Number.isNaN(Date.parse(layer.createdAt))).toBe(false);
    expect(res.headers.location).toBe("/api/layers/demo-buildings");

    const list = json<unknown[]>(await request(server.url, "/api/layers"));
    expect(list).toHaveLength(1);
    expect(LayerSchema.parse(list[0])).toEqual(layer);

    const one = await request(server.url, "/api/layers/demo-buildings");
    expect(one.status).toBe(200);
    expect(json(one)).toEqual(layer);

    const tileset = await request(server.url, layer.url);
    expect(tileset.status).toBe(200);
    expect(json(tileset)).toEqual(TILESET);
  });

  it("returns 404 JSON for an unknown layer", async () => {
    const res = await request(server.url, "/api/layers/no-such-layer");
    expect(res.status).toBe(404);
    expect(json<{ error: string }>(res).error).toContain("no-such-layer");
  });

  it("replaces a layer registered again under the same id (200)", async () => {
    const first = await jsonRequest(
      server.url,
      "/api/layers",
      "POST",
      { path: layerRoot, id: "custom-id", name: "First" },
      TOKEN,
    );
    expect(first.status).toBe(201);
    const again = await jsonRequest(
      server.url,
      "/api/layers",
      "POST",
      { path: layerRoot, id: "custom-id", name: "Second" },
      TOKEN,
    );
    expect(again.status).toBe(200);
    expect(json(again)).toMatchObject({ id: "custom-id", name: "Second" });
    const ids = json<{ id: string; name: string }[]>(await request(server.url, "/api/layers"));
    expect(ids.filter((l) => l.id === "custom-id")).toEqual([expect.objectContaining({ name: "Second" })]);
  });

  it("registers in-process through registerLayerFolder", async () => {
    const { layer, created } = await registerLayerFolder(server, { path: layerRoot, id: "in-process" });
    expect(created).toBe(true);
    expect(layer.url).toBe("/tiles/in-process/tileset.json");
    expect((await request(server.url, layer.url)).status).toBe(200);
  });

  it("rejects invalid bodies with 400 and the field at fault", async () => {
    const noPath = await jsonRequest(server.url, "/api/layers", "POST", { id: "x" }, TOKEN);
    expect(noPath.status).toBe(400);
    expect(json<{ error: string; details: unknown }>(noPath)).toMatchObject({
      error: expect.stringContaining("path"),
      details: expect.any(Array),
    });

    const badId = await jsonRequest(
      server.url,
      "/api/layers",
      "POST",
      { path: layerRoot, id: "Bad Id!" },
      TOKEN,
    );
    expect(badId.status).toBe(400);
    expect(json<{ error: string }>(badId).error).toContain("id");

    const notJson = await request(server.url, "/api/layers", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect(json<{ error: string }>(notJson).error).toMatch(/JSON/);
  });

  it("rejects folders that are not ingested layers with 400 naming the file", async () => {
    const goodTileset = JSON.stringify(TILESET);
    const goodManifest = JSON.stringify(manifest());
    const cases: { name: string; files: Record<string, string | undefined>; expected: RegExp[] }[] = [
      { name: "no-tileset", files: { "layer.json": goodManifest }, expected: [/tileset\.json/, /missing/] },
      { name: "no-manifest", files: { "tileset.json": goodTileset }, expected: [/layer\.json/, /missing/] },
      {
        name: "broken-manifest-json",
        files: { "tileset.json": goodTileset, "layer.json": "{ nope" },
        expected: [/layer\.json/, /not valid JSON/],
      },
      {
        name: "broken-tileset-json",
        files: { "tileset.json": "[1,2", "layer.json": goodManifest },
        expected: [/tileset\.json/, /not valid JSON/],
      },
      {
        name: "not-a-tileset",
        files: { "tileset.json": JSON.stringify({ hello: 1 }), "layer.json": goodManifest },
        expected: [/tileset\.json/, /asset\.version/],
      },
      {
        name: "bad-bbox",
        files: {
          "tileset.json": goodTileset,
          "layer.json": JSON.stringify({ ...manifest(), bbox: [1, 2, 3] }),
        },
        expected: [/layer\.json/, /bbox/],
      },
      {
        name: "bad-type",
        files: {
          "tileset.json": goodTileset,
          "layer.json": JSON.stringify({ ...manifest(), type: "castle" }),
        },
        expected: [/layer\.json/, /type/],
      },
    ];
    for (const c of cases) {
      const dir = folderWith(c.name, c.files);
      const res = await jsonRequest(server.url, "/api/layers", "POST", { path: dir, id: "bad-case" }, TOKEN);
      expect(res.status, c.name).toBe(400);
      const { error } = json<{ error: string }>(res);
      for (const pattern of c.expected) expect(error, c.name).toMatch(pattern);
      expect(error, c.name).toContain(dir);
    }
    const missing = await jsonRequest(
      server.url,
      "/api/layers",
      "POST",
      { path: join(env.tempDir, "does-not-exist") },
      TOKEN,
    );
    expect(missing.status).toBe(400);
    expect(json<{ error: string }>(missing).error).toContain("does-not-exist");
    expect((await request(server.url, "/api/layers/bad-case")).status).toBe(404);
  });

  it("leaves an existing layer untouched when replacing it fails", async () => {
    const before = json(await request(server.url, "/api/layers/custom-id"));
    const broken = folderWith("broken-replacement", {
      "tileset.json": JSON.stringify(TILESET),
      "layer.json": JSON.stringify({ ...manifest(), formatVersion: 2 }),
    });
    const res = await jsonRequest(
      server.url,
      "/api/layers",
      "POST",
      { path: broken, id: "custom-id" },
      TOKEN,
    );
    expect(res.status).toBe(400);
    expect(json(await request(server.url, "/api/layers/custom-id"))).toEqual(before);
    expect((await request(server.url, "/tiles/custom-id/tileset.json")).status).toBe(200);
  });

  it("deletes a layer from the catalog but not from disk", async () => {
    const unauthorised = await request(server.url, "/api/layers/custom-id", { method: "DELETE" });
    expect(unauthorised.status).toBe(401);
    expect((await request(server.url, "/api/layers/custom-id")).status).toBe(200);

    const res = await request(server.url, "/api/layers/custom-id", {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(204);
    expect((await request(server.url, "/api/layers/custom-id")).status).toBe(404);
    expect((await request(server.url, "/tiles/custom-id/tileset.json")).status).toBe(404);
    expect(existsSync(join(layerRoot, "tileset.json"))).toBe(true);
    // The other layers on the same folder are unaffected.
    expect((await request(server.url, "/tiles/demo-buildings/tileset.json")).status).toBe(200);

    const again = await request(server.url, "/api/layers/custom-id", {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(again.status).toBe(404);
  });

  it("answers CORS preflight and sets CORS headers on the API", async () => {
    const preflight = await request(server.url, "/api/layers", {
      method: "OPTIONS",
      headers: {
        origin: "http://viewer.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("*");
    expect(preflight.headers["access-control-allow-methods"]).toContain("POST");
    expect(preflight.headers["access-control-allow-headers"]?.toLowerCase()).toContain("authorization");
    const get = await request(server.url, "/api/layers", { headers: { origin: "http://viewer.example" } });
    expect(get.headers["access-control-allow-origin"]).toBe("*");
  });

  it("returns JSON 404 for unknown API paths", async () => {
    const res = await request(server.url, "/api/nothing-here");
    expect(res.status).toBe(404);
    expect(json<{ error: string }>(res).error).toContain("/nothing-here");
  });

  it("publishes an OpenAPI 3 document describing every endpoint", async () => {
    const res = await request(server.url, "/api/openapi.json");
    expect(res.status).toBe(200);
    const doc = json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>(res);
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths["/api/layers"])).toEqual(expect.arrayContaining(["get", "post"]));
    expect(Object.keys(doc.paths["/api/layers/{id}"])).toEqual(expect.arrayContaining(["get", "delete"]));
    expect(Object.keys(doc.paths["/tiles/{layerId}/{path}"])).toEqual(
      expect.arrayContaining(["get", "head"]),
    );
    expect(doc.paths["/healthz"]).toHaveProperty("get");
    expect(doc.paths["/api/openapi.json"]).toHaveProperty("get");
    expect(Object.keys(doc.components.schemas.Layer.properties ?? {})).toEqual(
      expect.arrayContaining(["id", "name", "type", "url", "bbox", "crs", "createdAt"]),
    );
    expect(Object.keys(doc.components.schemas.RegisterLayer.properties ?? {})).toEqual(
      expect.arrayContaining(["path", "id", "name"]),
    );
  });
});
