import { DEFAULT_RULES } from "../../../models/alarms.ts";
import type { Device } from "../../../models/devices.ts";

/** Device types watched on the live chart and K-line, most telling first (a water main's pressure). */
const KEY_TYPES = ["pipe_pressure", "water_level", "gas_concentration", "temperature"] as const;
const MAX_KEY_SENSORS = 3;

/** The quantity a device type is judged by: the one its first built-in value rule watches. */
export function mainQuantity(type: string): string | undefined {
  const rules = DEFAULT_RULES[type as keyof typeof DEFAULT_RULES] ?? [];
  return rules.find((r) => r.quantity)?.quantity ?? undefined;
}

/** A few sensors of the first key type the city has, in registry order (the same on every screen). */
export function pickKeySensors(devices: readonly Device[]): Device[] {
  for (const type of KEY_TYPES) {
    const ofType = devices.filter((d) => d.type === type);
    if (ofType.length > 0) return ofType.slice(0, MAX_KEY_SENSORS);
  }
  return [];
}
