import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import type { NetworkLink, PipeNetwork } from "./api.ts";
import type { PipeTools } from "./pipe-tools.ts";

export interface ProfilePoint {
  /** Distance from the start of the path, metres. */
  distance: number;
  node: string;
  ground: number | null;
}
export interface ProfileSegment {
  link: string;
  from: number;
  to: number;
  fromInvert: number | null;
  toInvert: number | null;
}
export interface Profile {
  points: ProfilePoint[];
  segments: ProfileSegment[];
}

function pathLength(link: NetworkLink): number {
  let sum = 0;
  for (let i = 1; i < link.path.length; i++) {
    const [lon0, lat0] = link.path[i - 1];
    const [lon1, lat1] = link.path[i];
    const k = (Math.PI / 180) * 6378137;
    const dx = (lon1 - lon0) * k * Math.cos(((lat0 + lat1) / 2) * (Math.PI / 180));
    const dy = (lat1 - lat0) * k;
    sum += Math.hypot(dx, dy);
  }
  return sum;
}

/**
 * One flow path through a gravity trace result, in flow direction: downstream from the start it
 * follows each node's outgoing traced link; upstream it walks back along incoming links (taking the
 * longest branch) and is then reversed.
 */
export function buildProfile(
  net: PipeNetwork,
  startNode: string,
  linkIds: readonly string[],
  direction: "up" | "down",
): Profile {
  const links = linkIds.map((id) => net.links.get(id)).filter((l): l is NetworkLink => l !== undefined);
  const chain: NetworkLink[] = [];
  const used = new Set<string>();
  let current = startNode;
  for (;;) {
    const candidates = links.filter(
      (l) => !used.has(l.id) && (direction === "down" ? l.from === current : l.to === current),
    );
    if (!candidates.length) break;
    const next = candidates.reduce((a, b) => (pathLength(b) > pathLength(a) ? b : a));
    used.add(next.id);
    chain.push(next);
    current = direction === "down" ? next.to : next.from;
  }
  if (direction === "up") chain.reverse();
  const points: ProfilePoint[] = [];
  const segments: ProfileSegment[] = [];
  let d = 0;
  chain.forEach((l, i) => {
    if (i === 0)
      points.push({ distance: 0, node: l.from, ground: net.nodes.get(l.from)?.groundElevation ?? null });
    const len = pathLength(l);
    segments.push({ link: l.id, from: d, to: d + len, fromInvert: l.fromInvert, toInvert: l.toInvert });
    d += len;
    points.push({ distance: d, node: l.to, ground: net.nodes.get(l.to)?.groundElevation ?? null });
  });
  return { points, segments };
}

let popup: HTMLElement | undefined;

/** Shows the longitudinal profile (纵断面) of the tools' current gravity trace in a popup (ECharts). */
export async function openProfile(tools: PipeTools): Promise<void> {
  const a = tools.analysis;
  if (a.kind !== "trace") return;
  const r = a.result;
  const net = await tools.loadNetwork();
  const startNode =
    r.start.type === "node"
      ? r.start.id
      : (() => {
          const l = net.links.get(r.start.id);
          return l ? (r.direction === "down" ? l.from : l.to) : r.start.id;
        })();
  const profile = buildProfile(net, startNode, r.links, r.direction);

  popup?.remove();
  const chartEl = h("div", { class: "pipe-profile-chart" });
  const close = h("button", { type: "button", class: "panel-close", title: t("pipes.profile.close") }, "×");
  popup = h(
    "section",
    { class: "panel pipe-profile-popup", "data-links": profile.segments.length },
    h(
      "div",
      { class: "panel-header" },
      h("h2", { class: "panel-title" }, t("pipes.profile.title", { id: r.start.id })),
      close,
    ),
    chartEl,
  );
  document.body.append(popup);
  const echarts = await import("echarts");
  const chart = echarts.init(chartEl, "dark", { renderer: "svg" });
  close.addEventListener("click", () => {
    chart.dispose();
    popup?.remove();
    popup = undefined;
  });
  const invert: [number, number][] = [];
  for (const s of profile.segments) {
    if (s.fromInvert !== null) invert.push([s.from, s.fromInvert]);
    if (s.toInvert !== null) invert.push([s.to, s.toInvert]);
  }
  const round = (n: number) => Number(n.toFixed(2));
  chart.setOption({
    backgroundColor: "transparent",
    animation: false,
    grid: { left: 56, right: 20, top: 30, bottom: 40 },
    tooltip: { trigger: "axis" },
    legend: { data: [t("pipes.profile.ground"), t("pipes.profile.invert")], top: 0 },
    xAxis: { type: "value", name: t("pipes.profile.distance"), nameLocation: "middle", nameGap: 26 },
    yAxis: { type: "value", name: t("pipes.profile.elevation"), scale: true },
    series: [
      {
        name: t("pipes.profile.ground"),
        type: "line",
        data: profile.points.filter((p) => p.ground !== null).map((p) => [round(p.distance), p.ground]),
        lineStyle: { color: "#8fd16a" },
        itemStyle: { color: "#8fd16a" },
      },
      {
        name: t("pipes.profile.invert"),
        type: "line",
        data: invert.map(([d, z]) => [round(d), z]),
        lineStyle: { color: "#c07a3a" },
        itemStyle: { color: "#c07a3a" },
        areaStyle: { opacity: 0.08 },
      },
    ],
  });
}
