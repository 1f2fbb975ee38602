import { ALARM_LEVELS, type AlarmLevel } from "../../models/alarms.ts";
import { type CitySummary, utcOffsetMs } from "../../models/cockpit.ts";
import type { AlarmQueries } from "../alarms/alarm-queries.ts";
import type { CameraStore } from "../cameras/camera-store.ts";
import type { Database } from "../db/database.ts";
import { type DeviceScope, deviceScopeSql } from "../iot/device-scope.ts";

/** A device without an offline rule counts as online for this long after its last reading. */
const DEFAULT_ONLINE_S = 900;

/** "YYYY-MM-DD" of `now` in the time zone at `utcOffset` (e.g. +08:00). */
export function localDay(now: Date, utcOffset: string): string {
  return new Date(now.getTime() + utcOffsetMs(utcOffset)).toISOString().slice(0, 10);
}

/**
 * The cockpit's vital signs, each from its own table in one round of queries: devices online,
 * alarms of the day, cameras, pipe lengths by class and what the layer catalog holds.
 */
export class CitySummaryQueries {
  constructor(
    private readonly db: Database,
    private readonly alarms: AlarmQueries,
    private readonly cameras: CameraStore,
  ) {}

  /**
   * `department` / `sharing` narrow the device and alarm figures to an audience's devices (a department, the
   * public); cameras, pipes and layers are the city's whatever the audience.
   */
  async summary(
    opts: { day?: string; utcOffset: string } & DeviceScope,
    now = new Date(),
  ): Promise<CitySummary> {
    const day = opts.day ?? localDay(now, opts.utcOffset);
    const dayStart = new Date(`${day}T00:00:00${opts.utcOffset}`);
    const scope: DeviceScope = { department: opts.department, sharing: opts.sharing };
    const [devices, alarms, alarmsByHour, cameras, availability, pipes, layers] = await Promise.all([
      this.devices(scope),
      this.alarms.stats(dayStart, scope),
      this.alarmsByHour(dayStart, scope),
      this.cameraCounts(),
      this.cameras.availability(day, opts.utcOffset, now),
      this.pipes(),
      this.layers(),
    ]);
    return {
      generatedAt: now.toISOString(),
      day,
      utcOffset: opts.utcOffset,
      scope,
      devices,
      alarms,
      alarmsByHour,
      cameras: { ...cameras, availability: availability.overall },
      pipes,
      layers,
    };
  }

  private async devices(scope: DeviceScope): Promise<CitySummary["devices"]> {
    const devices = this.db.table("devices");
    const rules = this.db.table("alarm_rules");
    const inScope = deviceScopeSql(this.db, "d.id", scope, 2);
    // The offline rule's first limit is where a device stops counting as online: its own rule first,
    // then its type's (the same precedence as the alarm engine).
    const { rows } = await this.db.pool.query<{ type: string; total: number; online: number }>(
      `SELECT d.type, count(*)::int AS total,
              (count(*) FILTER (WHERE d.last_seen >= now() - make_interval(secs =>
                 COALESCE(dr.yellow, dr.orange, dr.red, tr.yellow, tr.orange, tr.red, $1))))::int AS online
       FROM ${devices} d
       LEFT JOIN ${rules} dr ON dr.scope = 'device' AND dr.target = d.id AND dr.kind = 'offline' AND dr.enabled
       LEFT JOIN ${rules} tr ON tr.scope = 'type' AND tr.target = d.type AND tr.kind = 'offline' AND tr.enabled
       WHERE ${inScope.sql}
       GROUP BY d.type ORDER BY d.type`,
      [DEFAULT_ONLINE_S, ...inScope.params],
    );
    const byType: Record<string, { total: number; online: number }> = {};
    let total = 0;
    let online = 0;
    for (const r of rows) {
      byType[r.type] = { total: r.total, online: r.online };
      total += r.total;
      online += r.online;
    }
    return { total, online, onlineRate: total > 0 ? online / total : null, byType };
  }

  private async alarmsByHour(dayStart: Date, scope: DeviceScope): Promise<CitySummary["alarmsByHour"]> {
    const inScope = deviceScopeSql(this.db, "device_id", scope, 2);
    const { rows } = await this.db.pool.query<{ hour: number; level: AlarmLevel; n: number }>(
      `SELECT floor(extract(epoch FROM raised_at - $1::timestamptz) / 3600)::int AS hour,
              peak_level AS level, count(*)::int AS n
       FROM ${this.db.table("alarms")}
       WHERE raised_at >= $1 AND raised_at < $1::timestamptz + interval '24 hours' AND ${inScope.sql}
       GROUP BY 1, 2`,
      [dayStart, ...inScope.params],
    );
    const byLevel = Object.fromEntries(ALARM_LEVELS.map((l) => [l, new Array<number>(24).fill(0)])) as Record<
      AlarmLevel,
      number[]
    >;
    for (const r of rows) byLevel[r.level][r.hour] += r.n;
    return byLevel;
  }

  private async cameraCounts(): Promise<{ total: number; online: number }> {
    const { rows } = await this.db.pool.query<{ total: number; online: number }>(
      `SELECT count(*)::int AS total, (count(*) FILTER (WHERE status = 'online'))::int AS online
       FROM ${this.db.table("cameras")}`,
    );
    return rows[0];
  }

  private async pipes(): Promise<CitySummary["pipes"]> {
    const { rows } = await this.db.pool.query<{ pipe_class: string; length: number; n: number }>(
      `SELECT pipe_class, COALESCE(sum(COALESCE(length, drawn_length)), 0)::float8 AS length, count(*)::int AS n
       FROM ${this.db.table("pipe_links")} GROUP BY pipe_class ORDER BY pipe_class`,
    );
    const lengthByClass: Record<string, number> = {};
    let totalLength = 0;
    let segments = 0;
    for (const r of rows) {
      lengthByClass[r.pipe_class] = r.length;
      totalLength += r.length;
      segments += r.n;
    }
    return { lengthByClass, totalLength, segments };
  }

  private async layers(): Promise<CitySummary["layers"]> {
    const { rows } = await this.db.pool.query<{ type: string; layers: number; features: number }>(
      `SELECT type, count(*)::int AS layers, COALESCE(sum(feature_count), 0)::int AS features
       FROM ${this.db.table("layers")} GROUP BY type`,
    );
    const of = (type: string) => rows.find((r) => r.type === type);
    return {
      buildings: of("buildings")?.features ?? 0,
      bimModels: of("bim")?.layers ?? 0,
      bimElements: of("bim")?.features ?? 0,
      pipeLayers: of("pipes")?.layers ?? 0,
      pointClouds: of("pointcloud")?.layers ?? 0,
      realityMeshes: of("reality-mesh")?.layers ?? 0,
    };
  }
}
