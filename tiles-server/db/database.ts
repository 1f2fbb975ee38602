import pg from "pg";
import { assertSchemaName, quoteIdent, splitSchemaFromUrl } from "./connection-url.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.ts";
import { runMigrations } from "./migrations.ts";

export interface DatabaseOptions {
  /** Real PostgreSQL; may carry `?schema=name`. Absent: embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** Overrides the URL's schema; default "public". */
  schema?: string;
}

export interface Database {
  pool: pg.Pool;
  schema: string;
  embedded: boolean;
  /** Schema-qualified, quoted table name for SQL text. */
  table(name: string): string;
  close(): Promise<void>;
}

/** Opens the catalog database (real or embedded) through one pg Pool and runs migrations. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString: string;
  let urlSchema: string | undefined;
  if (opts.databaseUrl) {
    ({ connectionString, schema: urlSchema } = splitSchemaFromUrl(opts.databaseUrl));
  } else {
    embedded = await startEmbeddedPostgres(opts.dataDir);
    connectionString = embedded.connectionString;
  }
  const schema = assertSchemaName(opts.schema ?? urlSchema ?? "public");
  const pool = new pg.Pool({
    connectionString,
    // PGlite executes one statement at a time, so more clients would only queue behind it.
    max: embedded ? 1 : 10,
    idleTimeoutMillis: embedded ? 0 : 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  // Neither must a checked-out one (a database restart in the middle of a transaction): pg emits 'error' on the
  // client as well as failing its query, and an 'error' event nobody listens to is an uncaught exception. The
  // failing query still reports the error to whoever ran it.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  const close = async () => {
    await pool.end().catch(() => {});
    await embedded?.stop();
  };
  try {
    await runMigrations(pool, schema);
  } catch (err) {
    await close();
    throw err;
  }
  const quotedSchema = quoteIdent(schema);
  return {
    pool,
    schema,
    embedded: embedded !== undefined,
    table: (name) => `${quotedSchema}.${quoteIdent(name)}`,
    close,
  };
}
