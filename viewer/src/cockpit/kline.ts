import type { Device } from "../../../models/devices.ts";
import type { ReadingRow } from "../../../models/telemetry.ts";
import { t } from "../i18n.ts";
import { deviceUnit } from "../iot/labels.ts";
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

/** 小时K线 of the first key sensor over the last 24 hours (refreshed with the summary). */
export class KLine {
  private readonly chart: Chart;
  private candles: Candle[] = [];
  private device: Device | undefined;

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
      this.candles = hourlyCandles(rows.filter((r) => r.quantity === quantity));
    } else this.candles = [];
    this.draw();
  }

  redraw(): void {
    this.draw();
  }

  private draw(): void {
    this.el.dataset.candles = String(this.candles.length);
    const hourLabel = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(11, 16); // China Standard Time, like the summary's day
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
          data: this.candles.map((c) => hourLabel(c.hour)),
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
