import { LEAK_FLOW_INCREASE, LEAK_MIN_PRESSURE_MPA, LEAK_PRESSURE_DROP_MPA } from "./leak.ts";
import {
  crowdActivity,
  electricalLoad,
  indoorTemperature,
  localHour,
  mainPressure,
  pm10,
  pm25,
  sewerInflow,
  sewerLevel,
  trafficNoise,
  waterDemand,
} from "./patterns.ts";
import { smoothNoise, unitHash } from "./smooth-noise.ts";

/**
 * What one device reads at a moment: the daily pattern of its kind at the simulated local hour, a per-device
 * constant (sensors and sites differ), smooth noise in real time, and the burst effect for water devices.
 * Quantity names are the `values` keys the alarm rules watch (models/alarms.ts DEFAULT_RULES); units are the
 * device types' units (models/devices.ts DEVICE_TYPES). Normal readings stay inside every default limit.
 */

export interface ReadingContext {
  /** Simulated time (epoch ms): sets the hour of the daily patterns. */
  simMs: number;
  /** Real time (epoch ms): drives the noise, like a physical sensor. */
  realMs: number;
  /** 0..1 effect of active bursts on this device (see leak.ts). */
  leak: number;
}

type Values = Record<string, number>;

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function valuesFor(type: string, id: string, c: ReadingContext): Values | undefined {
  const h = localHour(c.simMs);
  const u = unitHash(id);
  const noise = (quantity: string, amplitude: number) =>
    smoothNoise(`${id}/${quantity}`, c.realMs, amplitude);
  switch (type) {
    case "pipe_pressure": {
      const normal = mainPressure(waterDemand(h), 0.335 + 0.02 * u) + noise("pressure", 0.004);
      const p = Math.max(LEAK_MIN_PRESSURE_MPA, normal - LEAK_PRESSURE_DROP_MPA * c.leak);
      // 0.1 kPa resolution: coarser steps between close readings would look like fast changes to the rate rule.
      return { pressure: round(p, 4) };
    }
    case "flow": {
      const mean = 150 + 450 * u;
      const flow = mean * waterDemand(h) * (1 + LEAK_FLOW_INCREASE * c.leak) + noise("flow", 0.02 * mean);
      return { flow: round(Math.max(0, flow), 1) };
    }
    case "water_level":
      return {
        level: round(Math.max(0, sewerLevel(sewerInflow(h), 0.85 + 0.3 * u) + noise("level", 0.01)), 3),
      };
    case "gas_concentration":
      return { concentration: round(Math.max(0, 0.6 + 0.5 * u + noise("concentration", 0.3)), 2) };
    case "manhole_cover":
      return { tilt: round(Math.max(0, 0.3 + 0.8 * u + noise("tilt", 0.1)), 2), open: 0 };
    case "temperature":
      return { temperature: round(indoorTemperature(h) + 2 * (u - 0.5) + noise("temperature", 0.3), 2) };
    case "smoke":
      return { smoke: round(Math.max(0, 0.008 + 0.01 * u + noise("smoke", 0.003)), 4) };
    case "electrical_leakage":
      return { current: round(20 + 40 * u + 50 * electricalLoad(h) + noise("current", 4), 1) };
    case "cable_temperature": {
      const t = 22 + 3 * u + 14 * electricalLoad((h + 23) % 24) + noise("temperature", 0.4);
      return { temperature: round(t, 3) };
    }
    case "pm25":
      return { pm25: round(Math.max(1, pm25(h) * (0.9 + 0.2 * u) + noise("pm25", 3)), 1) };
    case "pm10":
      return { pm10: round(Math.max(1, pm10(h) * (0.9 + 0.2 * u) + noise("pm10", 5)), 1) };
    case "noise":
      return { noise: round(trafficNoise(h) + 3 * (u - 0.5) + noise("noise", 1), 1) };
    case "water_quality":
      return {
        turbidity: round(Math.max(0.05, 0.25 + 0.15 * u + noise("turbidity", 0.05)), 3),
        ph: round(7.2 + 0.4 * u + noise("ph", 0.05), 2),
        chlorine: round(0.32 + 0.1 * u + noise("chlorine", 0.03), 3),
      };
    case "crowd_count": {
      const capacity = 180 + 220 * u;
      return {
        count: Math.max(0, Math.round(capacity * crowdActivity(h) + noise("count", 0.05 * capacity))),
      };
    }
    default:
      return undefined;
  }
}

/** The device's reading values, or undefined for a device type the simulator does not know. */
export function readingValues(device: { id: string; type: string }, c: ReadingContext): Values | undefined {
  return valuesFor(device.type, device.id, c);
}
