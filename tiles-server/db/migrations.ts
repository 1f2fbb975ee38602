import type pg from "pg";
import { quoteIdent } from "./connection-url.ts";

export interface Migration {
  version: number;
  name: string;
  /** SQL run inside the migration's transaction; `{schema}` is replaced by the quoted schema. */
  sql: string;
}

/** Append only: a released migration never changes, later needs get a new version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "create layers",
    sql: `
      CREATE TABLE {schema}.layers (
        id text PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL,
        root_path text NOT NULL,
        bbox double precision[] NOT NULL CHECK (array_length(bbox, 1) = 6),
        crs text NOT NULL,
        feature_count integer NOT NULL DEFAULT 0,
        tile_count integer NOT NULL DEFAULT 0,
        manifest jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX layers_created_at_idx ON {schema}.layers (created_at);
    `,
  },
];

/**
 * Brings `schema` up to date. A session advisory lock keyed on the schema serialises
 * concurrent starters (two servers, two test workers) so each migration runs exactly once.
 */
export async function runMigrations(
  pool: pg.Pool,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const q = quoteIdent(schema);
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`cim-twin-migrations:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const done = await client.query<{ version: number }>(`SELECT version FROM ${q}.schema_migrations`);
      const doneVersions = new Set(done.rows.map((r) => r.version));
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (doneVersions.has(migration.version)) continue;
        try {
          await client.query("BEGIN");
          await client.query(migration.sql.replaceAll("{schema}", q));
          await client.query(`INSERT INTO ${q}.schema_migrations (version, name) VALUES ($1, $2)`, [
            migration.version,
            migration.name,
          ]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw new Error(
            `database migration ${migration.version} "${migration.name}" failed: ${(err as Error).message}`,
            { cause: err },
          );
        }
        applied.push(migration.version);
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`cim-twin-migrations:${schema}`]);
    }
  } finally {
    client.release();
  }
  return applied;
}
