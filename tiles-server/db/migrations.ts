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
  {
    version: 2,
    name: "create bim_elements",
    // Plain SQL only (no pg_trgm): it must run unchanged on PGlite and on a real PostgreSQL.
    // global_id is COLLATE "C" so the primary key also serves GlobalId prefix LIKE queries;
    // search_name is the name folded by the server (NFKC + lower case) for substring search,
    // independent of the database locale.
    sql: `
      CREATE TABLE {schema}.bim_elements (
        layer_id text NOT NULL REFERENCES {schema}.layers (id) ON DELETE CASCADE,
        global_id text COLLATE "C" NOT NULL,
        ifc_class text NOT NULL,
        name text,
        search_name text,
        object_type text,
        storey text,
        storey_elevation double precision,
        west double precision NOT NULL,
        south double precision NOT NULL,
        east double precision NOT NULL,
        north double precision NOT NULL,
        min_h double precision NOT NULL,
        max_h double precision NOT NULL,
        PRIMARY KEY (layer_id, global_id)
      );
      CREATE INDEX bim_elements_class_idx ON {schema}.bim_elements (layer_id, ifc_class);
      CREATE INDEX bim_elements_storey_idx ON {schema}.bim_elements (layer_id, storey);
      CREATE INDEX bim_elements_order_idx ON {schema}.bim_elements
        (layer_id, storey_elevation, name COLLATE "C", global_id);
    `,
  },
  {
    version: 3,
    name: "create pipe_nodes and pipe_links",
    // The topology of a pipes layer (network.json), written at registration and loaded once per
    // layer into the in-memory graph of the analysis API. Links reference nodes of the same layer.
    sql: `
      CREATE TABLE {schema}.pipe_nodes (
        layer_id text NOT NULL REFERENCES {schema}.layers (id) ON DELETE CASCADE,
        id text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        pipe_class text NOT NULL,
        lon double precision NOT NULL,
        lat double precision NOT NULL,
        ground double precision,
        invert double precision,
        attributes jsonb NOT NULL,
        PRIMARY KEY (layer_id, id)
      );
      CREATE TABLE {schema}.pipe_links (
        layer_id text NOT NULL REFERENCES {schema}.layers (id) ON DELETE CASCADE,
        id text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        pipe_class text NOT NULL,
        from_id text COLLATE "C" NOT NULL,
        to_id text COLLATE "C" NOT NULL,
        shape text,
        diameter double precision,
        width double precision,
        height double precision,
        from_invert double precision,
        to_invert double precision,
        length double precision,
        material text,
        path jsonb NOT NULL,
        attributes jsonb NOT NULL,
        PRIMARY KEY (layer_id, id),
        FOREIGN KEY (layer_id, from_id) REFERENCES {schema}.pipe_nodes (layer_id, id) ON DELETE CASCADE,
        FOREIGN KEY (layer_id, to_id) REFERENCES {schema}.pipe_nodes (layer_id, id) ON DELETE CASCADE
      );
      CREATE INDEX pipe_links_from_idx ON {schema}.pipe_links (layer_id, from_id);
      CREATE INDEX pipe_links_to_idx ON {schema}.pipe_links (layer_id, to_id);
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
