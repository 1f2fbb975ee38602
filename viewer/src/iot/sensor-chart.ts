import type { ReadingBucket } from "../../../models/telemetry.ts";
import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import { type Device, fetchHistory, type HistoryPoint } from "./api.ts";
import type { DeviceDirectory } from "./device-directory.ts";
import { deviceTypeLabel, deviceUnit, formatTime, formatValue } from "./labels.ts";
import type { LiveClient } from "./live-client.ts";

/** History ranges offered, with the SQL bucket that keeps each chart to a few hundred points. */
export const CHART_RANGES = {
  "1h": { ms: 3_600_000, bucket: undefined },
  "24h": { ms: 86_400_000, bucket: "1m" },
  "7d": { ms: 7 * 86_400_000, bucket: "1h" },
} as const satisfies Record<string, { ms: number; bucket: ReadingBucket | undefined }>;
export type ChartRange = keyof typeof CHART_RANGES;

export interface SensorChartState {
  deviceId: string;
  range: ChartRange;
  status: "loading" | "ready" | "error";
  /** Points drawn, per quantity. */
  points: Record<string, number>;
}

type EChartsInstance = import("echarts").ECharts;

/**
 * The popup of one sensor: its history from /api/sensors/<id>/readings (raw for the last hour, bucket
 * averages for a day or a week) as an ECharts line per quantity, with new readings from the live hub
 * appended as they arrive.
 */
export class SensorChart {
  private popup: HTMLElement | undefined;
  private chart: EChartsInstance | undefined;
  private device: Device | undefined;
  private range: ChartRange = "1h";
  private status: SensorChartState["status"] = "loading";
  private series = new Map<string, [number, number][]>();
  private abort: AbortController | undefined;

  constructor(
    private readonly live: LiveClient,
    private readonly directory: DeviceDirectory,
  ) {
    live.onReadings((readings) => {
      const device = this.device;
      if (!device || this.status !== "ready") return;
      let added = false;
      for (const r of readings) {
        if (r.deviceId !== device.id) continue;
        this.append({ ts: r.ts, quantity: r.quantity, value: r.value });
        added = true;
      }
      if (added) this.draw();
    });
    onLangChange(() => {
      if (this.device) this.open(this.device, this.range);
    });
  }

  state(): SensorChartState | null {
    if (!this.device) return null;
    return {
      deviceId: this.device.id,
      range: this.range,
      status: this.status,
      points: Object.fromEntries([...this.series].map(([q, pts]) => [q, pts.length])),
    };
  }

  open(device: Device, range: ChartRange = "1h"): void {
    this.close();
    this.device = device;
    this.range = range;
    this.live.setSubscriptions("sensor-chart", [{ devices: [device.id] }]);

    const chartEl = h("div", { class: "sensor-chart" });
    const closeButton = h(
      "button",
      { type: "button", class: "panel-close", title: t("iot.chart.close") },
      "×",
    );
    closeButton.addEventListener("click", () => this.close());
    const rangeButtons = (Object.keys(CHART_RANGES) as ChartRange[]).map((r) => {
      const b = h(
        "button",
        { type: "button", class: "sensor-chart-range", "data-range": r, "aria-pressed": String(r === range) },
        t(`iot.chart.range.${r}`),
      );
      b.addEventListener("click", () => {
        if (this.device && r !== this.range) this.open(this.device, r);
      });
      return b;
    });
    const latest = this.directory.latestValue(device.id);
    this.popup = h(
      "section",
      { class: "panel sensor-chart-popup", "data-device-id": device.id, "data-status": "loading" },
      h(
        "div",
        { class: "panel-header" },
        h("h2", { class: "panel-title sensor-chart-title" }, device.name),
        closeButton,
      ),
      h(
        "div",
        { class: "sensor-chart-meta" },
        h("span", {}, `${deviceTypeLabel(device.type)} · ${device.id}`),
        h(
          "span",
          { class: "sensor-chart-latest" },
          latest
            ? t("iot.chart.latest", {
                value: `${formatValue(latest.value)} ${deviceUnit(device)}`,
                time: formatTime(latest.ts),
              })
            : "",
        ),
      ),
      h("div", { class: "sensor-chart-ranges", role: "group" }, ...rangeButtons),
      h("div", { class: "sensor-chart-status" }, t("iot.chart.loading")),
      chartEl,
    );
    document.body.append(this.popup);
    void this.load(chartEl);
  }

  close(): void {
    this.abort?.abort();
    this.chart?.dispose();
    this.chart = undefined;
    this.popup?.remove();
    this.popup = undefined;
    this.device = undefined;
    this.series = new Map();
    this.live.setSubscriptions("sensor-chart", []);
  }

  private async load(chartEl: HTMLElement): Promise<void> {
    const device = this.device!;
    const popup = this.popup!;
    const abort = new AbortController();
    this.abort = abort;
    this.status = "loading";
    const { ms, bucket } = CHART_RANGES[this.range];
    const to = Date.now();
    try {
      const [points, echarts] = await Promise.all([
        fetchHistory(device.id, to - ms, to, bucket, abort.signal),
        import("echarts"),
      ]);
      if (abort.signal.aborted) return;
      this.series = new Map();
      for (const p of points) this.append(p);
      const last = points.reduce<HistoryPoint | undefined>((a, p) => (!a || p.ts >= a.ts ? p : a), undefined);
      if (last && !bucket) this.directory.noteValue(device.id, last);
      this.chart = echarts.init(chartEl, "dark", { renderer: "svg" });
      this.status = "ready";
      popup.dataset.status = "ready";
      const status = popup.querySelector(".sensor-chart-status")!;
      status.textContent = points.length === 0 ? t("iot.chart.empty") : "";
      this.draw();
    } catch (err) {
      if (abort.signal.aborted) return;
      this.status = "error";
      popup.dataset.status = "error";
      popup.querySelector(".sensor-chart-status")!.textContent = t("iot.chart.error", {
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private append(p: HistoryPoint): void {
    let list = this.series.get(p.quantity);
    if (!list) {
      list = [];
      this.series.set(p.quantity, list);
    }
    // Live readings may repeat a stored one (redelivery) or arrive slightly out of order.
    if (list.length && list[list.length - 1][0] >= p.ts) {
      if (list.some(([ts]) => ts === p.ts)) return;
      list.push([p.ts, p.value]);
      list.sort((a, b) => a[0] - b[0]);
    } else list.push([p.ts, p.value]);
  }

  private draw(): void {
    const chart = this.chart;
    const device = this.device;
    if (!chart || !device || !this.popup) return;
    const from = Date.now() - CHART_RANGES[this.range].ms;
    for (const [q, list] of this.series) {
      const firstKept = list.findIndex(([ts]) => ts >= from);
      if (firstKept > 0) this.series.set(q, list.slice(firstKept));
    }
    const unit = deviceUnit(device);
    const total = [...this.series.values()].reduce((n, l) => n + l.length, 0);
    this.popup.dataset.points = String(total);
    if (total > 0) this.popup.querySelector(".sensor-chart-status")!.textContent = "";
    chart.setOption(
      {
        backgroundColor: "transparent",
        animation: false,
        grid: { left: 52, right: 16, top: 28, bottom: 28 },
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [...this.series.keys()] },
        xAxis: { type: "time" },
        yAxis: { type: "value", name: unit, scale: true },
        series: [...this.series].map(([quantity, data]) => ({
          name: quantity,
          type: "line",
          showSymbol: data.length <= 120,
          symbolSize: 5,
          data,
        })),
      },
      { notMerge: true },
    );
    const last = [...this.series.values()]
      .map((l) => l[l.length - 1])
      .filter((p) => p !== undefined)
      .sort((a, b) => b[0] - a[0])[0];
    const latestEl = this.popup.querySelector(".sensor-chart-latest");
    if (latestEl && last)
      latestEl.textContent = t("iot.chart.latest", {
        value: `${formatValue(last[1])} ${unit}`,
        time: formatTime(last[0]),
      });
  }
}
