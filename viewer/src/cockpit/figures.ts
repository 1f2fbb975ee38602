import { ALARM_LEVELS } from "../../../models/alarms.ts";
import type { CitySummary } from "../../../models/cockpit.ts";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { levelLabel } from "../iot/labels.ts";
import { STATE_COLORS } from "../iot/sensor-state.ts";

/**
 * The headline numbers of the summary, by the dotted key the page's `dd[data-kpi]` elements name. Each such
 * element shows the number formatted and keeps the raw value in `data-value` (what tests compare with the API).
 */
export function kpiValues(s: CitySummary): Record<string, number | null> {
  const values: Record<string, number | null> = {
    "devices.total": s.devices.total,
    "devices.online": s.devices.online,
    "devices.onlineRate": s.devices.onlineRate,
    "alarms.raised.total": s.alarms.raised.total,
    "alarms.open.total": s.alarms.open.total,
    "alarms.open.active": s.alarms.open.active,
    "alarms.closed": s.alarms.closed,
    "cameras.total": s.cameras.total,
    "cameras.online": s.cameras.online,
    "cameras.availability": s.cameras.availability,
    "layers.buildings": s.layers.buildings,
    "layers.bimModels": s.layers.bimModels,
    "layers.bimElements": s.layers.bimElements,
    "pipes.totalLength": s.pipes.totalLength,
    "pipes.segments": s.pipes.segments,
  };
  for (const level of ALARM_LEVELS)
    values[`alarms.raised.byLevel.${level}`] = s.alarms.raised.byLevel[level] ?? 0;
  return values;
}

const RATE_KEYS = new Set(["devices.onlineRate", "cameras.availability"]);

function formatKpi(key: string, value: number | null): string {
  if (value === null) return "—";
  if (RATE_KEYS.has(key)) return `${(value * 100).toFixed(1)}%`;
  // Shown in km, kept in metres in data-value like the API.
  if (key === "pipes.totalLength") return (value / 1000).toFixed(2);
  return value.toLocaleString("zh-CN");
}

/** Writes the figures into every `[data-kpi]` element under `root`; the per-level row is built here. */
export function renderFigures(root: ParentNode, s: CitySummary): Record<string, number | null> {
  const values = kpiValues(s);
  const levels = root.querySelector<HTMLElement>("#kpi-levels");
  if (levels && levels.childElementCount === 0) {
    for (const level of ALARM_LEVELS) {
      levels.append(
        h(
          "div",
          { style: `--level:${STATE_COLORS[level]}` },
          h("dt", { "data-level": level }),
          h("dd", { "data-kpi": `alarms.raised.byLevel.${level}` }, "—"),
        ),
      );
    }
  }
  for (const dt of root.querySelectorAll<HTMLElement>("#kpi-levels dt[data-level]"))
    dt.textContent = t("cockpit.kpi.levelToday", { level: levelLabel(dt.dataset.level as "red") });
  for (const el of root.querySelectorAll<HTMLElement>("[data-kpi]")) {
    const key = el.dataset.kpi!;
    if (!(key in values)) continue;
    const value = values[key]!;
    el.textContent = formatKpi(key, value);
    el.dataset.value = value === null ? "" : String(value);
  }
  return values;
}
