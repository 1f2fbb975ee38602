import type { Viewer } from "cesium";
import type { FocusState } from "./alarm-focus.ts";
import type { Role } from "./role.ts";

/** What browser tests read on /cockpit; they act through the real mouse and read the DOM themselves. */
export interface CimCockpitHook {
  viewer: Viewer;
  /** Resolves once the catalog, devices, alarms and the first summary are loaded and the first flight ended. */
  ready: Promise<void>;
  /** KPI values shown, by `data-kpi` key (the summary's numbers: rates 0..1, lengths in metres). */
  kpis(): Record<string, number | null>;
  /** Summaries read so far (one more after each burst of alarm events). */
  summaryLoads(): number;
  /** Camera position in degrees and metres. */
  camera(): { lon: number; lat: number; height: number };
  /** Ticker items in order. */
  ticker(): { id: number; deviceId: string; level: string; status: string }[];
  /** The alarm in focus (flown to, asset highlighted, video opened), or null. */
  focus(): FocusState | null;
  /** WebSocket status and live chart points per key sensor. */
  live(): { status: string; points: Record<string, number> };
  /** Every tileset in view has loaded. */
  tilesLoaded(): boolean;
  mode(): "peace" | "war";
  role(): Role;
  /** deck.gl overview: devices aggregated and alarms in the heat map. */
  overview(): { devices: number; alarms: number };
  /** Viewport point where the overview map draws a position (for a real click on a hexagon), or null. */
  overviewPoint(lon: number, lat: number): { x: number; y: number } | null;
  tour(): { running: boolean; stop: number };
  /** The stage's CSS scale (1 at 1920x1080). */
  scale(): number;
}

declare global {
  interface Window {
    cimCockpit?: CimCockpitHook;
  }
}

export function installCockpitHook(hook: CimCockpitHook): void {
  window.cimCockpit = hook;
}
