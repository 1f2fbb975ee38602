import { connect, createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../tiles-server/db/migrations.ts";
import { startServer } from "../../tiles-server/server.ts";
import { dropSchema, postgresTarget, REAL_PG_URL, uniqueSchemaName } from "./support/db-targets.ts";
import { jsonRequest, request } from "./support/http-client.ts";
import { writeLayerFolder } from "./support/layer-fixtures.ts";

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: REAL_PG_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A TCP relay to the real PostgreSQL that the test can cut, to simulate the database going away. */
async function startRelay(): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    const upstream = connect(5432, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const port = (relay.address() as { port: number }).port;
  return {
    port,
    cut: () =>
      new Promise<void>((resolve) => {
        relay.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe("real PostgreSQL specifics", () => {
  const schemas: string[] = [];
  let tempDir: string;
  let cleanupTemp: () => Promise<void>;

  beforeAll(async () => {
    const env = await postgresTarget.create();
    tempDir = env.tempDir;
    cleanupTemp = env.cleanup;
  });

  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
    await cleanupTemp?.();
  });

  it("migrates once when two servers start on the same new schema at the same time", async () => {
    const schema = uniqueSchemaName();
    schemas.push(schema);
    const opts = {
      databaseUrl: REAL_PG_URL,
      dbSchema: schema,
      dataDir: tempDir,
      port: 0,
      host: "127.0.0.1",
      adminToken: "t",
      logger: false,
    };
    const [a, b] = await Promise.all([startServer(opts), startServer(opts)]);
    try {
      const applied = await query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations`);
      expect(applied.map((r) => r.version).sort((x, y) => x - y)).toEqual(
        MIGRATIONS.map((m) => m.version).sort((x, y) => x - y),
      );

      // Both processes share one catalog: a layer registered through one is served by the other.
      const { root } = writeLayerFolder(tempDir, "shared");
      expect(
        (await jsonRequest(a.url, "/api/layers", "POST", { path: root, id: "shared" }, "t")).status,
      ).toBe(201);
      expect((await request(b.url, "/api/layers/shared")).status).toBe(200);
      expect((await request(b.url, "/tiles/shared/tileset.json")).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("takes the schema from the database URL and keeps tables out of public", async () => {
    const schema = uniqueSchemaName();
    schemas.push(schema);
    const server = await startServer({
      databaseUrl: `${REAL_PG_URL}?schema=${schema}`,
      dataDir: tempDir,
      port: 0,
      host: "127.0.0.1",
      adminToken: "t",
      logger: false,
    });
    await server.close();
    const tables = await query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "alarm_device_state",
      "alarm_history",
      "alarm_rule_defaults_seeded",
      "alarm_rules",
      "alarms",
      "bim_elements",
      "camera_status_history",
      "cameras",
      "devices",
      "layers",
      "pipe_links",
      "pipe_nodes",
      "readings",
      "schema_migrations",
    ]);
  });

  it("rejects an unsafe schema name with a clear error", async () => {
    await expect(
      startServer({
        databaseUrl: REAL_PG_URL,
        dbSchema: 'x"; DROP TABLE y; --',
        dataDir: tempDir,
        logger: false,
      }),
    ).rejects.toThrow(/schema name/);
  });

  it("reports 503 on /healthz when the database goes away", async () => {
    const schema = uniqueSchemaName();
    schemas.push(schema);
    const relay = await startRelay();
    const server = await startServer({
      databaseUrl: `postgres://postgres@127.0.0.1:${relay.port}/test`,
      dbSchema: schema,
      dataDir: tempDir,
      port: 0,
      host: "127.0.0.1",
      adminToken: "t",
      logger: false,
    });
    try {
      expect((await request(server.url, "/healthz")).status).toBe(200);
      await relay.cut();
      const down = await request(server.url, "/healthz");
      expect(down.status).toBe(503);
      expect(JSON.parse(down.body.toString())).toEqual({ status: "error", db: "error" });
    } finally {
      await server.close();
    }
  });
});
