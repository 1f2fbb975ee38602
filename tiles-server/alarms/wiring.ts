import type { Logger } from "pino";
import type { AlarmEngine, Reading } from "./engine.ts";

/** What the wiring needs from the telemetry service (TelemetryService.onCommitted). */
export interface CommittedReadingsSource {
  onCommitted(listener: (readings: Reading[]) => void): () => void;
}

/** What the wiring needs from the WebSocket hub (WsHub.broadcast; no filter = every client). */
export interface LiveBroadcaster {
  broadcast(channel: string, message: object): number;
}

export interface AlarmWiringOptions {
  engine: AlarmEngine;
  telemetry: CommittedReadingsSource;
  hub: LiveBroadcaster;
  logger: Logger;
  /** How often to look for silent devices; default 60 s. */
  offlineSweepMs?: number;
}

/**
 * Connects the rule engine to the live system: every committed telemetry batch is evaluated, every
 * alarm event goes to all WebSocket clients as `{"type": "alarm", "event": "raised" | "level_changed"
 * | "cleared" | "transition", "alarm": {...}, "entry": {...}}` (alarms are rare and the cockpit wants
 * all of them), and the offline sweep runs periodically. Returns a function that undoes all of it;
 * on shutdown call it after the telemetry service has stopped, then `await engine.idle()`, then close
 * the database.
 */
export function wireAlarms(opts: AlarmWiringOptions): () => void {
  const { engine, logger } = opts;
  const offTelemetry = opts.telemetry.onCommitted((readings) => {
    // The readings are already stored; a failed evaluation is logged and the next batch goes on.
    engine.evaluate(readings).catch((err) => logger.error({ err }, "alarm evaluation failed"));
  });
  const offEvents = engine.onEvent((event) => {
    opts.hub.broadcast("alarm", { event: event.type, alarm: event.alarm, entry: event.entry });
  });
  const stopSweep = engine.startOfflineSweep(opts.offlineSweepMs ?? 60_000);
  return () => {
    stopSweep();
    offTelemetry();
    offEvents();
  };
}
