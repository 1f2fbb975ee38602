import { createHash, randomBytes } from "node:crypto";
import type { z } from "zod";
import {
  type CreateDeviceSchema,
  type CreatedDevice,
  DEVICE_TYPES,
  type Device,
  type DeviceType,
} from "../../models/devices.ts";
import type { Database } from "../db/database.ts";

/** What the ingest path and the WebSocket filters need of a device, kept in memory. */
export interface DeviceInfo {
  id: string;
  lon: number;
  lat: number;
  layerId: string | null;
  tokenHash: string | null;
}

export class DeviceConflictError extends Error {
  constructor(readonly ids: string[]) {
    super(`device id already registered: ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""}`);
  }
}

export interface DeviceQuery {
  bbox?: [number, number, number, number];
  types?: string[];
  layerId?: string;
  limit: number;
  offset: number;
}

interface DeviceRow {
  id: string;
  type: string;
  name: string;
  unit: string | null;
  lon: number;
  lat: number;
  height: number;
  layer_id: string | null;
  feature_id: string | null;
  department: string | null;
  sharing: string;
  created_at: Date;
  last_seen: Date | null;
}

const DEVICE_COLUMNS =
  "id, type, name, unit, lon, lat, height, layer_id, feature_id, department, sharing, created_at, last_seen";

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    type: row.type as DeviceType,
    name: row.name,
    unit: row.unit,
    lon: row.lon,
    lat: row.lat,
    height: row.height,
    layerId: row.layer_id,
    featureId: row.feature_id,
    department: row.department,
    sharing: row.sharing as Device["sharing"],
    createdAt: row.created_at.toISOString(),
    lastSeen: row.last_seen?.toISOString() ?? null,
  };
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** How long a "no such device" answer is trusted, so a flood of unknown ids costs few queries. */
const NEGATIVE_TTL_MS = 2000;

/**
 * The device registry: SQL for the API, plus an in-memory copy of the few fields every
 * telemetry message needs (existence, position, layer, token), loaded at start and updated by
 * this process's writes; devices written by another process are found on a cache miss.
 */
export class DeviceStore {
  private readonly cache = new Map<string, DeviceInfo>();
  private readonly byToken = new Map<string, string>();
  private readonly missing = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();
  private readonly table: string;

  constructor(private readonly db: Database) {
    this.table = db.table("devices");
  }

  async load(): Promise<void> {
    const { rows } = await this.db.pool.query<{
      id: string;
      lon: number;
      lat: number;
      layer_id: string | null;
      token_hash: string | null;
    }>(`SELECT id, lon, lat, layer_id, token_hash FROM ${this.table}`);
    for (const r of rows) {
      this.remember({ id: r.id, lon: r.lon, lat: r.lat, layerId: r.layer_id, tokenHash: r.token_hash });
    }
  }

  private remember(info: DeviceInfo): void {
    this.cache.set(info.id, info);
    this.missing.delete(info.id);
    if (info.tokenHash) this.byToken.set(info.tokenHash, info.id);
  }

  cached(id: string): DeviceInfo | undefined {
    return this.cache.get(id);
  }

  /** Looks ids up (cache first, then one query for the misses); unknown ids map to null. Throws if the DB is down. */
  async resolve(ids: Iterable<string>): Promise<Map<string, DeviceInfo | null>> {
    const out = new Map<string, DeviceInfo | null>();
    const misses: string[] = [];
    const now = Date.now();
    for (const id of ids) {
      if (out.has(id)) continue;
      const hit = this.cache.get(id);
      if (hit) out.set(id, hit);
      else if ((this.missing.get(id) ?? 0) > now) out.set(id, null);
      else {
        out.set(id, null);
        misses.push(id);
      }
    }
    if (misses.length > 0) {
      const { rows } = await this.db.pool.query<{
        id: string;
        lon: number;
        lat: number;
        layer_id: string | null;
        token_hash: string | null;
      }>(`SELECT id, lon, lat, layer_id, token_hash FROM ${this.table} WHERE id = ANY($1::text[])`, [misses]);
      for (const r of rows) {
        const info = { id: r.id, lon: r.lon, lat: r.lat, layerId: r.layer_id, tokenHash: r.token_hash };
        this.remember(info);
        out.set(r.id, info);
      }
      for (const id of misses) {
        if (out.get(id) === null) {
          if (this.missing.size > 100_000) this.missing.clear();
          this.missing.set(id, now + NEGATIVE_TTL_MS);
        }
      }
    }
    return out;
  }

  /** The device a bearer token belongs to, or undefined. */
  async deviceForToken(token: string): Promise<string | undefined> {
    const hash = hashToken(token);
    const hit = this.byToken.get(hash);
    if (hit) return hit;
    const { rows } = await this.db.pool.query<{
      id: string;
      lon: number;
      lat: number;
      layer_id: string | null;
    }>(`SELECT id, lon, lat, layer_id FROM ${this.table} WHERE token_hash = $1`, [hash]);
    if (rows.length === 0) return undefined;
    const r = rows[0];
    this.remember({ id: r.id, lon: r.lon, lat: r.lat, layerId: r.layer_id, tokenHash: hash });
    return r.id;
  }

  /** Inserts all devices in one statement (all or none); returns them with their tokens. */
  async create(input: z.output<typeof CreateDeviceSchema>[]): Promise<CreatedDevice[]> {
    const seen = new Set<string>();
    const dupes: string[] = [];
    for (const d of input) {
      if (seen.has(d.id)) dupes.push(d.id);
      seen.add(d.id);
    }
    if (dupes.length > 0) throw new DeviceConflictError(dupes);
    const tokens = input.map((d) => d.token ?? randomBytes(24).toString("base64url"));
    const cols = {
      id: [] as string[],
      type: [] as string[],
      name: [] as string[],
      unit: [] as (string | null)[],
      lon: [] as number[],
      lat: [] as number[],
      height: [] as number[],
      layer: [] as (string | null)[],
      feature: [] as (string | null)[],
      department: [] as (string | null)[],
      sharing: [] as string[],
      hash: [] as string[],
    };
    input.forEach((d, i) => {
      cols.id.push(d.id);
      cols.type.push(d.type);
      cols.name.push(d.name);
      cols.unit.push(d.unit ?? DEVICE_TYPES[d.type].unit);
      cols.lon.push(d.lon);
      cols.lat.push(d.lat);
      cols.height.push(d.height);
      cols.layer.push(d.layerId ?? null);
      cols.feature.push(d.featureId ?? null);
      cols.department.push(d.department ?? null);
      cols.sharing.push(d.sharing);
      cols.hash.push(hashToken(tokens[i]));
    });
    const client = await this.db.pool.connect();
    const ignore = () => {};
    // Errors of a checked-out client surface through its query; without a listener they would crash.
    client.on("error", ignore);
    let rows: DeviceRow[];
    try {
      await client.query("BEGIN");
      ({ rows } = await client.query<DeviceRow>(
        `INSERT INTO ${this.table}
           (id, type, name, unit, lon, lat, height, layer_id, feature_id, department, sharing, token_hash)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
           $7::float8[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
         ON CONFLICT (id) DO NOTHING
         RETURNING ${DEVICE_COLUMNS}`,
        [
          cols.id,
          cols.type,
          cols.name,
          cols.unit,
          cols.lon,
          cols.lat,
          cols.height,
          cols.layer,
          cols.feature,
          cols.department,
          cols.sharing,
          cols.hash,
        ],
      ));
      if (rows.length !== input.length) {
        // Some ids exist already: the request is all-or-nothing.
        const inserted = new Set(rows.map((r) => r.id));
        throw new DeviceConflictError(cols.id.filter((id) => !inserted.has(id)));
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      if ((err as { code?: string }).code === "23505") {
        throw new DeviceConflictError(["(a device token is already in use)"]);
      }
      throw err;
    } finally {
      client.off("error", ignore);
      client.release();
    }
    const tokenById = new Map(input.map((d, i) => [d.id, tokens[i]]));
    return rows.map((r) => {
      this.remember({
        id: r.id,
        lon: r.lon,
        lat: r.lat,
        layerId: r.layer_id,
        tokenHash: hashToken(tokenById.get(r.id)!),
      });
      return { ...toDevice(r), token: tokenById.get(r.id)! };
    });
  }

  async get(id: string): Promise<Device | undefined> {
    const { rows } = await this.db.pool.query<DeviceRow>(
      `SELECT ${DEVICE_COLUMNS} FROM ${this.table} WHERE id = $1`,
      [id],
    );
    return rows[0] ? toDevice(rows[0]) : undefined;
  }

  async list(q: DeviceQuery): Promise<Device[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.bbox) {
      const [w, s, e, n] = q.bbox;
      params.push(w, e, s, n);
      where.push(`lon BETWEEN $${params.length - 3} AND $${params.length - 2}`);
      where.push(`lat BETWEEN $${params.length - 1} AND $${params.length}`);
    }
    if (q.types && q.types.length > 0) {
      params.push(q.types);
      where.push(`type = ANY($${params.length}::text[])`);
    }
    if (q.layerId !== undefined) {
      params.push(q.layerId);
      where.push(`layer_id = $${params.length}`);
    }
    params.push(q.limit, q.offset);
    const { rows } = await this.db.pool.query<DeviceRow>(
      `SELECT ${DEVICE_COLUMNS} FROM ${this.table}
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toDevice);
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.db.pool.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
    const info = this.cache.get(id);
    this.cache.delete(id);
    if (info?.tokenHash) this.byToken.delete(info.tokenHash);
    return (rowCount ?? 0) > 0;
  }

  /** Notes that devices reported; written to last_seen by flushLastSeen(), not per message. */
  markSeen(deviceId: string, ts: number): void {
    const prev = this.lastSeen.get(deviceId);
    if (prev === undefined || ts > prev) this.lastSeen.set(deviceId, ts);
  }

  async flushLastSeen(): Promise<void> {
    if (this.lastSeen.size === 0) return;
    const entries = [...this.lastSeen];
    this.lastSeen.clear();
    try {
      await this.db.pool.query(
        `UPDATE ${this.table} d SET last_seen = greatest(d.last_seen, u.ts)
         FROM unnest($1::text[], $2::float8[]) AS x(id, ms), LATERAL (SELECT to_timestamp(x.ms / 1000.0) AS ts) u
         WHERE d.id = x.id`,
        [entries.map((e) => e[0]), entries.map((e) => e[1])],
      );
    } catch {
      // Best effort: put them back for the next round.
      for (const [id, ts] of entries) this.markSeen(id, ts);
    }
  }
}
