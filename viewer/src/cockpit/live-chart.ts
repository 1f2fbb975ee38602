import type { Device } from "../../../models/devices.ts";
import type { Reading } from "../../../models/telemetry.ts";
import { t } from "../i18n.ts";
import { fetchHistory } from "../iot/api.ts";
import { deviceTypeLabel, deviceUnit, formatCityClock } from "../iot/labels.ts";
import type { LiveClient } from "../iot/live-client.ts";
import { fetchReadings } from "./api.ts";
import { type Chart, createChart, INK } from "./echarts-setup.ts";
import { mainQuantity } from "./key-sensors.ts";

const MAX_POINTS = 120;
const HISTORY_MS = 3600_000;
const COLORS = ["#27d3ff", "#ffd400", "#2fd17a"];

/** The key sensors' history over a replay window, and the moment the chart shows. */
interface ReplayView {
  series: Map<string, [number, number][]>;
  at: number;
}

/**
 * 实时监测: the key sensors' main quantity over the last hour, growing live from the WebSocket. Updates are
 * drawn at most once a second, however fast readings arrive. While the cockpit replays the past, the chart shows
 * the hour before the replayed moment instead (one-minute averages), so that it tells the same time as the KPIs;
 * live readings keep coming in meanwhile for the return to live.
 */
export class LiveChart {
  private readonly chart: Chart;
  private readonly series = new Map<string, [number, number][]>();
  private sensors: Device[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private replay: ReplayView | undefined;

  constructor(
    private readonly el: HTMLElement,
    private readonly live: LiveClient,
  ) {
    this.chart = createChart(el);
    live.onReadings((readings) => this.add(readings));
  }

  /** Points drawn per device id (for the test hook). */
  points(): Record<string, number> {
    return Object.fromEntries(this.sensors.map((d) => [d.id, this.shown(d.id).length]));
  }

  /** Loads the key sensors' history over a replay window (and the hour before it); shows `from` meanwhile. */
  async enterReplay(from: number, to: number): Promise<void> {
    const view: ReplayView = { series: new Map(), at: from };
    this.replay = view;
    this.draw();
    await Promise.all(
      this.sensors.map(async (d) => {
        const quantity = mainQuantity(d.type);
        const rows = await fetchHistory(d.id, from - HISTORY_MS, to, "1m").catch(() => []);
        view.series.set(
          d.id,
          rows.filter((r) => r.quantity === quantity).map((r): [number, number] => [r.ts, r.value]),
        );
      }),
    );
    if (this.replay === view) this.draw();
  }

  /** The replayed moment to show (called as the replay plays or is scrubbed). */
  showReplayAt(t: number): void {
    if (!this.replay) return;
    this.replay.at = t;
    this.draw();
  }

  leaveReplay(): void {
    this.replay = undefined;
    this.draw();
  }

  /** What the chart draws for a sensor: its live points, or the replayed hour. */
  private shown(id: string): [number, number][] {
    if (!this.replay) return this.series.get(id) ?? [];
    const { at } = this.replay;
    return (this.replay.series.get(id) ?? []).filter(([ts]) => ts > at - HISTORY_MS && ts <= at);
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
    // A gateway's backlog arrives live too: what is older than the chart's hour is not drawn.
    const since = Date.now() - HISTORY_MS;
    for (const r of readings) {
      const device = this.sensors.find((d) => d.id === r.deviceId);
      if (!device || r.quantity !== mainQuantity(device.type) || r.ts <= since) continue;
      const pts = this.series.get(r.deviceId) ?? [];
      pts.push([r.ts, r.value]);
      pts.sort((a, b) => a[0] - b[0]);
      if (pts.length > MAX_POINTS) pts.splice(0, pts.length - MAX_POINTS);
      this.series.set(r.deviceId, pts);
      changed = true;
    }
    if (changed && !this.replay && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.draw();
      }, 1000);
    }
  }

  private draw(): void {
    const first = this.sensors[0];
    const unit = first ? deviceUnit(first) : "";
    const shown = this.sensors.map((d) => this.shown(d.id));
    this.el.dataset.points = String(shown.reduce((n, p) => n + p.length, 0));
    this.el.dataset.mode = this.replay ? "replay" : "live";
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
        xAxis: {
          type: "time",
          // In a replay the hour before the replayed moment, even where a sensor sent nothing.
          min: this.replay ? this.replay.at - HISTORY_MS : undefined,
          max: this.replay?.at,
          // Four or five labels on the city's clock, like the rest of the cockpit (ECharts writes the browser's).
          splitNumber: 4,
          axisLabel: { color: INK.muted, fontSize: 11, formatter: (ms: number) => formatCityClock(ms) },
          splitLine: { show: false },
        },
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
          data: shown[i],
        })),
      },
      { notMerge: true },
    );
  }
}
