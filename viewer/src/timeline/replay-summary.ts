import { ALARM_LEVELS, ALARM_STATUSES, RULE_KINDS } from "../../../models/alarms.ts";
import { type CitySummary, utcOffsetMs } from "../../../models/cockpit.ts";
import type { ReplayFrame } from "./replay-state.ts";

/** A device counts as online when it reported within this long before the moment (the default offline limit). */
const ONLINE_WITHIN_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;

/**
 * The cockpit's vital signs at a replayed moment: the alarm and device figures recomputed from the replay,
 * the rest (cameras, pipes, layers) as the live summary has them, since the replay does not cover them.
 * "Today" is the replayed moment's day in the summary's time zone.
 */
export function replaySummary(
  live: CitySummary,
  frame: ReplayFrame,
  typeOf: (deviceId: string) => string | undefined,
): CitySummary {
  const offsetMs = utcOffsetMs(live.utcOffset);
  const dayStart = Math.floor((frame.t + offsetMs) / (24 * HOUR_MS)) * 24 * HOUR_MS - offsetMs;
  const day = new Date(dayStart + offsetMs).toISOString().slice(0, 10);

  const zeros = <K extends string>(keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  const alarms: CitySummary["alarms"] = {
    since: new Date(dayStart).toISOString(),
    raised: { total: 0, byLevel: zeros(ALARM_LEVELS), byDeviceType: {}, byKind: zeros(RULE_KINDS) },
    open: { total: 0, active: 0, byStatus: zeros(ALARM_STATUSES), byLevel: zeros(ALARM_LEVELS) },
    closed: 0,
  };
  const alarmsByHour = Object.fromEntries(
    ALARM_LEVELS.map((l) => [l, new Array<number>(24).fill(0)]),
  ) as CitySummary["alarmsByHour"];
  for (const a of frame.alarms.values()) {
    const raisedAt = Date.parse(a.raisedAt);
    if (raisedAt >= dayStart) {
      alarms.raised.total++;
      alarms.raised.byLevel[a.peakLevel]++;
      alarms.raised.byKind[a.kind]++;
      alarms.raised.byDeviceType[a.deviceType] = (alarms.raised.byDeviceType[a.deviceType] ?? 0) + 1;
      alarmsByHour[a.peakLevel][Math.min(23, Math.floor((raisedAt - dayStart) / HOUR_MS))]++;
    }
    if (a.status === "closed") {
      if (Date.parse(a.last.at) >= dayStart) alarms.closed++;
      continue;
    }
    alarms.open.total++;
    if (a.active) alarms.open.active++;
    alarms.open.byStatus[a.status]++;
    alarms.open.byLevel[a.level]++;
  }

  const byType: CitySummary["devices"]["byType"] = {};
  for (const [type, { total }] of Object.entries(live.devices.byType)) byType[type] = { total, online: 0 };
  let online = 0;
  for (const [deviceId, at] of frame.seenAt) {
    if (frame.t - at > ONLINE_WITHIN_MS) continue;
    const type = typeOf(deviceId);
    if (type === undefined || !byType[type]) continue;
    byType[type].online++;
    online++;
  }
  const total = live.devices.total;
  return {
    ...live,
    generatedAt: new Date(frame.t).toISOString(),
    day,
    devices: { total, online, onlineRate: total > 0 ? online / total : null, byType },
    alarms,
    alarmsByHour,
  };
}
