import type { AlarmTimelineEntry } from "../../../models/alarms.ts";

const MIN = 60_000;

/**
 * Alarm timeline rows as GET /api/alarms/timeline returns them, for a pressure gauge "p-1" unless told:
 * `row(alarmId, minutesAfterStart, overrides)`, ids in creation order.
 */
export function timelineRows(start: number) {
  let nextId = 1;
  return (alarmId: number, min: number, e: Partial<AlarmTimelineEntry>): AlarmTimelineEntry => ({
    id: nextId++,
    alarmId,
    kind: "raised",
    at: new Date(start + min * MIN).toISOString(),
    fromStatus: null,
    toStatus: null,
    fromLevel: null,
    toLevel: null,
    value: null,
    by: "system",
    note: null,
    assignee: null,
    deviceId: "p-1",
    deviceType: "pipe_pressure",
    deviceName: "压力 1",
    alarmKind: "lower",
    quantity: "pressure",
    unit: "MPa",
    limit: 0.05,
    lon: 118.3,
    lat: 33.95,
    height: -1.5,
    ...e,
  });
}
