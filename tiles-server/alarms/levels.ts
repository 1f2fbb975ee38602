import {
  ALARM_LEVELS,
  type AlarmLevel,
  type LevelLimits,
  levelSeverity,
  type RuleKind,
} from "../../models/alarms.ts";

/** `lower` rules fire at or below their limits; the others (upper, rate, offline) at or above. */
function fires(kind: RuleKind, value: number, limit: number): boolean {
  return kind === "lower" ? value <= limit : value >= limit;
}

/** Still inside the hysteresis band of a limit: not yet back by more than `deadband`. */
function holds(kind: RuleKind, value: number, limit: number, deadband: number): boolean {
  return kind === "lower" ? value < limit + deadband : value > limit - deadband;
}

/** Most severe level whose limit the value breaches, or null. */
export function breachedLevel(kind: RuleKind, limits: LevelLimits, value: number): AlarmLevel | null {
  for (const level of ALARM_LEVELS) {
    const limit = limits[level];
    if (limit !== undefined && fires(kind, value, limit)) return level;
  }
  return null;
}

/**
 * The level an alarm should have after `value`, given the level it has now (null: no active alarm).
 * Escalation is immediate (any breached level more severe than the current one); stepping down or
 * clearing needs the value back inside a level's limit by more than the deadband, so a value hovering
 * around a limit neither flaps nor floods the operators.
 */
export function nextLevel(
  kind: RuleKind,
  limits: LevelLimits,
  deadband: number,
  value: number,
  current: AlarmLevel | null,
): AlarmLevel | null {
  const breached = breachedLevel(kind, limits, value);
  if (current === null) return breached;
  let held: AlarmLevel | null = null;
  for (const level of ALARM_LEVELS) {
    if (levelSeverity(level) > levelSeverity(current)) continue;
    const limit = limits[level];
    if (limit !== undefined && holds(kind, value, limit, deadband)) {
      held = level;
      break;
    }
  }
  return levelSeverity(breached) >= levelSeverity(held) ? breached : held;
}

/** The limit that belongs to a level (for display); NaN when the rule has none for it. */
export function limitOf(limits: LevelLimits, level: AlarmLevel): number {
  return limits[level] ?? Number.NaN;
}
