import type { Reading } from "../../../models/telemetry.ts";
import { type Device, fetchDevice, fetchDevices, fetchLatestReadings } from "./api.ts";
import type { LiveClient } from "./live-client.ts";

/** Latest value of one quantity of a device. */
export interface LatestValue {
  quantity: string;
  value: number;
  ts: number;
}

/** `ids`: the devices whose latest value changed ("values") or that were added ("devices", absent: all). */
export type DirectoryListener = (changed: "devices" | "values", ids?: readonly string[]) => void;

/**
 * The device registry as the viewer knows it, plus each device's latest live value. Read once; a device
 * that shows up later (a reading or an alarm for an unknown id) is fetched on its own, so a sensor
 * registered while the page is open appears without a reload.
 */
export class DeviceDirectory {
  private readonly devices = new Map<string, Device>();
  private readonly latest = new Map<string, LatestValue>();
  /** While replaying the past: each device's value at the replayed moment, shown instead of the live one. */
  private replayed: Map<string, LatestValue> | undefined;
  private readonly missing = new Set<string>();
  private readonly asked = new Set<string>();
  private readonly listeners = new Set<DirectoryListener>();
  private fetchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(live: LiveClient) {
    live.onReadings((readings) => this.applyReadings(readings));
  }

  /**
   * The registry and each device's last stored value, so that labels show a value from the start instead of
   * waiting for the device's next reading (which may be an hour away for a slow sensor). Without the values
   * (an older server) the labels fill from live readings as before.
   */
  async load(): Promise<void> {
    const [list, stored] = await Promise.all([fetchDevices(), fetchLatestReadings().catch(() => [])]);
    this.devices.clear();
    for (const d of list) this.devices.set(d.id, d);
    for (const r of stored) {
      const ts = Date.parse(r.ts);
      const known = this.latest.get(r.deviceId);
      // The label shows the quantity reported last, as for live readings.
      if (known && known.ts >= ts) continue;
      this.latest.set(r.deviceId, { quantity: r.quantity, value: r.value, ts });
    }
    this.changed("devices");
  }

  get size(): number {
    return this.devices.size;
  }

  get(id: string): Device | undefined {
    return this.devices.get(id);
  }

  all(): IterableIterator<Device> {
    return this.devices.values();
  }

  latestValue(id: string): LatestValue | undefined {
    return (this.replayed ?? this.latest).get(id);
  }

  /** Whether the device ever sent anything (registry's lastSeen or a live reading); in a replay: by then. */
  hasReported(id: string): boolean {
    if (this.replayed) return this.replayed.has(id);
    return this.latest.has(id) || (this.devices.get(id)?.lastSeen ?? null) !== null;
  }

  /** Values of a replayed moment (time travel) instead of the live ones; undefined returns to live. */
  setReplay(values: Map<string, LatestValue> | undefined): void {
    this.replayed = values;
    this.changed("values");
  }

  /** Sets a value read elsewhere (the history chart) unless a newer one is known. */
  noteValue(id: string, value: LatestValue): void {
    const known = this.latest.get(id);
    if (known && known.ts >= value.ts) return;
    this.latest.set(id, value);
    this.changed("values", [id]);
  }

  /** Fetches devices not known yet (each id once, batched over a short delay). */
  ensure(ids: Iterable<string>): void {
    for (const id of ids) {
      if (this.devices.has(id) || this.asked.has(id)) continue;
      this.missing.add(id);
    }
    if (this.missing.size === 0 || this.fetchTimer) return;
    this.fetchTimer = setTimeout(() => void this.fetchMissing(), 200);
  }

  onChange(listener: DirectoryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async fetchMissing(): Promise<void> {
    this.fetchTimer = undefined;
    const ids = [...this.missing];
    this.missing.clear();
    for (const id of ids) this.asked.add(id);
    const found = await Promise.all(ids.map((id) => fetchDevice(id)));
    const added: string[] = [];
    for (const d of found) {
      if (!d) continue;
      this.devices.set(d.id, d);
      added.push(d.id);
    }
    if (added.length) this.changed("devices", added);
  }

  private applyReadings(readings: Reading[]): void {
    const unknown: string[] = [];
    const updated = new Set<string>();
    for (const r of readings) {
      if (!this.devices.has(r.deviceId)) unknown.push(r.deviceId);
      const known = this.latest.get(r.deviceId);
      // A device may send several quantities; the label shows the one that arrived last.
      if (known && known.ts > r.ts) continue;
      this.latest.set(r.deviceId, { quantity: r.quantity, value: r.value, ts: r.ts });
      updated.add(r.deviceId);
    }
    if (unknown.length) this.ensure(unknown);
    if (updated.size) this.changed("values", [...updated]);
  }

  private changed(kind: "devices" | "values", ids?: readonly string[]): void {
    for (const l of this.listeners) l(kind, ids);
  }
}
