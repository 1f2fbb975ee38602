import type { Device } from "../../../models/devices.ts";
import type { ReadingRow } from "../../../models/telemetry.ts";
import { t } from "../i18n.ts";
import { deviceUnit, formatCityClock } from "../iot/labels.ts";
import { fetchReadings } from "./api.ts";
import { type Chart, createChart, INK } from "./echarts-setup.ts";
import { mainQuantity } from "./key-sensors.ts";

const HOUR = 3600_000;

/** One hour of a sensor as a candle: first, last, lowest and highest value. */
export interface Candle {
  hour: number;
  open: number;
  close: number;
  low: number;
  high: number;
}

/**
 * Hourly candles from raw readings. Written here because the history API's buckets carry min/max/avg but
 * not the first and last value a candlestick needs; a day of one sensor is a few thousand rows at most.
 */
export function hourlyCandles(rows: readonly ReadingRow[]): Candle[] {
  const byHour = new Map<number, Candle>();
  const sorted = rows.map((r) => ({ ts: Date.parse(r.ts), v: r.value })).sort((a, b) => a.ts - b.ts);
  for (const { ts, v } of sorted) {
    const hour = Math.floor(ts / HOUR) * HOUR;
    const c = byHour.get(hour);
    if (!c) byHour.set(hour, { hour, open: v, close: v, low: v, high: v });
    else {
      c.close = v;
      c.low = Math.min(c.low, v);
      c.high = Math.max(c.high, v);
    }
  }
  return [...byHour.values()].sort((a, b) => a.hour - b.hour);
}

/** The sensor's readings over a replay window and the day before it (ts ascending), and the moment shown. */
interface ReplayView {
  rows: { ms: number; row: ReadingRow }[];
  at: number;
}

/**
 * 小时K线 of the first key sensor over the last 24 hours (refreshed with the summary). While the cockpit replays
 * the past, the 24 hours before the replayed moment, the last candle holding only what had come by then.
 */
export class KLine {
  private readonly chart: Chart;
  private candles: Candle[] = [];
  private device: Device | undefined;
  private liveCandles: Candle[] = [];
  private replay: ReplayView | undefined;

  constructor(private readonly el: HTMLElement) {
    this.chart = createChart(el);
  }

  get count(): number {
    return this.candles.length;
  }

  async load(device: Device | undefined): Promise<void> {
    this.device = device;
    if (device) {
      const quantity = mainQuantity(device.type);
      const now = Date.now();
      const rows = await fetchReadings(device.id, now - 24 * HOUR, now).catch(() => []);
      this.liveCandles = hourlyCandles(rows.filter((r) => r.quantity === quantity));
    } else this.liveCandles = [];
    if (!this.replay) this.candles = this.liveCandles;
    this.draw();
  }

  /** Loads the sensor's readings over a replay window and the day before it; shows `from` meanwhile. */
  async enterReplay(from: number, to: number): Promise<void> {
    const view: ReplayView = { rows: [], at: from };
    this.replay = view;
    this.showReplayAt(from);
    const device = this.device;
    if (!device) return;
    const quantity = mainQuantity(device.type);
    const rows = await fetchReadings(device.id, from - 24 * HOUR, to).catch(() => []);
    view.rows = rows
      .filter((r) => r.quantity === quantity)
      .map((row) => ({ ms: Date.parse(row.ts), row }))
      .sort((a, b) => a.ms - b.ms);
    if (this.replay === view) this.showReplayAt(view.at);
  }

  showReplayAt(t: number): void {
    if (!this.replay) return;
    this.replay.at = t;
    this.candles = hourlyCandles(
      this.replay.rows.filter((r) => r.ms > t - 24 * HOUR && r.ms <= t).map((r) => r.row),
    );
    this.draw();
  }

  leaveReplay(): void {
    this.replay = undefined;
    this.candles = this.liveCandles;
    this.draw();
  }

  redraw(): void {
    this.draw();
  }

  private draw(): void {
    this.el.dataset.candles = String(this.candles.length);
    this.el.dataset.mode = this.replay ? "replay" : "live";
    this.el.dataset.lastHour = String(this.candles.at(-1)?.hour ?? "");
    const empty = this.candles.length === 0;
    this.chart.setOption(
      {
        title: empty
          ? {
              text: t("cockpit.none"),
              left: "center",
              top: "middle",
              textStyle: { color: INK.muted, fontSize: 14 },
            }
          : {
              text: this.device ? `${this.device.name} (${deviceUnit(this.device)})` : "",
              left: 4,
              top: 0,
              textStyle: { color: INK.text, fontSize: 12, fontWeight: "normal" },
            },
        grid: { left: 48, right: 12, top: 26, bottom: 24 },
        tooltip: {
          trigger: "axis",
          backgroundColor: "rgba(6, 18, 40, 0.92)",
          textStyle: { color: INK.text },
        },
        xAxis: {
          type: "category",
          data: this.candles.map((c) => formatCityClock(c.hour)),
          axisLabel: { color: INK.muted, fontSize: 11 },
        },
        yAxis: {
          type: "value",
          scale: true,
          axisLabel: { color: INK.muted, fontSize: 11 },
          splitLine: { lineStyle: { color: INK.line } },
        },
        series: [
          {
            type: "candlestick",
            barMaxWidth: 18,
            // Chinese convention: rising red, falling green.
            itemStyle: {
              color: "#ff4d4f",
              color0: "#2fd17a",
              borderColor: "#ff4d4f",
              borderColor0: "#2fd17a",
            },
            data: this.candles.map((c) => [c.open, c.close, c.low, c.high]),
          },
        ],
      },
      { notMerge: true },
    );
  }
}
