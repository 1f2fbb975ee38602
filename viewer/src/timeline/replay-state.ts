import {
  type AlarmLevel,
  type AlarmStatus,
  type AlarmTimelineEntry,
  levelSeverity,
} from "../../../models/alarms.ts";
import type { Replay } from "../../../models/cockpit.ts";

/** An alarm as it stood at a moment of the replay. */
export interface ReplayedAlarm {
  alarmId: number;
  deviceId: string;
  deviceType: string;
  deviceName: string | null;
  kind: AlarmTimelineEntry["alarmKind"];
  unit: string | null;
  limit: number;
  quantity: string | null;
  /** When it was raised (its first row in the window if raised before it). */
  raisedAt: string;
  /** The latest value a row carried. */
  value: number | null;
  peakLevel: AlarmLevel;
  status: AlarmStatus;
  level: AlarmLevel;
  /** The condition still holds (not cleared). */
  active: boolean;
  lon: number;
  lat: number;
  height: number;
  /** The last history row at or before the moment. */
  last: AlarmTimelineEntry;
}

/** The city at one moment of the replay window. */
export interface ReplayFrame {
  t: number;
  /** deviceId -> quantity -> the last bucketed value at or before t. */
  values: Map<string, Map<string, number>>;
  /** deviceId -> start of the latest bucket at or before t that had a reading of it. */
  seenAt: Map<string, number>;
  /** Alarms that exist at t (raised at or before it), closed ones included with status "closed". */
  alarms: Map<number, ReplayedAlarm>;
}

/**
 * Time travel over the last hours: combines the bucketed sensor values (/api/cockpit/replay) and the
 * alarm history rows (/api/alarms/timeline) into the state at any moment. Moving forward applies only
 * the rows passed since the previous moment, so playback costs little per frame; moving back
 * replays from the start.
 */
export class ReplayState {
  readonly from: number;
  readonly to: number;
  private readonly entries: AlarmTimelineEntry[];
  private readonly entryTimes: number[];
  private applied = 0;
  private alarms = new Map<number, ReplayedAlarm>();

  constructor(
    private readonly replay: Replay,
    timeline: AlarmTimelineEntry[],
  ) {
    this.from = Date.parse(replay.from);
    this.to = Date.parse(replay.to);
    this.entries = [...timeline].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
    this.entryTimes = this.entries.map((e) => Date.parse(e.at));
  }

  /** The state at `t` (clamped to the window). */
  at(t: number): ReplayFrame {
    const time = Math.min(this.to, Math.max(this.from, t));
    const { values, seenAt } = this.valuesAt(time);
    return { t: time, values, seenAt, alarms: new Map(this.alarmsAt(time)) };
  }

  /** History rows in (t0, t1]: what a ticker announces while playing from t0 to t1. */
  eventsBetween(t0: number, t1: number): AlarmTimelineEntry[] {
    const start = upperBound(this.entryTimes, t0);
    const end = upperBound(this.entryTimes, t1);
    return this.entries.slice(start, end);
  }

  private valuesAt(t: number): Pick<ReplayFrame, "values" | "seenAt"> {
    const bucket = Math.floor((t - this.from) / this.replay.bucketMs);
    const values = new Map<string, Map<string, number>>();
    const seenAt = new Map<string, number>();
    for (const [deviceId, quantities] of Object.entries(this.replay.series)) {
      for (const [quantity, points] of Object.entries(quantities)) {
        // Points are sorted by bucket: the last one at or before t's bucket.
        let lo = 0;
        let hi = points.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (points[mid][0] <= bucket) lo = mid + 1;
          else hi = mid;
        }
        if (lo === 0) continue;
        const byQuantity = values.get(deviceId) ?? new Map<string, number>();
        values.set(deviceId, byQuantity);
        byQuantity.set(quantity, points[lo - 1][1]);
        const at = this.from + points[lo - 1][0] * this.replay.bucketMs;
        seenAt.set(deviceId, Math.max(seenAt.get(deviceId) ?? at, at));
      }
    }
    return { values, seenAt };
  }

  private alarmsAt(t: number): Map<number, ReplayedAlarm> {
    const target = upperBound(this.entryTimes, t);
    if (target < this.applied) {
      this.alarms = new Map();
      this.applied = 0;
    }
    for (; this.applied < target; this.applied++) this.apply(this.entries[this.applied]);
    return this.alarms;
  }

  private apply(e: AlarmTimelineEntry): void {
    const prev = this.alarms.get(e.alarmId);
    // An alarm raised before the window shows up with its first row in it: the row's "from" side is
    // how it stood until then.
    const status = e.toStatus ?? prev?.status ?? e.fromStatus ?? "raised";
    const level = e.toLevel ?? prev?.level ?? e.fromLevel ?? "blue";
    let active = prev?.active ?? true;
    if (e.kind === "raised" || e.kind === "reraised") active = true;
    if (e.kind === "cleared") active = false;
    const peak = prev && levelSeverity(prev.peakLevel) >= levelSeverity(level) ? prev.peakLevel : level;
    this.alarms.set(e.alarmId, {
      alarmId: e.alarmId,
      deviceId: e.deviceId,
      deviceType: e.deviceType,
      deviceName: e.deviceName,
      kind: e.alarmKind,
      unit: e.unit,
      limit: e.limit,
      quantity: e.quantity,
      raisedAt: e.kind === "raised" || !prev ? e.at : prev.raisedAt,
      value: e.value ?? prev?.value ?? null,
      peakLevel: peak,
      status,
      level,
      active,
      lon: e.lon,
      lat: e.lat,
      height: e.height,
      last: e,
    });
  }
}

/** Index of the first element greater than x in a sorted array. */
function upperBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
