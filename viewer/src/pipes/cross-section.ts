import {
  Cartesian3,
  Color,
  ColorMaterialProperty,
  type Entity,
  PolylineDashMaterialProperty,
  PolylineGlowMaterialProperty,
  type Viewer,
} from "cesium";
import {
  type PipeCrossing,
  type PipeCrossSectionResult,
  PipeCrossSectionResultSchema,
} from "../../../models/pipe-analysis.ts";
import { apiUrl } from "../catalog.ts";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { getJson } from "./api.ts";
import { isPipeClass, PIPE_CLASS_COLORS } from "./classes.ts";
import { type DrawTool, type GroundPoint, toCartesian } from "./draw-tool.ts";
import type { PipeTools } from "./pipe-tools.ts";

export type { PipeCrossSectionResult };

/** Colour of the section line and of the crossed pipes in the scene. */
const SECTION_COLOR = Color.fromCssColorString("#ff3df2");
/** Equal horizontal and vertical scale unless a pipe would be drawn smaller than this (px): then the height is exaggerated. */
const MIN_PIPE_PX = 6;

export async function fetchCrossSection(
  layerId: string,
  line: readonly [number, number][],
  signal?: AbortSignal,
): Promise<PipeCrossSectionResult> {
  const q = new URLSearchParams({
    line: line.map(([lon, lat]) => `${lon.toFixed(8)},${lat.toFixed(8)}`).join(";"),
  });
  return PipeCrossSectionResultSchema.parse(
    await getJson(apiUrl(`api/pipes/${encodeURIComponent(layerId)}/cross-section?${q}`), signal),
  );
}

type Status =
  | { kind: "idle" }
  | { kind: "drawing" }
  | { kind: "running" }
  | { kind: "result"; result: PipeCrossSectionResult }
  | { kind: "error"; message: string };

/** Snapshot for the test hook. */
export interface CrossSectionState {
  status: Status["kind"];
  drawnPoints: number;
  line: [number, number][] | null;
  crossings: string[];
  chartOpen: boolean;
}

/** "DN300" for a circular section, "1000×800" (mm, width × height) for a box. */
export function sectionLabel(section: PipeCrossing["section"]): string {
  if (!section) return "";
  const mm = (m: number) => Math.round(m * 1000);
  return section.shape === "circular"
    ? `DN${mm(section.diameter)}`
    : `${mm(section.width)}×${mm(section.height)}`;
}

function classLabel(code: string): string {
  const key = `pipes.class.${code}`;
  const label = t(key);
  return label === key ? code : label;
}

/**
 * Cross-section (横断面) along a drawn line: the user clicks two or more points, the server cuts the
 * network there, and a chart shows the ground line and every crossing pipe to scale with its class,
 * size and cover depth; the crossed pipes are highlighted in the scene.
 */
export class CrossSectionTool {
  private status: Status = { kind: "idle" };
  private line: [number, number][] | null = null;
  private entities: Entity[] = [];
  private popup: HTMLElement | undefined;
  private disposeChart: (() => void) | undefined;
  private abort: AbortController | undefined;
  private syncBlock: (() => void) | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly viewer: Viewer,
    private readonly draw: DrawTool,
    private readonly tools: () => PipeTools | undefined,
  ) {
    draw.onChange(() => this.changed());
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  get isDrawing(): boolean {
    return this.status.kind === "drawing" && this.draw.active === "polyline";
  }

  state(): CrossSectionState {
    const s = this.status;
    return {
      status: s.kind,
      drawnPoints: this.isDrawing ? this.draw.points.length : 0,
      line: this.line ? this.line.map(([lon, lat]) => [lon, lat]) : null,
      crossings: s.kind === "result" ? s.result.crossings.map((c) => c.link) : [],
      chartOpen: this.popup?.isConnected ?? false,
    };
  }

  /** Lets the user draw the section line, then cuts the network along it. */
  async drawLine(): Promise<void> {
    this.clear();
    this.status = { kind: "drawing" };
    this.changed();
    const points = await this.draw.start({ shape: "polyline", color: SECTION_COLOR });
    if (this.status.kind !== "drawing") return;
    if (!points) {
      this.status = { kind: "idle" };
      this.changed();
      return;
    }
    await this.run(points);
  }

  /** Cuts the network along these ground points and shows the result. */
  async run(points: readonly GroundPoint[]): Promise<void> {
    const tools = this.tools();
    if (!tools || points.length < 2) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.removeEntities();
    this.line = points.map((p) => [p.lon, p.lat]);
    this.status = { kind: "running" };
    this.showLine(points);
    this.changed();
    try {
      const result = await fetchCrossSection(tools.id, this.line, abort.signal);
      if (abort.signal.aborted) return;
      this.status = { kind: "result", result };
      await this.highlight(tools, result);
      await this.openChart(result);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.status = { kind: "error", message: err instanceof Error ? err.message : String(err) };
    }
    this.changed();
  }

  clear(): void {
    this.abort?.abort();
    if (this.isDrawing) this.draw.cancel();
    this.status = { kind: "idle" };
    this.line = null;
    this.removeEntities();
    this.closeChart();
    this.changed();
  }

  /** The panel block: draw / finish / clear and the result summary (rebuilt with the panel). */
  block(): HTMLElement {
    const start = h(
      "button",
      { type: "button", class: "pipe-section-draw", title: t("pipes.section.drawTitle") },
      t("pipes.section.draw"),
    );
    start.addEventListener("click", () => void this.drawLine());
    const finish = h("button", { type: "button", class: "pipe-section-finish" }, t("pipes.section.finish"));
    finish.addEventListener("click", () => this.draw.finish());
    const clear = h("button", { type: "button", class: "pipe-section-clear" }, t("pipes.section.clear"));
    clear.addEventListener("click", () => this.clear());
    const chart = h("button", { type: "button", class: "pipe-section-chart" }, t("pipes.section.chart"));
    chart.addEventListener("click", () => {
      if (this.status.kind === "result") void this.openChart(this.status.result);
    });
    const note = h("p", { class: "panel-note pipe-section-note" });
    const root = h(
      "div",
      { class: "pipe-cross-section" },
      h("div", { class: "pipe-actions" }, start, finish, chart, clear),
      note,
    );
    this.syncBlock = () => {
      const s = this.status;
      const drawing = this.isDrawing;
      start.disabled = drawing || s.kind === "running";
      finish.disabled = !drawing || !this.draw.canFinish;
      chart.disabled = s.kind !== "result";
      clear.disabled = s.kind === "idle";
      note.dataset.state = s.kind;
      note.classList.toggle("error", s.kind === "error");
      note.textContent =
        s.kind === "drawing"
          ? t("pipes.section.hint", { count: this.draw.points.length })
          : s.kind === "running"
            ? t("pipes.analysis.running")
            : s.kind === "error"
              ? t("pipes.analysis.error", { message: s.message })
              : s.kind === "result"
                ? t("pipes.section.count", {
                    count: s.result.count,
                    length: s.result.line.length.toFixed(1),
                  })
                : t("pipes.section.idle");
    };
    this.syncBlock();
    return root;
  }

  private showLine(points: readonly GroundPoint[]): void {
    this.entities.push(
      this.viewer.entities.add({
        polyline: {
          positions: points.map((p) => toCartesian(p)),
          width: 3,
          material: new ColorMaterialProperty(SECTION_COLOR),
          depthFailMaterial: new PolylineDashMaterialProperty({ color: SECTION_COLOR.withAlpha(0.8) }),
        },
      }),
    );
    this.viewer.scene.requestRender();
  }

  /** A glowing line along every crossed pipe and a dot where the section cuts its axis. */
  private async highlight(tools: PipeTools, result: PipeCrossSectionResult): Promise<void> {
    const net = await tools.loadNetwork().catch(() => undefined);
    const glow = new PolylineGlowMaterialProperty({ color: SECTION_COLOR, glowPower: 0.25 });
    for (const id of new Set(result.crossings.map((c) => c.link))) {
      const link = net?.links.get(id);
      if (!link || link.path.length < 2) continue;
      this.entities.push(
        this.viewer.entities.add({
          polyline: {
            positions: link.path.map(([lon, lat, z]) => Cartesian3.fromDegrees(lon, lat, z)),
            width: 10,
            material: glow,
            depthFailMaterial: glow,
          },
        }),
      );
    }
    for (const c of result.crossings) {
      this.entities.push(
        this.viewer.entities.add({
          position: Cartesian3.fromDegrees(c.position[0], c.position[1], c.axis),
          point: {
            pixelSize: 7,
            color: Color.WHITE,
            outlineColor: SECTION_COLOR,
            outlineWidth: 2,
            disableDepthTestDistance: Number.POSITIVE_INFINITY,
          },
        }),
      );
    }
    this.viewer.scene.requestRender();
  }

  private removeEntities(): void {
    for (const e of this.entities) this.viewer.entities.remove(e);
    this.entities = [];
    this.viewer.scene.requestRender();
  }

  private closeChart(): void {
    this.disposeChart?.();
    this.disposeChart = undefined;
    this.popup?.remove();
    this.popup = undefined;
  }

  private async openChart(result: PipeCrossSectionResult): Promise<void> {
    this.closeChart();
    const chartEl = h("div", { class: "pipe-profile-chart pipe-section-chart-body" });
    const close = h("button", { type: "button", class: "panel-close", title: t("pipes.profile.close") }, "×");
    const popup = h(
      "section",
      {
        class: "panel pipe-profile-popup pipe-section-popup",
        "data-crossings": result.count,
      },
      h(
        "div",
        { class: "panel-header" },
        h(
          "h2",
          { class: "panel-title" },
          t("pipes.section.title", { count: result.count, length: result.line.length.toFixed(1) }),
        ),
        close,
      ),
      chartEl,
    );
    close.addEventListener("click", () => {
      this.closeChart();
      this.changed();
    });
    document.body.append(popup);
    this.popup = popup;
    const echarts = await import("echarts");
    if (this.popup !== popup) return;
    const chart = echarts.init(chartEl, "dark", { renderer: "svg" });
    this.disposeChart = () => chart.dispose();
    chart.setOption(chartOption(result, chart.getWidth(), chart.getHeight()));
  }

  private changed(): void {
    this.viewer.scene.requestRender();
    this.syncBlock?.();
    for (const l of this.listeners) l();
  }
}

const GRID = { left: 56, right: 20, top: 34, bottom: 40 };

/**
 * The section chart: distance along the line on x, elevation on y, ground line with soil below (ground
 * is known at the crossings only: straight between them, level beyond the first and last), and
 * every crossing pipe drawn to scale as it is cut (an oblique crossing is wider along the line by
 * 1 / sin(angle)). Both axes share one scale unless the pipes would be specks; then the vertical is
 * exaggerated and the title says by how much.
 */
export function chartOption(
  result: PipeCrossSectionResult,
  width: number,
  height: number,
): Record<string, unknown> {
  const crossings = result.crossings;
  const length = Math.max(result.line.length, 1);
  const grounds = crossings.filter((c) => c.ground !== null).map((c) => [c.distance, c.ground as number]);
  const ground: [number, number][] = grounds.length
    ? [[0, grounds[0][1]], ...(grounds as [number, number][]), [length, grounds[grounds.length - 1][1]]]
    : [];
  const zs = [...crossings.flatMap((c) => [c.top, c.bottom]), ...ground.map((g) => g[1])];
  const zMin = zs.length ? Math.min(...zs) : -3;
  const zMax = zs.length ? Math.max(...zs) : 1;
  const plotW = Math.max(50, width - GRID.left - GRID.right);
  const plotH = Math.max(50, height - GRID.top - GRID.bottom);
  const xPad = length * 0.04;
  const xSpan = length + 2 * xPad;
  // Room above the ground for labels and below the deepest pipe.
  const zPadLo = 0.6;
  const zPadHi = 1.2;
  const zSpanData = zMax - zMin + zPadLo + zPadHi;
  const pxPerM = plotW / xSpan;
  const smallest = crossings.length
    ? Math.min(...crossings.map((c) => (c.section ? c.top - c.bottom : 0.1)))
    : 1;
  let exaggeration = 1;
  let zLo = zMin - zPadLo;
  let zHi = zMax + zPadHi;
  if (zSpanData * pxPerM <= plotH && smallest * pxPerM >= MIN_PIPE_PX) {
    // True scale: centre the data in the taller window.
    const extra = plotH / pxPerM - zSpanData;
    zLo -= extra / 2;
    zHi += extra / 2;
  } else {
    exaggeration = Math.max(1, plotH / zSpanData / pxPerM);
  }
  const round = (n: number, d = 2) => Number(n.toFixed(d));
  const pipes = crossings.map((c, i) => {
    const sin = Math.max(Math.sin((Math.max(c.angle, 10) * Math.PI) / 180), 0.17);
    const w = c.section ? (c.section.shape === "circular" ? c.section.diameter : c.section.width) / sin : 0.1;
    const hgt = c.section ? c.top - c.bottom : 0.1;
    return {
      value: [c.distance, c.axis, w, hgt, i],
      crossing: c,
    };
  });
  return {
    backgroundColor: "transparent",
    animation: false,
    title: {
      text:
        exaggeration > 1.05
          ? t("pipes.section.exaggerated", { factor: round(exaggeration, 1) })
          : t("pipes.section.trueScale"),
      right: 20,
      top: 4,
      textStyle: { fontSize: 11, fontWeight: "normal", color: "#9aa7b8" },
    },
    grid: GRID,
    tooltip: {
      trigger: "item",
      formatter: (p: { seriesIndex: number; dataIndex: number }) => {
        if (p.seriesIndex !== 1) return "";
        const c = crossings[p.dataIndex];
        return [
          `${c.link} · ${classLabel(c.pipeClass)} ${sectionLabel(c.section)}`,
          `${t("pipes.section.distance")}: ${c.distance.toFixed(2)} m`,
          `${t("pipes.section.axis")}: ${c.axis.toFixed(2)} m`,
          c.cover === null ? "" : `${t("pipes.section.cover")}: ${c.cover.toFixed(2)} m`,
          c.material ? `${c.material}` : "",
        ]
          .filter(Boolean)
          .join("<br>");
      },
    },
    legend: { data: [t("pipes.profile.ground")], top: 4, left: "center" },
    xAxis: {
      type: "value",
      name: t("pipes.profile.distance"),
      nameLocation: "middle",
      nameGap: 26,
      min: round(-xPad),
      max: round(length + xPad),
      // The padded ends are odd numbers; the ticks in between say enough.
      axisLabel: { showMinLabel: false, showMaxLabel: false },
      splitLine: { lineStyle: { opacity: 0.25 } },
    },
    yAxis: {
      type: "value",
      name: t("pipes.profile.elevation"),
      min: round(zLo),
      max: round(zHi),
      axisLabel: { showMinLabel: false, showMaxLabel: false },
      splitLine: { lineStyle: { opacity: 0.25 } },
    },
    series: [
      {
        name: t("pipes.profile.ground"),
        type: "line",
        data: ground.map(([d, z]) => [round(d), round(z)]),
        symbol: "none",
        lineStyle: { color: "#8fd16a", width: 2 },
        itemStyle: { color: "#8fd16a" },
        areaStyle: { color: "rgba(139, 99, 60, 0.28)", origin: "start" },
        z: 1,
      },
      {
        name: "pipes",
        type: "custom",
        data: pipes,
        z: 3,
        renderItem: (
          params: { dataIndex: number },
          api: {
            value(i: number): number;
            coord(v: [number, number]): [number, number];
            size(v: [number, number]): [number, number];
          },
        ) => {
          const c = crossings[params.dataIndex];
          const [x, y] = api.coord([api.value(0), api.value(1)]);
          const [sw, sh] = api.size([api.value(2), api.value(3)]);
          const color = isPipeClass(c.pipeClass) ? PIPE_CLASS_COLORS[c.pipeClass] : "#808080";
          const style = { fill: color, stroke: "#ffffff", lineWidth: 1 };
          const shape =
            c.section?.shape === "circular" || !c.section
              ? {
                  type: "ellipse",
                  shape: { cx: x, cy: y, rx: Math.max(sw / 2, 2.5), ry: Math.max(sh / 2, 2.5) },
                  style,
                }
              : {
                  type: "rect",
                  shape: { x: x - sw / 2, y: y - sh / 2, width: Math.max(sw, 4), height: Math.max(sh, 4) },
                  style,
                };
          // Labels alternate above and below the pipes so neighbours a few metres apart stay readable.
          const above = params.dataIndex % 2 === 0;
          const lines = [
            c.link,
            `${classLabel(c.pipeClass)} ${sectionLabel(c.section)}`,
            c.cover === null ? "" : `${t("pipes.section.coverShort")} ${c.cover.toFixed(2)} m`,
          ].filter(Boolean);
          return {
            type: "group",
            children: [
              shape,
              {
                type: "text",
                silent: true,
                style: {
                  text: lines.join("\n"),
                  x,
                  y: above ? y - Math.max(sh / 2, 3) - 4 : y + Math.max(sh / 2, 3) + 4,
                  align: "center",
                  verticalAlign: above ? "bottom" : "top",
                  fill: "#e8eef6",
                  fontSize: 10,
                  lineHeight: 12,
                },
              },
            ],
          };
        },
      },
    ],
  };
}
