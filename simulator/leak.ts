/**
 * The water-main burst scenario. A burst at a pressure gauge's main draws water out of the looped grid: pressure
 * collapses at the burst and less so further away (the grid feeds the hole from every side), and the flow meters
 * near it read the leak's flow on top of the demand. After the leak's duration the section is isolated and
 * refilled, and pressure and flow recover.
 */

export interface SiteDevice {
  id: string;
  type: string;
  lon: number;
  lat: number;
  layerId: string | null;
}

export interface LeakScenario {
  /** The pressure gauge at the burst. */
  deviceId: string;
  lon: number;
  lat: number;
  /** Only devices of the same network layer feel it. */
  layerId: string | null;
  /** Epoch ms (real time). */
  startMs: number;
  /** How long the main runs open before it is isolated (ms). */
  durationMs: number;
}

/** Pressure drop (MPa) at the burst when fully developed: below the 0.05 MPa red limit from any normal pressure. */
export const LEAK_PRESSURE_DROP_MPA = 0.31;
/** Extra flow at a meter next to the burst, relative to its normal flow. */
export const LEAK_FLOW_INCREASE = 1.4;
/** Distance (m) over which the effect fades: ~0.84 at 50 m, ~0.33 at 125 m, ~0.06 at 200 m. */
export const LEAK_REACH_M = 120;
/** Lowest pressure a gauge reads at a burst (the main stays connected to the grid). */
export const LEAK_MIN_PRESSURE_MPA = 0.02;

const rampMs = (s: LeakScenario) => Math.min(10_000, s.durationMs / 4);
const recoveryMs = (s: LeakScenario) => Math.min(20_000, s.durationMs / 3);

/** When the scenario's effects are over (ms). */
export function leakEndMs(s: LeakScenario): number {
  return s.startMs + s.durationMs + recoveryMs(s);
}

/** 0..1: how far the burst has developed at `nowMs`: a quick rise, a plateau, then a slower recovery. */
export function leakIntensity(s: LeakScenario, nowMs: number): number {
  const t = nowMs - s.startMs;
  if (t <= 0) return 0;
  if (t < rampMs(s)) return t / rampMs(s);
  if (t <= s.durationMs) return 1;
  return Math.max(0, 1 - (t - s.durationMs) / recoveryMs(s));
}

/** Share of the burst's effect felt at `distanceM` from it. */
export function leakShare(distanceM: number): number {
  return Math.exp(-((distanceM / LEAK_REACH_M) ** 2));
}

/** Horizontal distance (m) between two points a few km apart (equirectangular). */
export function distanceM(a: { lon: number; lat: number }, b: { lon: number; lat: number }): number {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad) * 6_371_000;
  const y = (b.lat - a.lat) * rad * 6_371_000;
  return Math.hypot(x, y);
}

/** 0..1: the combined effect of the active leaks on a water device at `nowMs` (0 for other device types). */
export function leakEffect(device: SiteDevice, leaks: readonly LeakScenario[], nowMs: number): number {
  if (device.type !== "pipe_pressure" && device.type !== "flow") return 0;
  let effect = 0;
  for (const s of leaks) {
    if (s.layerId !== device.layerId) continue;
    effect += leakIntensity(s, nowMs) * leakShare(distanceM(s, device));
  }
  return Math.min(1, effect);
}

/** Burst sites take turns: the pressure gauges in id order, the `turn`-th (mod their count). */
export function leakSite<T extends SiteDevice>(devices: readonly T[], turn: number): T | undefined {
  const gauges = devices.filter((d) => d.type === "pipe_pressure").sort((a, b) => a.id.localeCompare(b.id));
  return gauges.length === 0 ? undefined : gauges[((turn % gauges.length) + gauges.length) % gauges.length];
}
