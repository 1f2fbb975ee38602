import type { Command } from "commander";

/** The embedded broker of `npm start`; MQTT_URL when the server takes telemetry from another broker. */
const DEFAULT_MQTT_URL = "mqtt://127.0.0.1:11883";
const DEFAULT_SERVER_URL = "http://127.0.0.1:8080";
/** Fastest day (simulated hours per hour) whose pressure and cable-temperature swings stay under the rate rules. */
const MAX_QUIET_SPEED = 30;

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got "${text}"`);
  return n;
}

/** `cim simulate`: the simulator loads only when the command runs (see cli/serve-command.ts). */
export function registerSimulateCommand(program: Command): void {
  program
    .command("simulate")
    .description("publish realistic telemetry over MQTT for every device registered on a running server")
    .option("--server <url>", "server whose /api/devices lists the devices (env CIM_SERVER_URL)")
    .option("--mqtt <url>", "MQTT broker the server listens to (env MQTT_URL)")
    .option("--speed <x>", "simulated hours per real hour for the daily patterns", "1")
    .option("--interval <s>", "seconds between two readings of a device", "5")
    .option("--leak-every <min>", "minutes between water main bursts (0: none)", "5")
    .option("--leak-duration <s>", "seconds a burst runs before the main is isolated", "60")
    .option("--leak-now", "burst a main right away")
    .action(
      async (o: {
        server?: string;
        mqtt?: string;
        speed: string;
        interval: string;
        leakEvery: string;
        leakDuration: string;
        leakNow?: boolean;
      }) => {
        const { startSimulator } = await import("./simulator.ts");
        const serverUrl = o.server ?? (process.env.CIM_SERVER_URL || DEFAULT_SERVER_URL);
        const mqttUrl = o.mqtt ?? (process.env.MQTT_URL || DEFAULT_MQTT_URL);
        const intervalMs = positive("interval", o.interval) * 1000;
        const leakEveryMs = positive("leak-every", o.leakEvery) * 60_000;
        const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
        const sim = await startSimulator({
          serverUrl,
          mqttUrl,
          speed: positive("speed", o.speed) || 1,
          intervalMs: intervalMs || 5000,
          leakEveryMs,
          leakDurationMs: positive("leak-duration", o.leakDuration) * 1000,
          log,
        });
        log(
          `simulator: ${sim.deviceCount()} devices from ${serverUrl}, a reading every ${intervalMs / 1000} s to ${mqttUrl}` +
            (leakEveryMs > 0 ? `, a water main burst every ${leakEveryMs / 60_000} min` : ""),
        );
        if (Number(o.speed) > MAX_QUIET_SPEED) {
          log(
            `simulator: at --speed above ${MAX_QUIET_SPEED} daily swings trip the pressure and cable-temperature rate rules`,
          );
        }
        if (sim.deviceCount() === 0)
          log("simulator: no devices registered yet; the list is re-read every minute");
        if (o.leakNow) sim.startLeak();
        const report = setInterval(() => {
          const s = sim.stats();
          log(
            `simulator: ${s.acknowledged} readings acknowledged, ${s.failed} failed, ${s.skippedTicks} rounds skipped`,
          );
        }, 60_000);
        const quit = () => {
          clearInterval(report);
          sim.stop().finally(() => process.exit(0));
        };
        process.once("SIGINT", quit);
        process.once("SIGTERM", quit);
      },
    );
}
