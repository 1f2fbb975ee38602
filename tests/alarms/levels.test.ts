import { describe, expect, it } from "vitest";
import { type AlarmLevel, AlarmRuleInputSchema, DEFAULT_RULES } from "../../models/alarms.ts";
import { DEVICE_TYPES } from "../../models/devices.ts";
import { breachedLevel, nextLevel } from "../../tiles-server/alarms/levels.ts";

const upper = { yellow: 10, orange: 25, red: 50 };

/** Runs values through nextLevel, returning the level after each. */
function walk(
  kind: "upper" | "lower",
  limits: object,
  deadband: number,
  values: number[],
): (AlarmLevel | null)[] {
  let level: AlarmLevel | null = null;
  return values.map((v) => {
    level = nextLevel(kind, limits, deadband, v, level);
    return level;
  });
}

describe("alarm levels with hysteresis", () => {
  it("picks the most severe breached level", () => {
    expect(breachedLevel("upper", upper, 9.99)).toBeNull();
    expect(breachedLevel("upper", upper, 10)).toBe("yellow");
    expect(breachedLevel("upper", upper, 49)).toBe("orange");
    expect(breachedLevel("upper", upper, 80)).toBe("red");
    expect(breachedLevel("lower", { yellow: 0.14, orange: 0.1, red: 0.05 }, 0.09)).toBe("orange");
  });

  it("raises at the limit, holds inside the deadband, clears below limit - deadband", () => {
    expect(walk("upper", upper, 2, [5, 10, 9, 8.5, 8.01, 7.9, 9.5, 10.5])).toEqual([
      null,
      "yellow",
      "yellow",
      "yellow",
      "yellow",
      null,
      null,
      "yellow",
    ]);
  });

  it("escalates at once and steps down only past the deadband", () => {
    expect(walk("upper", upper, 2, [12, 55, 49, 48.5, 47.9, 24, 22.9, 9, 7])).toEqual([
      "yellow",
      "red",
      "red",
      "red",
      "orange",
      "orange",
      "yellow",
      "yellow",
      null,
    ]);
  });

  it("jumps straight from red to clear when the value falls below every band", () => {
    expect(walk("upper", upper, 2, [60, 3])).toEqual(["red", null]);
  });

  it("mirrors for lower limits", () => {
    expect(
      walk("lower", { yellow: 0.14, orange: 0.1, red: 0.05 }, 0.02, [0.2, 0.13, 0.15, 0.161, 0.04, 0.08]),
    ).toEqual([null, "yellow", "yellow", null, "red", "orange"]);
  });

  it("ships valid defaults for every device type of the registry", () => {
    for (const type of Object.keys(DEVICE_TYPES)) {
      const rules = DEFAULT_RULES[type as keyof typeof DEFAULT_RULES];
      expect(rules, type).toBeDefined();
      for (const rule of rules ?? []) {
        const parsed = AlarmRuleInputSchema.safeParse({
          scope: "type",
          target: type,
          ...rule,
          note: undefined,
        });
        expect(parsed.success, `${type} ${rule.kind} ${rule.quantity}: ${parsed.error?.message}`).toBe(true);
      }
      expect(
        rules?.some((r) => r.kind === "offline"),
        type,
      ).toBe(true);
    }
  });
});
