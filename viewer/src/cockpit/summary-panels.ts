import type { CitySummary } from "../../../models/cockpit.ts";
import { fetchSummary } from "./api.ts";
import { type Chart, type ChartOption, createChart } from "./echarts-setup.ts";
import { renderFigures } from "./figures.ts";
import { kindRadar, levelBars, onlineGauge, pipeBars, stageBars, typePie } from "./summary-charts.ts";

const REFRESH_MS = 30_000;
/** Several alarm events in a burst (a main bursting trips many sensors) cause one summary request. */
const EVENT_DEBOUNCE_MS = 800;

type Builder = (s: CitySummary) => ChartOption;

/**
 * The KPI panels: figures and charts from GET /api/cockpit/summary, read again every 30 s and shortly after
 * any alarm event on the WebSocket.
 */
export class SummaryPanels {
  private readonly charts: [Chart, Builder][];
  private summaryNow: CitySummary | undefined;
  /** While replaying the past: the figures of the replayed moment, drawn instead of the live ones. */
  private replayed: CitySummary | undefined;
  private valuesNow: Record<string, number | null> = {};
  private pending: ReturnType<typeof setTimeout> | undefined;
  private loads = 0;
  private readonly listeners = new Set<(s: CitySummary) => void>();

  constructor(
    private readonly root: HTMLElement,
    private readonly scope: { department?: string; sharing?: string } = {},
  ) {
    const chart = (id: string) => createChart(root.querySelector<HTMLElement>(`#${id}`)!);
    this.charts = [
      [chart("chart-online"), onlineGauge],
      [chart("chart-levels"), levelBars],
      [chart("chart-types"), typePie],
      [chart("chart-radar"), kindRadar],
      [chart("chart-stages"), stageBars],
      [chart("chart-pipes"), pipeBars],
    ];
    setInterval(() => void this.refresh(), REFRESH_MS);
  }

  /** The live summary (also while a replay is shown). */
  get summary(): CitySummary | undefined {
    return this.summaryNow;
  }

  /** Draws a replayed moment's figures (time travel), or the live ones again with undefined. */
  showReplay(summary: CitySummary | undefined): void {
    this.replayed = summary;
    this.render();
  }

  /** KPI values as shown, by their `data-kpi` key. */
  get values(): Record<string, number | null> {
    return this.valuesNow;
  }

  /** Summaries read so far (tests wait for the one after an event). */
  get loadCount(): number {
    return this.loads;
  }

  onSummary(listener: (s: CitySummary) => void): void {
    this.listeners.add(listener);
  }

  /** Reads the summary again soon (after an alarm event). */
  refreshSoon(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.refresh(), EVENT_DEBOUNCE_MS);
  }

  async refresh(): Promise<void> {
    try {
      const summary = await fetchSummary(this.scope);
      this.summaryNow = summary;
      this.render();
      this.loads++;
      this.root.dataset.summaryLoads = String(this.loads);
      for (const l of this.listeners) l(summary);
    } catch (err) {
      console.warn("cockpit summary:", err);
    }
  }

  /** Draws the last summary again (after a language switch). */
  render(): void {
    const s = this.replayed ?? this.summaryNow;
    if (!s) return;
    this.valuesNow = renderFigures(this.root, s);
    for (const [chart, build] of this.charts) chart.setOption(build(s), { notMerge: true });
  }
}
