import {
  ALARM_LEVEL_LABELS,
  ALARM_STATUS_LABELS,
  type AlarmLevel,
  type AlarmStatus,
} from "../../../models/alarms.ts";
import { DEVICE_TYPES, type Device } from "../../../models/devices.ts";
import { currentLang } from "../i18n.ts";

const lang = () => (currentLang() === "en" ? "en" : "zh");

export function deviceTypeLabel(type: string): string {
  const entry = (DEVICE_TYPES as Record<string, { zh: string; en: string } | undefined>)[type];
  return entry ? entry[lang()] : type;
}

/** The unit a device's readings carry: its own, else its type's. */
export function deviceUnit(device: Pick<Device, "unit" | "type">): string {
  return device.unit ?? DEVICE_TYPES[device.type]?.unit ?? "";
}

export function levelLabel(level: AlarmLevel): string {
  return ALARM_LEVEL_LABELS[level][lang()];
}

export function statusLabel(status: AlarmStatus): string {
  return ALARM_STATUS_LABELS[status][lang()];
}

/** Three significant digits for small values (0.032 MPa), whole numbers with one decimal above 100. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return String(Math.round(value * 10) / 10);
  return String(Number(value.toPrecision(3)));
}

/** The city's own clock (China Standard Time), which the cockpit shows whatever the screen's time zone. */
export const CITY_TIME_ZONE = "Asia/Shanghai";

const cityClockFormat = new Intl.DateTimeFormat("zh-CN", {
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: CITY_TIME_ZONE,
});

/** "HH:mm" on the city's clock (chart axes of the cockpit). */
export function formatCityClock(ms: number): string {
  return cityClockFormat.format(ms);
}

/** Date and time in the UI language, in the browser's time zone unless one is given. */
export function formatTime(iso: string | number, timeZone?: string): string {
  const d = new Date(iso);
  return d.toLocaleString(currentLang() === "en" ? "en-GB" : "zh-CN", { hour12: false, timeZone });
}
