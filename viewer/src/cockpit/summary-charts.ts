import { ALARM_LEVELS, ALARM_STATUSES, RULE_KINDS } from "../../../models/alarms.ts";
import type { CitySummary } from "../../../models/cockpit.ts";
import { t } from "../i18n.ts";
import { deviceTypeLabel, levelLabel, statusLabel } from "../iot/labels.ts";
import { STATE_COLORS } from "../iot/sensor-state.ts";
import { isPipeClass, PIPE_CLASS_COLORS } from "../pipes/classes.ts";
import { type ChartOption, INK } from "./echarts-setup.ts";

const axisLabel = { color: INK.muted, fontSize: 13 };
const splitLine = { lineStyle: { color: INK.line } };
const tooltip = { trigger: "item", backgroundColor: "rgba(6, 18, 40, 0.92)", textStyle: { color: INK.text } };

/** 在线率 as a gauge (0-100 %). */
export function onlineGauge(s: CitySummary): ChartOption {
  const rate = s.devices.onlineRate === null ? 0 : s.devices.onlineRate * 100;
  return {
    series: [
      {
        type: "gauge",
        min: 0,
        max: 100,
        radius: "92%",
        progress: { show: true, width: 12, itemStyle: { color: "#27d3ff" } },
        axisLine: { lineStyle: { width: 12, color: [[1, "rgba(60, 110, 180, 0.35)"]] } },
        axisTick: { show: false },
        splitLine: { length: 6, lineStyle: { color: INK.muted } },
        axisLabel: { color: INK.muted, fontSize: 11, distance: 16 },
        pointer: { width: 4, itemStyle: { color: "#27d3ff" } },
        title: { color: INK.muted, fontSize: 13, offsetCenter: [0, "72%"] },
        detail: {
          valueAnimation: true,
          formatter: s.devices.onlineRate === null ? "—" : "{value}%",
          color: "#eaf6ff",
          fontSize: 26,
          fontWeight: "bold",
          offsetCenter: [0, "38%"],
        },
        data: [{ value: Number(rate.toFixed(1)), name: t("cockpit.kpi.onlineRate") }],
      },
    ],
  };
}

/** Alarms raised today by peak level, in the warning colours. */
export function levelBars(s: CitySummary): ChartOption {
  return {
    grid: { left: 40, right: 12, top: 14, bottom: 26 },
    tooltip: { ...tooltip, trigger: "axis" },
    xAxis: { type: "category", data: ALARM_LEVELS.map(levelLabel), axisLabel },
    yAxis: { type: "value", minInterval: 1, axisLabel, splitLine },
    series: [
      {
        type: "bar",
        barWidth: "45%",
        data: ALARM_LEVELS.map((l) => ({
          value: s.alarms.raised.byLevel[l] ?? 0,
          itemStyle: { color: STATE_COLORS[l], borderRadius: [4, 4, 0, 0] },
        })),
        label: { show: true, position: "top", color: INK.text },
      },
    ],
  };
}

/** Alarms raised today by device type. */
export function typePie(s: CitySummary): ChartOption {
  const data = Object.entries(s.alarms.raised.byDeviceType)
    .filter(([, n]) => n > 0)
    .map(([type, n]) => ({ name: deviceTypeLabel(type), value: n }));
  return {
    tooltip,
    title:
      data.length === 0
        ? {
            text: t("cockpit.none"),
            left: "center",
            top: "middle",
            textStyle: { color: INK.muted, fontSize: 14 },
          }
        : undefined,
    color: ["#27d3ff", "#2f86ff", "#ffd400", "#ff8c1a", "#ff2a2a", "#2fd17a", "#b18cff", "#ff6fb5"],
    series: [
      {
        type: "pie",
        radius: ["38%", "66%"],
        center: ["50%", "52%"],
        label: { color: INK.text, fontSize: 12 },
        labelLine: { length: 6, length2: 6 },
        data,
      },
    ],
  };
}

/** Alarm kinds raised today (upper / lower / rate / offline) on a radar: what kind of trouble the city has. */
export function kindRadar(s: CitySummary): ChartOption {
  const values = RULE_KINDS.map((k) => s.alarms.raised.byKind[k] ?? 0);
  const max = Math.max(1, ...values);
  return {
    tooltip,
    radar: {
      radius: "55%",
      center: ["50%", "56%"],
      indicator: RULE_KINDS.map((k) => ({ name: t(`cockpit.kind.${k}`), max })),
      axisName: { color: INK.muted, fontSize: 11 },
      splitLine,
      splitArea: { areaStyle: { color: ["rgba(30, 80, 150, 0.12)", "rgba(30, 80, 150, 0.04)"] } },
      axisLine: splitLine,
    },
    series: [
      {
        type: "radar",
        data: [
          {
            value: values,
            name: t("cockpit.panels.alarmsByType"),
            areaStyle: { color: "rgba(255, 140, 26, 0.35)" },
            lineStyle: { color: "#ff8c1a" },
            itemStyle: { color: "#ff8c1a" },
          },
        ],
      },
    ],
  };
}

/** Open alarms by lifecycle stage (closed ones are done): where the closed loop is stuck. */
export function stageBars(s: CitySummary): ChartOption {
  const stages = ALARM_STATUSES.filter((st) => st !== "closed");
  return {
    grid: { left: 70, right: 36, top: 8, bottom: 8 },
    tooltip: { ...tooltip, trigger: "axis" },
    xAxis: { type: "value", minInterval: 1, axisLabel: { show: false }, splitLine },
    yAxis: {
      type: "category",
      inverse: true,
      data: stages.map(statusLabel),
      axisLabel: { ...axisLabel, fontSize: 12, interval: 0 },
    },
    series: [
      {
        type: "bar",
        barWidth: "55%",
        data: stages.map((st, i) => ({
          value: s.alarms.open.byStatus[st] ?? 0,
          itemStyle: {
            color: ["#ff5a4a", "#ff9d3a", "#ffd400", "#5ad1ff", "#2fd17a"][i],
            borderRadius: [0, 4, 4, 0],
          },
        })),
        label: { show: true, position: "right", color: INK.text },
      },
    ],
  };
}

/** Pipeline length (km) per class, in the CJJ 61 map colours. */
export function pipeBars(s: CitySummary): ChartOption {
  const entries = Object.entries(s.pipes.lengthByClass).sort((a, b) => b[1] - a[1]);
  return {
    grid: { left: 44, right: 12, top: 22, bottom: 26 },
    tooltip: { ...tooltip, trigger: "axis" },
    xAxis: {
      type: "category",
      data: entries.map(([c]) => (isPipeClass(c) ? t(`pipes.class.${c}`) : c)),
      axisLabel,
    },
    yAxis: { type: "value", name: "km", nameTextStyle: { color: INK.muted }, axisLabel, splitLine },
    series: [
      {
        type: "bar",
        barWidth: "50%",
        data: entries.map(([c, m]) => ({
          value: Number((m / 1000).toFixed(2)),
          itemStyle: {
            // Industrial black would vanish on the dark panel.
            color: isPipeClass(c) && c !== "GY" ? PIPE_CLASS_COLORS[c] : "#8a94a6",
            borderRadius: [4, 4, 0, 0],
            shadowBlur: 8,
            shadowColor: "rgba(80, 200, 255, 0.45)",
          },
        })),
      },
    ],
  };
}
