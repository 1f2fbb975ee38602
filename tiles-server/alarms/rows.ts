import {
  type Alarm,
  type AlarmHistoryEntry,
  type AlarmHistoryKind,
  type AlarmLevel,
  type AlarmStatus,
  allowedActions,
  type RuleKind,
} from "../../models/alarms.ts";

/** An alarms row as pg returns it (bigint as text, timestamptz as Date). */
export interface AlarmRow {
  id: string;
  device_id: string;
  device_type: string;
  device_name: string | null;
  kind: RuleKind;
  quantity: string | null;
  unit: string | null;
  rule_id: string | null;
  level: AlarmLevel;
  peak_level: AlarmLevel;
  status: AlarmStatus;
  active: boolean;
  value: number;
  limit_value: number;
  count: number;
  assignee: string | null;
  lon: number;
  lat: number;
  height: number;
  raised_at: Date;
  last_at: Date;
  cleared_at: Date | null;
  status_at: Date;
  closed_at: Date | null;
}

export interface HistoryRow {
  id: string;
  alarm_id: string;
  kind: AlarmHistoryKind;
  at: Date;
  from_status: AlarmStatus | null;
  to_status: AlarmStatus | null;
  from_level: AlarmLevel | null;
  to_level: AlarmLevel | null;
  value: number | null;
  by: string;
  note: string | null;
  assignee: string | null;
}

export const ALARM_COLUMNS = [
  "device_id",
  "device_type",
  "device_name",
  "kind",
  "quantity",
  "unit",
  "rule_id",
  "level",
  "peak_level",
  "status",
  "active",
  "value",
  "limit_value",
  "count",
  "assignee",
  "lon",
  "lat",
  "height",
  "raised_at",
  "last_at",
  "cleared_at",
  "status_at",
  "closed_at",
] as const;

/** SQL type of each column, for the array parameters of batched writes (unnest). */
export const ALARM_COLUMN_TYPES: Record<(typeof ALARM_COLUMNS)[number] | "id", string> = {
  id: "bigint",
  device_id: "text",
  device_type: "text",
  device_name: "text",
  kind: "text",
  quantity: "text",
  unit: "text",
  rule_id: "bigint",
  level: "text",
  peak_level: "text",
  status: "text",
  active: "boolean",
  value: "float8",
  limit_value: "float8",
  count: "integer",
  assignee: "text",
  lon: "float8",
  lat: "float8",
  height: "float8",
  raised_at: "timestamptz",
  last_at: "timestamptz",
  cleared_at: "timestamptz",
  status_at: "timestamptz",
  closed_at: "timestamptz",
};

/** The columns the rule engine changes on an existing alarm (the lifecycle ones belong to transitions). */
export const ENGINE_COLUMNS = [
  "rule_id",
  "level",
  "peak_level",
  "active",
  "value",
  "limit_value",
  "count",
  "last_at",
  "cleared_at",
] as const;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function toAlarm(row: AlarmRow): Alarm {
  return {
    id: Number(row.id),
    deviceId: row.device_id,
    deviceType: row.device_type,
    deviceName: row.device_name,
    kind: row.kind,
    quantity: row.quantity,
    unit: row.unit,
    ruleId: row.rule_id === null ? null : Number(row.rule_id),
    level: row.level,
    peakLevel: row.peak_level,
    status: row.status,
    active: row.active,
    value: row.value,
    limit: row.limit_value,
    count: row.count,
    assignee: row.assignee,
    lon: row.lon,
    lat: row.lat,
    height: row.height,
    raisedAt: row.raised_at.toISOString(),
    lastAt: row.last_at.toISOString(),
    clearedAt: iso(row.cleared_at),
    statusAt: row.status_at.toISOString(),
    closedAt: iso(row.closed_at),
    actions: allowedActions(row.status),
  };
}

export function toHistoryEntry(row: HistoryRow): AlarmHistoryEntry {
  return {
    id: Number(row.id),
    alarmId: Number(row.alarm_id),
    kind: row.kind,
    at: row.at.toISOString(),
    fromStatus: row.from_status,
    toStatus: row.to_status,
    fromLevel: row.from_level,
    toLevel: row.to_level,
    value: row.value,
    by: row.by,
    note: row.note,
    assignee: row.assignee,
  };
}
