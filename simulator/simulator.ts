import mqtt, { type MqttClient } from "mqtt";
import type { Device } from "../models/devices.ts";
import { readingValues } from "./device-readings.ts";
import { type LeakScenario, leakEffect, leakEndMs, leakSite } from "./leak.ts";
import { fetchDevices } from "./server-api.ts";

/**
 * The telemetry simulator: fetches the registered devices from the server's HTTP API and publishes a reading for
 * each one every `intervalMs` over MQTT (`cim/<id>/telemetry`, QoS 1), exactly as field devices do, and now and
 * then bursts a water main (see leak.ts).
 */

export interface SimulatorOptions {
  /** Server whose GET /api/devices lists the devices, e.g. http://127.0.0.1:8080. */
  serverUrl: string;
  /** Broker the server takes telemetry from, e.g. mqtt://127.0.0.1:11883. */
  mqttUrl: string;
  /** Time between two readings of a device (ms); default 5000. */
  intervalMs?: number;
  /** Simulated hours per real hour for the daily patterns; default 1 (real time). */
  speed?: number;
  /** Simulated time at start (epoch ms); default now. */
  simStartMs?: number;
  /** Time between main bursts (ms); 0 disables them. Default 5 min. */
  leakEveryMs?: number;
  /** Time until the first burst (ms); default `leakEveryMs`. */
  firstLeakAfterMs?: number;
  /** How long a burst runs before the main is isolated (ms); default 60 s. */
  leakDurationMs?: number;
  /** Re-read the device list this often (ms) to pick up new devices; default 60 s. */
  refreshDevicesMs?: number;
  /** MQTT client id; default a unique one. */
  clientId?: string;
  /** One line per notable event (burst, repair); default silent. */
  log?: (line: string) => void;
}

export interface SimulatorStats {
  /** Rounds of readings sent. */
  ticks: number;
  published: number;
  /** Publishes the broker acknowledged (PUBACK). */
  acknowledged: number;
  failed: number;
  /** Rounds skipped because the broker was unreachable or too far behind. */
  skippedTicks: number;
}

export interface RunningSimulator {
  /** Devices the simulator currently publishes for. */
  deviceCount(): number;
  /** Bursts the main at `deviceId` (a pressure gauge), or the next site in turn, now. */
  startLeak(deviceId?: string, durationMs?: number): LeakScenario;
  /** Bursts whose effects are not over yet. */
  activeLeaks(): LeakScenario[];
  stats(): SimulatorStats;
  /** Stops publishing, waits briefly for outstanding acknowledgements and disconnects. */
  stop(): Promise<void>;
}

export const DEFAULT_INTERVAL_MS = 5000;
export const DEFAULT_LEAK_EVERY_MS = 5 * 60_000;
export const DEFAULT_LEAK_DURATION_MS = 60_000;

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const speed = opts.speed ?? 1;
  const leakEveryMs = opts.leakEveryMs ?? DEFAULT_LEAK_EVERY_MS;
  const leakDurationMs = opts.leakDurationMs ?? DEFAULT_LEAK_DURATION_MS;
  const log = opts.log ?? (() => {});
  if (!(intervalMs > 0) || !(speed > 0)) throw new Error("simulator: interval and speed must be positive");

  let devices: Device[] = await fetchDevices(opts.serverUrl);
  const client: MqttClient = await mqtt
    .connectAsync(opts.mqttUrl, {
      clientId: opts.clientId ?? `cim-simulator-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    })
    .catch((err: NodeJS.ErrnoException) => {
      throw new Error(
        `simulator: cannot connect to the MQTT broker ${opts.mqttUrl} (${err.code ?? err.message})`,
      );
    });

  const realStart = Date.now();
  const simStart = opts.simStartMs ?? realStart;
  const stats: SimulatorStats = { ticks: 0, published: 0, acknowledged: 0, failed: 0, skippedTicks: 0 };
  let inFlight = 0;
  let leaks: LeakScenario[] = [];
  let turn = 0;
  let stopped = false;

  function tick(): void {
    const now = Date.now();
    leaks = leaks.filter((s) => {
      if (now <= leakEndMs(s)) return true;
      log(`simulator: main at ${s.deviceId} isolated and refilled, pressure back to normal`);
      return false;
    });
    // Without a broker the client would queue every message in memory; a broker far behind gets no more.
    if (!client.connected || inFlight > 4 * devices.length + 100) {
      stats.skippedTicks++;
      return;
    }
    stats.ticks++;
    const simMs = simStart + (now - realStart) * speed;
    for (const device of devices) {
      const values = readingValues(device, { simMs, realMs: now, leak: leakEffect(device, leaks, now) });
      if (values === undefined) continue;
      inFlight++;
      stats.published++;
      client.publish(`cim/${device.id}/telemetry`, JSON.stringify({ ts: now, values }), { qos: 1 }, (err) => {
        inFlight--;
        if (err) stats.failed++;
        else stats.acknowledged++;
      });
    }
  }

  function startLeak(deviceId?: string, durationMs = leakDurationMs): LeakScenario {
    const site = deviceId === undefined ? leakSite(devices, turn++) : devices.find((d) => d.id === deviceId);
    if (site === undefined) {
      throw new Error(
        deviceId ? `simulator: no device "${deviceId}"` : "simulator: no pressure gauge to burst",
      );
    }
    const scenario: LeakScenario = {
      deviceId: site.id,
      lon: site.lon,
      lat: site.lat,
      layerId: site.layerId,
      startMs: Date.now(),
      durationMs,
    };
    leaks.push(scenario);
    log(`simulator: water main burst at ${site.id} (${site.name}) for ${Math.round(durationMs / 1000)} s`);
    return scenario;
  }

  const timers: NodeJS.Timeout[] = [setInterval(tick, intervalMs)];
  if (leakEveryMs > 0) {
    const scheduled = () => {
      if (leakSite(devices, 0) !== undefined) startLeak();
    };
    timers.push(
      setTimeout(() => {
        scheduled();
        timers.push(setInterval(scheduled, leakEveryMs));
      }, opts.firstLeakAfterMs ?? leakEveryMs),
    );
  }
  const refreshMs = opts.refreshDevicesMs ?? 60_000;
  if (refreshMs > 0) {
    timers.push(
      setInterval(() => {
        fetchDevices(opts.serverUrl)
          .then((list) => {
            if (!stopped) devices = list;
          })
          .catch(() => {}); // keep the last list while the server is unreachable
      }, refreshMs),
    );
  }
  tick();

  return {
    deviceCount: () => devices.length,
    startLeak,
    activeLeaks: () => [...leaks],
    stats: () => ({ ...stats }),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearTimeout(t);
      const until = Date.now() + 2000;
      while (inFlight > 0 && client.connected && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      await client.endAsync(true);
    },
  };
}
