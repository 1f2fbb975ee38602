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
  {
    version: 4,
    name: "create devices and readings",
    // Plain b-tree indexes (no PostGIS) so the same SQL runs on PGlite: (lon, lat) serves bbox
    // queries as a lon range scan filtered on lat. readings is range-partitioned on ts; the
    // telemetry service creates one partition per UTC day on demand and drops whole partitions
    // past the retention. The primary key is the dedup key that makes a QoS 1 redelivery a no-op.
    sql: `
      CREATE TABLE {schema}.devices (
        id text PRIMARY KEY,
        type text NOT NULL,
        name text NOT NULL,
        unit text,
        lon double precision NOT NULL,
        lat double precision NOT NULL,
        height double precision NOT NULL DEFAULT 0,
        layer_id text,
        feature_id text,
        department text,
        sharing text NOT NULL,
        token_hash text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz
      );
      CREATE INDEX devices_lon_lat_idx ON {schema}.devices (lon, lat);
      CREATE INDEX devices_type_idx ON {schema}.devices (type);
      CREATE INDEX devices_layer_idx ON {schema}.devices (layer_id, feature_id);
      CREATE UNIQUE INDEX devices_token_hash_idx ON {schema}.devices (token_hash);
      CREATE TABLE {schema}.readings (
        device_id text COLLATE "C" NOT NULL,
        ts timestamptz NOT NULL,
        quantity text COLLATE "C" NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (device_id, quantity, ts)
      ) PARTITION BY RANGE (ts);
    `,
  },
  {
    version: 10,
    name: "create alarm_rules, alarms, alarm_history, alarm_device_state",
    // Versions 4-9 belong to the device/telemetry tables; the list is ordered by version and gaps are fine.
    // No foreign key to devices: an alarm and its history outlive the device, and the rule engine copies
    // the device's type, name and position onto the alarm when it is raised.
    // alarms_open_key is the de-duplication: one alarm not yet closed per device + rule kind + quantity.
    sql: `
      CREATE TABLE {schema}.alarm_rules (
        id bigserial PRIMARY KEY,
        scope text NOT NULL CHECK (scope IN ('type', 'device')),
        target text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('upper', 'lower', 'rate', 'offline')),
        quantity text,
        red double precision,
        orange double precision,
        yellow double precision,
        blue double precision,
        deadband double precision NOT NULL DEFAULT 0,
        enabled boolean NOT NULL DEFAULT true,
        note text,
        builtin boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX alarm_rules_key ON {schema}.alarm_rules (scope, target, kind, (COALESCE(quantity, '')));
      CREATE TABLE {schema}.alarm_rule_defaults_seeded (
        device_type text PRIMARY KEY,
        seeded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE {schema}.alarms (
        id bigserial PRIMARY KEY,
        device_id text NOT NULL,
        device_type text NOT NULL,
        device_name text,
        kind text NOT NULL CHECK (kind IN ('upper', 'lower', 'rate', 'offline')),
        quantity text,
        unit text,
        rule_id bigint REFERENCES {schema}.alarm_rules (id) ON DELETE SET NULL,
        level text NOT NULL CHECK (level IN ('red', 'orange', 'yellow', 'blue')),
        peak_level text NOT NULL CHECK (peak_level IN ('red', 'orange', 'yellow', 'blue')),
        status text NOT NULL CHECK (status IN ('raised', 'acknowledged', 'dispatched', 'handled', 'verified', 'closed')),
        active boolean NOT NULL,
        value double precision NOT NULL,
        limit_value double precision NOT NULL,
        count integer NOT NULL,
        assignee text,
        lon double precision NOT NULL,
        lat double precision NOT NULL,
        height double precision NOT NULL,
        raised_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        cleared_at timestamptz,
        status_at timestamptz NOT NULL,
        closed_at timestamptz
      );
      CREATE UNIQUE INDEX alarms_open_key ON {schema}.alarms (device_id, kind, (COALESCE(quantity, '')))
        WHERE status <> 'closed';
      CREATE INDEX alarms_raised_at_idx ON {schema}.alarms (raised_at);
      CREATE INDEX alarms_closed_at_idx ON {schema}.alarms (closed_at);
      CREATE INDEX alarms_lon_lat_idx ON {schema}.alarms (lon, lat);
      CREATE TABLE {schema}.alarm_history (
        id bigserial PRIMARY KEY,
        alarm_id bigint NOT NULL REFERENCES {schema}.alarms (id) ON DELETE CASCADE,
        kind text NOT NULL,
        at timestamptz NOT NULL,
        from_status text,
        to_status text,
        from_level text,
        to_level text,
        value double precision,
        by text NOT NULL,
        note text,
        assignee text
      );
      CREATE INDEX alarm_history_alarm_idx ON {schema}.alarm_history (alarm_id, at, id);
      CREATE INDEX alarm_history_at_idx ON {schema}.alarm_history (at);
      CREATE TABLE {schema}.alarm_device_state (
        device_id text NOT NULL,
        quantity text NOT NULL,
        ts timestamptz NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (device_id, quantity)
      );
    `,
  },
  {
    version: 11,
    name: "create cameras and camera_status_history",
    sql: `
      CREATE TABLE {schema}.cameras (
        id text PRIMARY KEY,
        name text NOT NULL,
        lon double precision NOT NULL,
        lat double precision NOT NULL,
        height double precision NOT NULL,
        heading double precision NOT NULL,
        pitch double precision NOT NULL,
        hfov double precision NOT NULL,
        vfov double precision NOT NULL,
        range double precision NOT NULL,
        stream_url text,
        stream_kind text CHECK (stream_kind IN ('hls', 'mp4', 'flv')),
        status text NOT NULL CHECK (status IN ('online', 'offline', 'fault')),
        status_at timestamptz NOT NULL,
        last_seen timestamptz,
        layer_id text,
        feature_id text,
        department text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX cameras_lon_lat_idx ON {schema}.cameras (lon, lat);
      CREATE TABLE {schema}.camera_status_history (
        id bigserial PRIMARY KEY,
        camera_id text NOT NULL REFERENCES {schema}.cameras (id) ON DELETE CASCADE,
        at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('online', 'offline', 'fault')),
        note text
      );
      CREATE INDEX camera_status_history_idx ON {schema}.camera_status_history (camera_id, at, id);
    `,
  },
  {
    version: 12,
    name: "pipe_links.drawn_length",
    // Sources often leave the recorded length empty; the length along the drawn path is what the cockpit
    // sums per class then. Layers registered before this migration get it when registered again.
    sql: `ALTER TABLE {schema}.pipe_links ADD COLUMN drawn_length double precision;`,
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
