import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import type { SkylineResult } from "./skyline.ts";

let popup: HTMLElement | undefined;
let dispose: (() => void) | undefined;

/** Elevation-angle profile of the skyline (azimuth 0-360°), in a popup like the pipe profile's. */
export async function openSkylineChart(result: SkylineResult): Promise<void> {
  dispose?.();
  popup?.remove();
  const chartEl = h("div", { class: "pipe-profile-chart" });
  const close = h("button", { type: "button", class: "panel-close planning-skyline-close" }, "×");
  const el = h(
    "section",
    { class: "panel pipe-profile-popup planning-skyline-popup" },
    h(
      "div",
      { class: "panel-header" },
      h("h2", { class: "panel-title" }, t("planning.skyline.chartTitle")),
      close,
    ),
    chartEl,
  );
  popup = el;
  document.body.append(el);
  const echarts = await import("echarts");
  const chart = echarts.init(chartEl, "dark", { renderer: "svg" });
  dispose = () => chart.dispose();
  close.addEventListener("click", () => {
    dispose?.();
    dispose = undefined;
    el.remove();
    if (popup === el) popup = undefined;
  });
  chart.setOption({
    backgroundColor: "transparent",
    animation: false,
    grid: { left: 56, right: 20, top: 24, bottom: 40 },
    tooltip: { trigger: "axis" },
    xAxis: {
      type: "value",
      min: 0,
      max: 360,
      interval: 45,
      name: t("planning.skyline.azimuth"),
      nameLocation: "middle",
      nameGap: 26,
    },
    yAxis: { type: "value", min: 0, name: t("planning.skyline.elevation") },
    series: [
      {
        name: t("planning.skyline.elevation"),
        type: "line",
        showSymbol: false,
        step: "middle",
        data: result.points.map((p) => [p.azimuth, p.elevation]),
        lineStyle: { color: "#00e5ff" },
        areaStyle: { color: "rgba(0,229,255,0.15)" },
      },
    ],
  });
}
