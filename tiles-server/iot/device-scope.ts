import type { SharingClass } from "../../models/devices.ts";
import type { Database } from "../db/database.ts";

/** Which devices a figure covers: all, or one owner department's, or one data-sharing class's (or both). */
export interface DeviceScope {
  department?: string;
  sharing?: SharingClass;
}

/**
 * An SQL condition that keeps the rows whose device id (`column`) is in the scope, with its parameters
 * numbered from `$first`. "TRUE" and no parameters for the whole city.
 */
export function deviceScopeSql(
  db: Database,
  column: string,
  scope: DeviceScope,
  first: number,
): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  for (const key of ["department", "sharing"] as const) {
    const value = scope[key];
    if (value === undefined) continue;
    params.push(value);
    conditions.push(`${key} = $${first + params.length - 1}`);
  }
  if (conditions.length === 0) return { sql: "TRUE", params };
  return {
    sql: `${column} IN (SELECT id FROM ${db.table("devices")} WHERE ${conditions.join(" AND ")})`,
    params,
  };
}
