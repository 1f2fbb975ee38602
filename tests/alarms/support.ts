import { type Database, openDatabase } from "../../tiles-server/db/database.ts";
import type { DbEnvironment } from "../tiles-server/support/db-targets.ts";

export const TOKEN = "test-admin-token-alarms-0123456789";

/** Opens the environment's database directly (same schema / data dir a server on it would use). */
export function openTestDatabase(env: DbEnvironment): Promise<Database> {
  return openDatabase({
    databaseUrl: env.options.databaseUrl,
    dataDir: env.options.dataDir,
    schema: env.options.dbSchema,
  });
}

export interface TestDevice {
  id: string;
  type: string;
  unit?: string;
  lon: number;
  lat: number;
  height?: number;
  createdAt?: Date;
}

/**
 * Registers devices with plain SQL on the devices table of the schema contract, so the alarm tests do
 * not depend on the registry API's details.
 */
export async function insertDevices(db: Database, devices: TestDevice[]): Promise<void> {
  for (const d of devices) {
    await db.pool.query(
      `INSERT INTO ${db.table("devices")} (id, type, name, unit, lon, lat, height, sharing, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'conditional', $8)`,
      [
        d.id,
        d.type,
        `${d.type} ${d.id}`,
        d.unit ?? null,
        d.lon,
        d.lat,
        d.height ?? 0,
        d.createdAt ?? new Date(),
      ],
    );
  }
}

export function json<T = unknown>(res: { body: Buffer }): T {
  return JSON.parse(res.body.toString("utf8")) as T;
}
