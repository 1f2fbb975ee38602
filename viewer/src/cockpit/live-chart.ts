import type { Device } from "../../../models/devices.ts";
import type { Reading } from "../../../models/telemetry.ts";
import { t } from "../i18n.ts";
import { deviceTypeLabel, deviceUnit } from "../iot/labels.ts";
import type { LiveClient } from "../iot/live-client.ts";
import { fetchReadings } from "./api.ts";
import { type Chart, createChart, INK } from "./echarts-setup.ts";
import { mainQuantity } from "./key-sensors.ts";

const MAX_POINTS = 120;
const HISTORY_MS = 3600_000;
const COLORS = ["#27d3ff", "#ffd400", "#2fd17a"];

/**
 * 实时监测: the key sensors' main quantity over the last hour, growing live from the WebSocket. Updates are
 * drawn at most once a second, however fast readings arrive.
 */
export class LiveChart {
  private readonly chart: Chart;
  private readonly series = new Map<string, [number, number][]>();
  private sensors: Device[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly el: HTMLElement,
    private readonly live: LiveClient,
  ) {
    this.chart = createChart(el);
    live.onReadings((readings) => this.add(readings));
  }

  /** Points per device id (for the test hook). */
  points(): Record<string, number> {
    return Object.fromEntries([...this.series].map(([id, pts]) => [id, pts.length]));
  }

  async setSensors(sensors: Device[]): Promise<void> {
    this.sensors = sensors;
    this.live.setSubscriptions(
      "cockpit-live-chart",
      sensors.length ? [{ devices: sensors.map((d) => d.id) }] : [],
    );
    const now = Date.now();
    await Promise.all(
      sensors.map(async (d) => {
        const quantity = mainQuantity(d.type);
        const rows = await fetchReadings(d.id, now - HISTORY_MS, now).catch(() => []);
        const pts = rows
          .filter((r) => r.quantity === quantity)
          .map((r): [number, number] => [Date.parse(r.ts), r.value]);
        // Live readings may have arrived while the history loaded.
        const merged = [...pts, ...(this.series.get(d.id) ?? [])].sort((a, b) => a[0] - b[0]);
        this.series.set(d.id, merged.slice(-MAX_POINTS));
      }),
    );
    this.draw();
  }

  redraw(): void {
    this.draw();
  }

  private add(readings: Reading[]): void {
    let changed = false;
    for (const r of readings) {
      const device = this.sensors.find((d) => d.id === r.deviceId);
      if (!device || r.quantity !== mainQuantity(device.type)) continue;
      const pts = this.series.get(r.deviceId) ?? [];
      pts.push([r.ts, r.value]);
      pts.sort((a, b) => a[0] - b[0]);
      if (pts.length > MAX_POINTS) pts.splice(0, pts.length - MAX_POINTS);
      this.series.set(r.deviceId, pts);
      changed = true;
    }
    if (changed && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.draw();
      }, 1000);
    }
  }

  private draw(): void {
    const first = this.sensors[0];
    const unit = first ? deviceUnit(first) : "";
    this.el.dataset.points = String([...this.series.values()].reduce((n, p) => n + p.length, 0));
    this.chart.setOption(
      {
        title: first
          ? undefined
          : {
              text: t("cockpit.none"),
              left: "center",
              top: "middle",
              textStyle: { color: INK.muted, fontSize: 14 },
            },
        grid: { left: 48, right: 14, top: 34, bottom: 24 },
        tooltip: {
          trigger: "axis",
          backgroundColor: "rgba(6, 18, 40, 0.92)",
          textStyle: { color: INK.text },
        },
        legend: {
          top: 0,
          type: "scroll",
          textStyle: { color: INK.text, fontSize: 12 },
          pageTextStyle: { color: INK.muted },
          itemHeight: 8,
          // Device names are long ("项王路给水管网压力监测点"): the start tells them apart.
          formatter: (name: string) => (name.length > 9 ? `${name.slice(0, 8)}…` : name),
        },
        xAxis: { type: "time", axisLabel: { color: INK.muted, fontSize: 11 }, splitLine: { show: false } },
        yAxis: {
          type: "value",
          scale: true,
          name: first ? `${deviceTypeLabel(first.type)} ${unit}` : "",
          nameTextStyle: { color: INK.muted, align: "left" },
          axisLabel: { color: INK.muted, fontSize: 11 },
          splitLine: { lineStyle: { color: INK.line } },
        },
        series: this.sensors.map((d, i) => ({
          type: "line",
          name: d.name,
          showSymbol: false,
          smooth: true,
          lineStyle: { width: 2, color: COLORS[i % COLORS.length] },
          itemStyle: { color: COLORS[i % COLORS.length] },
          areaStyle: { opacity: 0.08 },
          data: this.series.get(d.id) ?? [],
        })),
      },
      { notMerge: true },
    );
  }
}
