import type { Viewer } from "cesium";
import type { MapLayer } from "../layers.ts";

/** Seconds a tour stop is held before flying on. */
const DWELL_MS = 8000;

/**
 * 自动巡游: flies around the key places (the district, the BIM model, the pipe network) in turn, as a big screen
 * does when nobody touches it. Any drag, wheel or click in the scene stops it (the user takes over).
 */
export class AutoTour {
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stop = 0;
  private readonly listeners = new Set<(running: boolean) => void>();

  constructor(
    viewer: Viewer,
    private readonly stops: () => MapLayer[],
  ) {
    const canvas = viewer.scene.canvas;
    for (const type of ["pointerdown", "wheel"] as const)
      canvas.addEventListener(type, () => this.setRunning(false), { passive: true });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Index of the stop flown to next, or being flown to during a flight (for the test hook). */
  get currentStop(): number {
    return this.stop;
  }

  onChange(listener: (running: boolean) => void): void {
    this.listeners.add(listener);
  }

  setRunning(on: boolean): void {
    if (on === this.running) return;
    this.running = on;
    clearTimeout(this.timer);
    for (const l of this.listeners) l(on);
    if (on) void this.next();
  }

  private async next(): Promise<void> {
    const stops = this.stops();
    if (!this.running || stops.length === 0) return;
    this.stop = this.stop % stops.length;
    const layer = stops[this.stop]!;
    await layer.flyTo(3);
    if (!this.running) return;
    this.stop = (this.stop + 1) % stops.length;
    this.timer = setTimeout(() => void this.next(), DWELL_MS);
  }
}

/** The tour's stops in the order a visitor is shown them: the district, then BIM, then pipes. */
export function tourStops(layers: MapLayer[]): MapLayer[] {
  const order = ["buildings", "bim", "pipes", "reality-mesh", "pointcloud"];
  return [...layers]
    .filter((l) => order.includes(l.layer.type) && l.state !== "error")
    .sort((a, b) => order.indexOf(a.layer.type) - order.indexOf(b.layer.type));
}
