import type { LatestValue } from "../iot/device-directory.ts";
import type { IotViewer } from "../iot/iot-viewer.ts";
import type { ReplayFrame } from "./replay-state.ts";
import { replayedAlarm } from "./replayed-alarm.ts";
import type { TimeTravel } from "./time-travel.ts";

/** Markers, labels, alarm list and asset colours redraw at most this often while a replay plays. */
const REDRAW_MS = 250;

/**
 * Time travel on the scene: while a replay runs, the sensor markers, their labels, the alarm list and the
 * alarm colours of linked assets show the replayed moment instead of the live city.
 */
export function replayIntoIot(travel: TimeTravel, iot: IotViewer): void {
  let last = 0;
  let pending: ReplayFrame | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const draw = (frame: ReplayFrame) => {
    last = performance.now();
    iot.directory.setReplay(replayedValues(frame));
    iot.alarms.setReplay([...frame.alarms.values()].map(replayedAlarm));
  };
  travel.onFrame((frame) => {
    if (!travel.playing || performance.now() - last >= REDRAW_MS) {
      draw(frame);
      return;
    }
    pending = frame;
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (pending && travel.active) draw(pending);
      pending = undefined;
    }, REDRAW_MS);
  });
  travel.onModeChange((active) => {
    if (active) return;
    pending = undefined;
    iot.directory.setReplay(undefined);
    iot.alarms.setReplay(undefined);
  });
}

/** One value per device for its label: the quantity its alarms watch first, else its first. */
function replayedValues(frame: ReplayFrame): Map<string, LatestValue> {
  const watched = new Map<string, string>();
  for (const a of frame.alarms.values()) if (a.quantity) watched.set(a.deviceId, a.quantity);
  const out = new Map<string, LatestValue>();
  for (const [deviceId, quantities] of frame.values) {
    const quantity = watched.get(deviceId) ?? quantities.keys().next().value;
    if (quantity === undefined) continue;
    const value = quantities.get(quantity);
    if (value !== undefined) out.set(deviceId, { quantity, value, ts: frame.t });
  }
  return out;
}
