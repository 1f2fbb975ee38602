import type { Alarm } from "../../../models/alarms.ts";
import type { ReplayedAlarm } from "./replay-state.ts";

/** An alarm as the live list knows it, from its replayed state; no lifecycle actions in the past. */
export function replayedAlarm(a: ReplayedAlarm): Alarm {
  const at = a.last.at;
  return {
    id: a.alarmId,
    deviceId: a.deviceId,
    deviceType: a.deviceType,
    deviceName: a.deviceName,
    kind: a.kind,
    quantity: a.quantity,
    unit: a.unit,
    ruleId: null,
    level: a.level,
    peakLevel: a.peakLevel,
    status: a.status,
    active: a.active,
    value: a.value ?? Number.NaN,
    limit: a.limit,
    count: 1,
    assignee: a.last.assignee,
    lon: a.lon,
    lat: a.lat,
    height: a.height,
    raisedAt: a.raisedAt,
    lastAt: at,
    clearedAt: a.active ? null : at,
    statusAt: at,
    closedAt: a.status === "closed" ? at : null,
    actions: [],
  };
}
