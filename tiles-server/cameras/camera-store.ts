import type pg from "pg";
import {
  type Camera,
  type CameraAvailability,
  type CameraStatus,
  type CameraStatusReport,
  type CreateCamera,
  CreateCameraSchema,
  defaultVfov,
  type NearCamera,
  streamKindOf,
  type UpdateCamera,
  UpdateCameraSchema,
} from "../../models/cameras.ts";
import type { Database } from "../db/database.ts";
import { inTransaction } from "../db/transaction.ts";
import { viewTest } from "./frustum.ts";

interface CameraRow {
  id: string;
  name: string;
  lon: number;
  lat: number;
  height: number;
  heading: number;
  pitch: number;
  hfov: number;
  vfov: number;
  range: number;
  stream_url: string | null;
  stream_kind: Camera["streamKind"];
  status: CameraStatus;
  status_at: Date;
  last_seen: Date | null;
  layer_id: string | null;
  feature_id: string | null;
  department: string | null;
  created_at: Date;
  updated_at: Date;
}

function toCamera(row: CameraRow): Camera {
  return {
    id: row.id,
    name: row.name,
    lon: row.lon,
    lat: row.lat,
    height: row.height,
    heading: row.heading,
    pitch: row.pitch,
    hfov: row.hfov,
    vfov: row.vfov,
    range: row.range,
    streamUrl: row.stream_url,
    streamKind: row.stream_kind,
    status: row.status,
    statusAt: row.status_at.toISOString(),
    lastSeen: row.last_seen?.toISOString() ?? null,
    layerId: row.layer_id,
    featureId: row.feature_id,
    department: row.department,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A request the current state refuses (409) or an unknown camera (404). */
export class CameraStateError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

const EARTH_RADIUS = 6_371_008.8;
const DAY_MS = 86_400_000;
/** Status reports may carry clocks slightly ahead of ours. */
const FUTURE_SKEW_MS = 5 * 60_000;

const instant = (v: number | string | undefined, fallback: Date) =>
  v === undefined ? fallback : new Date(v);

/** Registry columns shared by insert and update, in order. */
function registryValues(c: ReturnType<typeof UpdateCameraSchema.parse>): unknown[] {
  return [
    c.name,
    c.lon,
    c.lat,
    c.height,
    c.heading,
    c.pitch,
    c.hfov,
    c.vfov ?? defaultVfov(c.hfov),
    c.range,
    c.streamUrl ?? null,
    c.streamKind ?? (c.streamUrl ? streamKindOf(c.streamUrl) : null) ?? null,
    c.layerId ?? null,
    c.featureId ?? null,
    c.department ?? null,
  ];
}

export class CameraStore {
  constructor(private readonly db: Database) {}

  private get table() {
    return this.db.table("cameras");
  }

  private get history() {
    return this.db.table("camera_status_history");
  }

  private inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.db.pool, work);
  }

  async list(bbox?: [number, number, number, number]): Promise<Camera[]> {
    const res = bbox
      ? await this.db.pool.query<CameraRow>(
          `SELECT * FROM ${this.table} WHERE lon >= $1 AND lat >= $2 AND lon <= $3 AND lat <= $4 ORDER BY id`,
          bbox,
        )
      : await this.db.pool.query<CameraRow>(`SELECT * FROM ${this.table} ORDER BY id`);
    return res.rows.map(toCamera);
  }

  async get(id: string): Promise<Camera | undefined> {
    const res = await this.db.pool.query<CameraRow>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return res.rows[0] ? toCamera(res.rows[0]) : undefined;
  }

  /** Registers a camera and records its initial status; 409 if the id exists. */
  async create(input: CreateCamera): Promise<Camera> {
    const c = CreateCameraSchema.parse(input);
    const statusAt = instant(c.statusAt, new Date());
    return this.inTransaction(async (client) => {
      let res: pg.QueryResult<CameraRow>;
      try {
        res = await client.query<CameraRow>(
          `INSERT INTO ${this.table} (name, lon, lat, height, heading, pitch, hfov, vfov, range, stream_url,
             stream_kind, layer_id, feature_id, department, id, status, status_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING *`,
          [...registryValues(c), c.id, c.status, statusAt],
        );
      } catch (err) {
        if ((err as { code?: string }).code === "23505") {
          throw new CameraStateError(
            `camera "${c.id}" already exists; change it with PUT /api/cameras/${c.id}`,
            409,
          );
        }
        throw err;
      }
      await client.query(
        `INSERT INTO ${this.history} (camera_id, at, status, note) VALUES ($1, $2, $3, $4)`,
        [c.id, statusAt, c.status, "registered"],
      );
      return toCamera(res.rows[0]);
    });
  }

  async update(id: string, input: UpdateCamera): Promise<Camera | undefined> {
    const c = UpdateCameraSchema.parse(input);
    const res = await this.db.pool.query<CameraRow>(
      `UPDATE ${this.table} SET name = $1, lon = $2, lat = $3, height = $4, heading = $5, pitch = $6, hfov = $7,
         vfov = $8, range = $9, stream_url = $10, stream_kind = $11, layer_id = $12, feature_id = $13,
         department = $14, updated_at = now()
       WHERE id = $15 RETURNING *`,
      [...registryValues(c), id],
    );
    return res.rows[0] ? toCamera(res.rows[0]) : undefined;
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.db.pool.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
    return (res.rowCount ?? 0) > 0;
  }

  /**
   * Records a status report: a change of status adds a history row (what availability is computed
   * from); the same status again only moves lastSeen. Reports older than the current status are
   * refused, since history is kept in time order.
   */
  async reportStatus(id: string, report: CameraStatusReport): Promise<{ camera: Camera; changed: boolean }> {
    const now = new Date();
    const at = instant(report.at, now);
    if (at.getTime() > now.getTime() + FUTURE_SKEW_MS) {
      throw new CameraStateError(
        `status time ${at.toISOString()} is in the future (server time ${now.toISOString()})`,
        400,
      );
    }
    return this.inTransaction(async (client) => {
      const found = await client.query<CameraRow>(`SELECT * FROM ${this.table} WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      const row = found.rows[0];
      if (row === undefined) throw new CameraStateError(`camera "${id}" not found`, 404);
      if (at < row.status_at) {
        throw new CameraStateError(
          `status report at ${at.toISOString()} is older than the camera's current status (${row.status} since ${row.status_at.toISOString()})`,
          409,
        );
      }
      const changed = report.status !== row.status;
      if (changed) {
        await client.query(
          `INSERT INTO ${this.history} (camera_id, at, status, note) VALUES ($1, $2, $3, $4)`,
          [id, at, report.status, report.note ?? null],
        );
      }
      const updated = await client.query<CameraRow>(
        `UPDATE ${this.table} SET status = $2, status_at = CASE WHEN $3 THEN $4 ELSE status_at END,
           last_seen = GREATEST(last_seen, $4)
         WHERE id = $1 RETURNING *`,
        [id, report.status, changed, at],
      );
      return { camera: toCamera(updated.rows[0]), changed };
    });
  }

  async statusHistory(
    id: string,
    from: Date,
    to: Date,
  ): Promise<{ at: string; status: CameraStatus; note: string | null }[]> {
    const res = await this.db.pool.query<{ at: Date; status: CameraStatus; note: string | null }>(
      `SELECT at, status, note FROM ${this.history} WHERE camera_id = $1 AND at >= $2 AND at <= $3 ORDER BY at, id`,
      [id, from, to],
    );
    return res.rows.map((r) => ({ at: r.at.toISOString(), status: r.status, note: r.note }));
  }

  /**
   * Cameras within `radius` metres (horizontal) of a point, nearest first, each with whether the point
   * is inside its view frustum. A degree box narrows the rows in SQL; distances are exact in JS.
   */
  async near(query: {
    lon: number;
    lat: number;
    height: number;
    radius: number;
    limit: number;
  }): Promise<NearCamera[]> {
    const dLat = (query.radius / EARTH_RADIUS) * (180 / Math.PI) * 1.01;
    const cosLat = Math.max(Math.cos((query.lat * Math.PI) / 180), 1e-6);
    const dLon = Math.min(180, dLat / cosLat);
    const res = await this.db.pool.query<CameraRow>(
      `SELECT * FROM ${this.table} WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4`,
      [query.lat - dLat, query.lat + dLat, query.lon - dLon, query.lon + dLon],
    );
    const point = { lon: query.lon, lat: query.lat, height: query.height };
    return res.rows
      .map((row) => {
        const camera = toCamera(row);
        const view = viewTest(camera, point);
        return {
          ...camera,
          distance: view.horizontal,
          distance3d: view.distance,
          bearing: view.bearing,
          sees: view.sees,
        };
      })
      .filter((c) => c.distance <= query.radius)
      .sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id))
      .slice(0, query.limit);
  }

  /**
   * Availability (完好率) for one day: per camera, the share of the day it was online, counted from its
   * first status record (a camera installed at noon is judged on the afternoon); today ends now.
   */
  async availability(day: string, utcOffset: string, now = new Date()): Promise<CameraAvailability> {
    const from = new Date(`${day}T00:00:00${utcOffset}`);
    if (Number.isNaN(from.getTime())) throw new CameraStateError(`invalid day "${day}"`, 400);
    const to = new Date(Math.min(from.getTime() + DAY_MS, now.getTime()));
    const cameras = await this.db.pool.query<{ id: string; name: string }>(
      `SELECT id, name FROM ${this.table} ORDER BY id`,
    );
    // The status in effect at the start of the day, then every change during it.
    const rows = await this.db.pool.query<{ camera_id: string; at: Date; status: CameraStatus }>(
      `SELECT camera_id, at, status FROM (
         SELECT DISTINCT ON (camera_id) camera_id, at, status, id FROM ${this.history}
         WHERE at < $1 ORDER BY camera_id, at DESC, id DESC
       ) b
       UNION ALL
       SELECT camera_id, at, status FROM ${this.history} WHERE at >= $1 AND at < $2
       ORDER BY camera_id, at`,
      [from, to],
    );
    const byCamera = new Map<string, { at: number; status: CameraStatus }[]>();
    for (const r of rows.rows) {
      const list = byCamera.get(r.camera_id) ?? [];
      list.push({ at: r.at.getTime(), status: r.status });
      byCamera.set(r.camera_id, list);
    }
    let onlineSum = 0;
    let knownSum = 0;
    const result: CameraAvailability["cameras"] = [];
    const end = to.getTime();
    for (const cam of cameras.rows) {
      const changes = byCamera.get(cam.id) ?? [];
      let online = 0;
      let known = 0;
      for (let i = 0; i < changes.length; i++) {
        const start = Math.max(changes[i].at, from.getTime());
        const stop = Math.min(i + 1 < changes.length ? changes[i + 1].at : end, end);
        if (stop <= start) continue;
        known += stop - start;
        if (changes[i].status === "online") online += stop - start;
      }
      onlineSum += online;
      knownSum += known;
      result.push({
        id: cam.id,
        name: cam.name,
        onlineSeconds: online / 1000,
        knownSeconds: known / 1000,
        rate: known > 0 ? online / known : null,
      });
    }
    return {
      day,
      from: from.toISOString(),
      to: to.toISOString(),
      cameras: result,
      overall: knownSum > 0 ? onlineSum / knownSum : null,
    };
  }
}
