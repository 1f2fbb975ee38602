import { type AlarmTimelineEntry, AlarmTimelineEntrySchema } from "../../../models/alarms.ts";
import { type Replay, ReplaySchema } from "../../../models/cockpit.ts";
import { apiUrl } from "../catalog.ts";
import { type ReplayFrame, ReplayState } from "./replay-state.ts";

export const REPLAY_SPEEDS = [60, 300, 900, 3600] as const;
const HOURS = 24;

export type TimeTravelListener = (frame: ReplayFrame, events: AlarmTimelineEntry[]) => void;

/**
 * Replays the last 24 hours at a chosen speed (simulated seconds per real second): loads the bucketed
 * sensor values and the alarm history once, then reports the city's state every animation frame to
 * whoever draws it (sensor markers, asset colours, charts). `stop()` returns them to live data.
 */
export class TimeTravel {
  private state: ReplayState | undefined;
  private listeners: TimeTravelListener[] = [];
  private modeListeners: ((active: boolean) => void)[] = [];
  private raf = 0;
  private lastReal = 0;
  private _time = 0;
  private _playing = false;
  speed: number = REPLAY_SPEEDS[1];

  get active(): boolean {
    return this.state !== undefined;
  }
  get playing(): boolean {
    return this._playing;
  }
  get time(): number {
    return this._time;
  }
  get window(): { from: number; to: number } | undefined {
    return this.state && { from: this.state.from, to: this.state.to };
  }

  onFrame(listener: TimeTravelListener): void {
    this.listeners.push(listener);
  }
  onModeChange(listener: (active: boolean) => void): void {
    this.modeListeners.push(listener);
  }

  /** Enters replay at the start of the last 24 hours (paused). */
  async start(now = Date.now()): Promise<void> {
    const from = now - HOURS * 3_600_000;
    const [replay, timeline] = await Promise.all([
      getJson(`api/cockpit/replay?from=${from}&to=${now}&bucket=5m`, (x) => ReplaySchema.parse(x) as Replay),
      getJson(`api/alarms/timeline?from=${from}&to=${now}&limit=20000`, (x) =>
        AlarmTimelineEntrySchema.array().parse((x as { items: unknown }).items),
      ),
    ]);
    this.state = new ReplayState(replay, timeline);
    for (const l of this.modeListeners) l(true);
    this.seek(from);
  }

  /** Leaves replay: listeners return to live data. */
  stop(): void {
    this.pause();
    this.state = undefined;
    for (const l of this.modeListeners) l(false);
  }

  play(): void {
    if (!this.state || this._playing) return;
    if (this._time >= this.state.to) this._time = this.state.from;
    this._playing = true;
    this.lastReal = performance.now();
    const tick = (real: number) => {
      if (!this._playing || !this.state) return;
      const next = Math.min(this.state.to, this._time + ((real - this.lastReal) / 1000) * this.speed * 1000);
      this.lastReal = real;
      this.advance(next);
      if (next >= this.state.to) this.pause();
      else this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause(): void {
    this._playing = false;
    cancelAnimationFrame(this.raf);
  }

  /** Jumps to a moment: no ticker events for what was skipped. */
  seek(t: number): void {
    if (!this.state) return;
    this._time = t;
    this.emit(this.state.at(t), []);
  }

  private advance(t: number): void {
    if (!this.state) return;
    const events = this.state.eventsBetween(this._time, t);
    this._time = t;
    this.emit(this.state.at(t), events);
  }

  private emit(frame: ReplayFrame, events: AlarmTimelineEntry[]): void {
    for (const l of this.listeners) l(frame, events);
  }
}

async function getJson<T>(path: string, parse: (x: unknown) => T): Promise<T> {
  const res = await fetch(apiUrl(path), { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return parse(await res.json());
}
