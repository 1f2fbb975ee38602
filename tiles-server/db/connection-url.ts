/** Postgres identifiers we create ourselves: lower-case, no quoting surprises. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ParsedDatabaseUrl {
  /** The URL without our own `schema` query parameter, ready for the pg driver. */
  connectionString: string;
  schema: string | undefined;
}

/**
 * Takes an optional `?schema=name` off a database URL: the pg driver does not know that
 * parameter, and we use it to isolate tenants and test runs inside one database.
 */
export function splitSchemaFromUrl(databaseUrl: string): ParsedDatabaseUrl {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(`DATABASE_URL is not a valid URL (expected postgres://user@host:port/database)`);
  }
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  return { connectionString: url.toString(), schema };
}

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `database schema name "${schema}" is invalid: use lower-case letters, digits and _ (max 63, not starting with a digit)`,
    );
  }
  return schema;
}

/** Double-quotes an identifier already checked by assertSchemaName. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
