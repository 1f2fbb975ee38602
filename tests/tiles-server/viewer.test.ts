import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { type DbEnvironment, postgresTarget } from "./support/db-targets.ts";
import { request } from "./support/http-client.ts";

const INDEX = "<!doctype html><title>CIM Twin</title><div id=app></div>";

describe("viewer hosting", () => {
  let env: DbEnvironment;
  let server: RunningServer;

  beforeAll(async () => {
    env = await postgresTarget.create();
    const viewerDir = join(env.tempDir, "viewer");
    mkdirSync(join(viewerDir, "assets"), { recursive: true });
    writeFileSync(join(viewerDir, "index.html"), INDEX);
    writeFileSync(join(viewerDir, "assets", "app.js"), "console.log('viewer');");
    server = await startServer({
      ...env.options,
      viewerDir,
      port: 0,
      host: "127.0.0.1",
      adminToken: "t",
      logger: false,
    });
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
  });

  it("serves the viewer's index.html and assets", async () => {
    const index = await request(server.url, "/");
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toMatch(/text\/html/);
    expect(index.body.toString()).toBe(INDEX);
    const asset = await request(server.url, "/assets/app.js");
    expect(asset.status).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
  });

  it("falls back to index.html for client-side routes but not for the API or tiles", async () => {
    const route = await request(server.url, "/layers/demo?camera=1");
    expect(route.status).toBe(200);
    expect(route.body.toString()).toBe(INDEX);
    const api = await request(server.url, "/api/unknown");
    expect(api.status).toBe(404);
    expect(api.headers["content-type"]).toMatch(/application\/json/);
    const tiles = await request(server.url, "/tiles/unknown/tileset.json");
    expect(tiles.status).toBe(404);
    expect(tiles.headers["content-type"]).toMatch(/application\/json/);
    const post = await request(server.url, "/layers/demo", { method: "POST" });
    expect(post.status).toBe(404);
  });

  it("does not serve files outside the viewer folder", async () => {
    const { rawHttp } = await import("./support/http-client.ts");
    const res = await rawHttp(server.url, "/..%2f..%2f..%2fetc/passwd");
    expect(res.body.toString()).not.toContain("root:x:0:0");
  });
});
