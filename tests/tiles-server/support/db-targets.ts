import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { ServerOptions } from "../../../tiles-server/server.ts";

/** The shared real PostgreSQL of the test machine (trust auth). */
export const REAL_PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface DbEnvironment {
  /** Options that select this database; spread into startServer options. */
  options: Pick<ServerOptions, "databaseUrl" | "dbSchema" | "dataDir">;
  /** Temp dir owned by this environment (layer fixtures may go here too). */
  tempDir: string;
  cleanup(): Promise<void>;
}

export interface DbTarget {
  name: string;
  create(): Promise<DbEnvironment>;
}

export function uniqueSchemaName(): string {
  return `cim_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: REAL_PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export const embeddedTarget: DbTarget = {
  name: "embedded PGlite",
  async create() {
    // startServer falls back to DATABASE_URL; a CI environment that sets it must not turn
    // the embedded-database runs into real-PostgreSQL runs.
    delete process.env.DATABASE_URL;
    const tempDir = mkdtempSync(join(tmpdir(), "cim-tiles-server-"));
    return {
      options: { dataDir: join(tempDir, "pglite") },
      tempDir,
      async cleanup() {
        rmSync(tempDir, { recursive: true, force: true });
      },
    };
  },
};

export const postgresTarget: DbTarget = {
  name: "real PostgreSQL",
  async create() {
    const tempDir = mkdtempSync(join(tmpdir(), "cim-tiles-server-"));
    const schema = uniqueSchemaName();
    return {
      options: { databaseUrl: REAL_PG_URL, dbSchema: schema, dataDir: join(tempDir, "unused-pglite") },
      tempDir,
      async cleanup() {
        await dropSchema(schema);
        rmSync(tempDir, { recursive: true, force: true });
      },
    };
  },
};

export const DB_TARGETS: DbTarget[] = [embeddedTarget, postgresTarget];
