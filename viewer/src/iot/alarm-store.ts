import { type Alarm, levelSeverity } from "../../../models/alarms.ts";
import { fetchOpenAlarms } from "./api.ts";
import type { LiveClient } from "./live-client.ts";

/**
 * The open (not closed) alarms, kept current: read once, then every alarm event from the live hub
 * replaces or removes its alarm. After a reconnect the list is read again, since events sent while the
 * socket was down are lost.
 */
export class AlarmStore {
  private readonly alarms = new Map<number, Alarm>();
  /** While replaying the past: the alarms of the replayed moment, shown instead of the live ones. */
  private replayed: Map<number, Alarm> | undefined;
  private readonly listeners = new Set<() => void>();
  private loadedOnce = false;
  private error: string | undefined;
  private generation = 0;

  constructor(live: LiveClient) {
    live.onAlarm(({ alarm }) => this.upsert(alarm));
    live.onStatus((status) => {
      if (status === "open" && this.loadedOnce) void this.load();
    });
  }

  get loaded(): boolean {
    return this.loadedOnce;
  }

  get loadError(): string | undefined {
    return this.error;
  }

  async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const items = await fetchOpenAlarms();
      if (generation !== this.generation) return;
      this.alarms.clear();
      for (const a of items) this.alarms.set(a.id, a);
      this.error = undefined;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.loadedOnce = true;
    this.changed();
  }

  /** A newer copy of an alarm (event or own transition); closed alarms leave the list. */
  upsert(alarm: Alarm): void {
    const known = this.alarms.get(alarm.id);
    // Events can overtake the answer of our own POST (or arrive twice): keep the newest state.
    if (known && Date.parse(known.statusAt) > Date.parse(alarm.statusAt)) return;
    if (known && known.status === alarm.status && Date.parse(known.lastAt) > Date.parse(alarm.lastAt)) return;
    if (alarm.status === "closed") this.alarms.delete(alarm.id);
    else this.alarms.set(alarm.id, alarm);
    if (!this.replayed) this.changed();
  }

  /**
   * Shows the alarms of a replayed moment (time travel) instead of the live ones, or, with undefined,
   * the live ones again; live events keep the live list current meanwhile.
   */
  setReplay(alarms: Alarm[] | undefined): void {
    this.replayed = alarms && new Map(alarms.filter((a) => a.status !== "closed").map((a) => [a.id, a]));
    this.changed();
  }

  get replaying(): boolean {
    return this.replayed !== undefined;
  }

  private get shown(): Map<number, Alarm> {
    return this.replayed ?? this.alarms;
  }

  get(id: number): Alarm | undefined {
    return this.shown.get(id);
  }

  /** Most severe first, then the most recently raised. */
  list(): Alarm[] {
    return [...this.shown.values()].sort(
      (a, b) =>
        levelSeverity(b.level) - levelSeverity(a.level) || Date.parse(b.raisedAt) - Date.parse(a.raisedAt),
    );
  }

  /** Open alarms by device id. */
  byDevice(): Map<string, Alarm[]> {
    const map = new Map<string, Alarm[]>();
    for (const a of this.shown.values()) {
      const list = map.get(a.deviceId);
      if (list) list.push(a);
      else map.set(a.deviceId, [a]);
    }
    return map;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
