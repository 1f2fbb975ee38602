import { BarChart, CandlestickChart, GaugeChart, LineChart, PieChart, RadarChart } from "echarts/charts";
import {
  GridComponent,
  LegendComponent,
  RadarComponent,
  TitleComponent,
  TooltipComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";

// Only the chart types the cockpit draws, so the page does not carry all of ECharts. SVG rather than canvas:
// crisp when the stage is scaled, and cheap on machines rendering without a GPU.
echarts.use([
  BarChart,
  CandlestickChart,
  GaugeChart,
  LineChart,
  PieChart,
  RadarChart,
  GridComponent,
  LegendComponent,
  RadarComponent,
  TitleComponent,
  TooltipComponent,
  SVGRenderer,
]);

export type Chart = echarts.ECharts;
export type ChartOption = echarts.EChartsCoreOption;

/** A chart in its element, drawn at the stage's design size (the stage's CSS transform scales it). */
export function createChart(el: HTMLElement): Chart {
  const chart = echarts.init(el, undefined, { renderer: "svg" });
  // Panels settle their sizes after the first layout (fonts, flex): follow the element's size.
  new ResizeObserver(() => chart.resize()).observe(el);
  return chart;
}

/** Text and axis colours that read on the dark panels. */
export const INK = { text: "#cfe3ff", muted: "#7f9cc4", line: "rgba(120, 170, 255, 0.18)" } as const;
