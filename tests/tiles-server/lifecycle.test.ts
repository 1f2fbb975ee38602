import { get } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startServer } from "../../tiles-server/server.ts";
import { type DbEnvironment, embeddedTarget, postgresTarget } from "./support/db-targets.ts";
import { jsonRequest, request } from "./support/http-client.ts";
import { LARGE_FILE, LARGE_SIZE, writeLayerFolder } from "./support/layer-fixtures.ts";

describe("server lifecycle", () => {
  let env: DbEnvironment | undefined;

  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it("keeps registered layers in the embedded database across a restart on the same dataDir", async () => {
    env = await embeddedTarget.create();
    const { root } = writeLayerFolder(env.tempDir, "persisted");
    const opts = { ...env.options, port: 0, host: "127.0.0.1", adminToken: "t", logger: false };

    const first = await startServer(opts);
    const created = await jsonRequest(first.url, "/api/layers", "POST", { path: root, id: "kept" }, "t");
    expect(created.status).toBe(201);
    await first.close();

    const second = await startServer(opts);
    try {
      const layers = JSON.parse((await request(second.url, "/api/layers")).body.toString());
      expect(layers).toEqual([JSON.parse(created.body.toString())]);
      const tileset = await request(second.url, "/tiles/kept/tileset.json");
      expect(tileset.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it("generates an admin token when none is configured and accepts only that one", async () => {
    env = await postgresTarget.create();
    const saved = process.env.CIM_ADMIN_TOKEN;
    delete process.env.CIM_ADMIN_TOKEN;
    const server = await startServer({ ...env.options, port: 0, host: "127.0.0.1", logger: false });
    if (saved !== undefined) process.env.CIM_ADMIN_TOKEN = saved;
    try {
      expect(server.adminToken.length).toBeGreaterThanOrEqual(24);
      const { root } = writeLayerFolder(env.tempDir, "tokened");
      expect((await jsonRequest(server.url, "/api/layers", "POST", { path: root }, "guess")).status).toBe(
        401,
      );
      expect(
        (await jsonRequest(server.url, "/api/layers", "POST", { path: root }, server.adminToken)).status,
      ).toBe(201);
    } finally {
      await server.close();
    }
  });

  it("finishes in-flight downloads on close() and then refuses new connections", async () => {
    env = await postgresTarget.create();
    const { root } = writeLayerFolder(env.tempDir, "draining");
    const server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: "t",
      logger: false,
    });
    await server.catalog.register({ path: root, id: "draining" });

    const body = new Promise<number>((resolve, reject) => {
      get(`${server.url}/tiles/draining/${LARGE_FILE}`, (res) => {
        res.pause();
        let received = 0;
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
        });
        res.on("end", () => resolve(received));
        res.on("error", reject);
        // Start closing while the response is still being delivered, then drain it.
        const closed = server.close();
        setTimeout(() => res.resume(), 200);
        closed.catch(reject);
      }).on("error", reject);
    });
    expect(await body).toBe(LARGE_SIZE);
    await server.close();
    await expect(request(server.url, "/healthz")).rejects.toThrow(/ECONNREFUSED/);
  });
});
