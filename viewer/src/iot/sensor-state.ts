import { ALARM_LEVELS, type Alarm, type AlarmLevel, levelSeverity } from "../../../models/alarms.ts";

/** How a sensor marker is drawn: its worst open alarm level, offline (silent), or normal. */
export type SensorState = AlarmLevel | "offline" | "normal";

export const SENSOR_STATES: readonly SensorState[] = [...ALARM_LEVELS, "offline", "normal"];

/** Chinese early-warning colours for the levels; grey for silent devices, green for normal. */
export const STATE_COLORS: Record<SensorState, string> = {
  red: "#ff2a2a",
  orange: "#ff8c1a",
  yellow: "#ffd400",
  blue: "#2f86ff",
  offline: "#8a94a6",
  normal: "#2fd17a",
};

/** Most severe first, for clusters and sorting. */
export function stateRank(state: SensorState): number {
  if (state === "normal") return 0;
  if (state === "offline") return 0.5;
  return levelSeverity(state);
}

/** The worst level among alarms, or undefined when there is none. */
export function worstLevel(alarms: Iterable<Alarm>): AlarmLevel | undefined {
  let worst: AlarmLevel | undefined;
  for (const a of alarms) if (levelSeverity(a.level) > levelSeverity(worst)) worst = a.level;
  return worst;
}

/**
 * A sensor's state from its open (not closed) alarms: value alarms give their worst level, which stays
 * until the operator closes the alarm (the city's closed loop), so a pipe that recovered on its own is
 * still marked until someone has looked at it. Otherwise an active offline alarm, or a device that never
 * reported, is "offline".
 */
export function sensorState(openAlarms: readonly Alarm[], hasReported: boolean): SensorState {
  const level = worstLevel(openAlarms.filter((a) => a.kind !== "offline"));
  if (level) return level;
  if (openAlarms.some((a) => a.kind === "offline" && a.active)) return "offline";
  return hasReported ? "normal" : "offline";
}
