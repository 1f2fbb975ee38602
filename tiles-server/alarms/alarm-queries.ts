import {
  ALARM_LEVELS,
  ALARM_STATUSES,
  type Alarm,
  type AlarmLevel,
  type AlarmListQuery,
  type AlarmStats,
  type AlarmStatus,
  type AlarmTimelineEntry,
  type AlarmWithHistory,
  RULE_KINDS,
  type RuleKind,
} from "../../models/alarms.ts";
import type { Database } from "../db/database.ts";
import { type DeviceScope, deviceScopeSql } from "../iot/device-scope.ts";
import { type AlarmRow, type HistoryRow, toAlarm, toHistoryEntry } from "./rows.ts";

const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** Read side of the alarms: lists, one alarm with its history, cockpit counts, the timeline. */
export class AlarmQueries {
  constructor(private readonly db: Database) {}

  async list(query: AlarmListQuery): Promise<{ items: Alarm[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (query.status) {
      const statuses = query.status.filter((s) => s !== "open");
      const clauses: string[] = [];
      if (query.status.includes("open")) clauses.push("status <> 'closed'");
      if (statuses.length) {
        params.push(statuses);
        clauses.push(`status = ANY($${params.length}::text[])`);
      }
      where.push(`(${clauses.join(" OR ")})`);
    }
    if (query.level) add((p) => `level = ANY(${p}::text[])`, query.level);
    if (query.kind) add((p) => `kind = ANY(${p}::text[])`, query.kind);
    if (query.device) add((p) => `device_id = ${p}`, query.device);
    if (query.type) add((p) => `device_type = ${p}`, query.type);
    if (query.active) add((p) => `active = ${p}`, query.active === "true");
    if (query.to) add((p) => `raised_at <= ${p}`, query.to);
    if (query.from) add((p) => `(closed_at IS NULL OR closed_at >= ${p})`, query.from);
    if (query.bbox) {
      const [w, s, e, n] = query.bbox;
      add((p) => `lon >= ${p}`, w);
      add((p) => `lat >= ${p}`, s);
      add((p) => `lon <= ${p}`, e);
      add((p) => `lat <= ${p}`, n);
    }
    const whereSql = where.length ? `WHERE ${where.join(" AND ")}` : "";
    params.push(query.limit);
    const res = await this.db.pool.query<AlarmRow & { total: string }>(
      `SELECT *, count(*) OVER () AS total FROM ${this.db.table("alarms")} ${whereSql}
       ORDER BY raised_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const total = res.rows.length ? Number(res.rows[0].total) : 0;
    return { items: res.rows.map(toAlarm), total };
  }

  async get(id: number): Promise<AlarmWithHistory | undefined> {
    const alarm = await this.db.pool.query<AlarmRow>(
      `SELECT * FROM ${this.db.table("alarms")} WHERE id = $1`,
      [id],
    );
    if (alarm.rows.length === 0) return undefined;
    const history = await this.db.pool.query<HistoryRow>(
      `SELECT * FROM ${this.db.table("alarm_history")} WHERE alarm_id = $1 ORDER BY at, id`,
      [id],
    );
    return { ...toAlarm(alarm.rows[0]), history: history.rows.map(toHistoryEntry) };
  }

  /** Alarm counts since a moment; `scope` narrows them to some devices' alarms (a department's cockpit). */
  async stats(since: Date, scope: DeviceScope = {}): Promise<AlarmStats> {
    const alarms = this.db.table("alarms");
    const inScope = deviceScopeSql(this.db, "device_id", scope, 2);
    const openScope = deviceScopeSql(this.db, "device_id", scope, 1);
    const raised = await this.db.pool.query<{
      peak_level: AlarmLevel;
      device_type: string;
      kind: RuleKind;
      n: string;
    }>(
      `SELECT peak_level, device_type, kind, count(*) AS n FROM ${alarms} WHERE raised_at >= $1 AND ${inScope.sql}
       GROUP BY peak_level, device_type, kind`,
      [since, ...inScope.params],
    );
    const open = await this.db.pool.query<{
      status: AlarmStatus;
      level: AlarmLevel;
      active: boolean;
      n: string;
    }>(
      `SELECT status, level, active, count(*) AS n FROM ${alarms} WHERE status <> 'closed' AND ${openScope.sql}
       GROUP BY status, level, active`,
      openScope.params,
    );
    const closed = await this.db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${alarms} WHERE closed_at >= $1 AND ${inScope.sql}`,
      [since, ...inScope.params],
    );
    const stats: AlarmStats = {
      since: since.toISOString(),
      raised: { total: 0, byLevel: zeros(ALARM_LEVELS), byDeviceType: {}, byKind: zeros(RULE_KINDS) },
      open: {
        total: 0,
        active: 0,
        byStatus: zeros(ALARM_STATUSES),
        byLevel: zeros(ALARM_LEVELS),
      },
      closed: Number(closed.rows[0].n),
    };
    for (const r of raised.rows) {
      const n = Number(r.n);
      stats.raised.total += n;
      stats.raised.byLevel[r.peak_level] += n;
      stats.raised.byKind[r.kind] += n;
      stats.raised.byDeviceType[r.device_type] = (stats.raised.byDeviceType[r.device_type] ?? 0) + n;
    }
    for (const r of open.rows) {
      const n = Number(r.n);
      stats.open.total += n;
      if (r.active) stats.open.active += n;
      stats.open.byStatus[r.status] += n;
      stats.open.byLevel[r.level] += n;
    }
    return stats;
  }

  /** Every history row in [from, to] with its alarm's identity and place, oldest first. */
  async timeline(
    from: Date,
    to: Date,
    limit: number,
  ): Promise<{ items: AlarmTimelineEntry[]; truncated: boolean }> {
    const res = await this.db.pool.query<
      HistoryRow & {
        device_id: string;
        device_type: string;
        alarm_kind: RuleKind;
        quantity: string | null;
        unit: string | null;
        device_name: string | null;
        limit_value: number;
        lon: number;
        lat: number;
        height: number;
      }
    >(
      `SELECT h.*, a.device_id, a.device_type, a.device_name, a.kind AS alarm_kind, a.quantity, a.unit,
              a.limit_value, a.lon, a.lat, a.height
       FROM ${this.db.table("alarm_history")} h JOIN ${this.db.table("alarms")} a ON a.id = h.alarm_id
       WHERE h.at >= $1 AND h.at <= $2
       ORDER BY h.at, h.id LIMIT $3`,
      [from, to, limit + 1],
    );
    const rows = res.rows.slice(0, limit);
    return {
      truncated: res.rows.length > limit,
      items: rows.map((r) => ({
        ...toHistoryEntry(r),
        deviceId: r.device_id,
        deviceType: r.device_type,
        deviceName: r.device_name,
        alarmKind: r.alarm_kind,
        quantity: r.quantity,
        unit: r.unit,
        limit: r.limit_value,
        lon: r.lon,
        lat: r.lat,
        height: r.height,
      })),
    };
  }
}
