import { describe, expect, it } from "vitest";
import { DEFAULT_RULES } from "../../models/alarms.ts";
import { DEVICE_TYPE_IDS, type DeviceType } from "../../models/devices.ts";
import { readingValues } from "../../simulator/device-readings.ts";
import {
  LEAK_MIN_PRESSURE_MPA,
  type LeakScenario,
  leakEffect,
  leakEndMs,
  leakIntensity,
  leakSite,
} from "../../simulator/leak.ts";
import {
  localHour,
  mainPressure,
  pm25,
  sewerInflow,
  trafficNoise,
  waterDemand,
} from "../../simulator/patterns.ts";
import { smoothNoise } from "../../simulator/smooth-noise.ts";

/** Local hours sampled every 6 minutes over a day. */
const HOURS = Array.from({ length: 240 }, (_, i) => i / 10);

function peakHour(f: (h: number) => number, from: number, to: number): number {
  const inRange = HOURS.filter((h) => h >= from && h < to);
  return inRange.reduce((best, h) => (f(h) > f(best) ? h : best), inRange[0]);
}

/** 2026-11-21 00:00 China Standard Time. */
const MIDNIGHT_CST = Date.parse("2026-11-21T00:00:00+08:00");

describe("daily patterns", () => {
  it("reads the hour on the demo city's clock (UTC+8), whatever the machine's time zone", () => {
    expect(localHour(MIDNIGHT_CST)).toBeCloseTo(0, 9);
    expect(localHour(Date.parse("2026-11-21T07:30:00Z"))).toBeCloseTo(15.5, 9);
  });

  it("has a morning and an evening water demand peak over a night minimum", () => {
    const morning = peakHour(waterDemand, 5, 10);
    const evening = peakHour(waterDemand, 17, 22);
    expect(morning).toBeGreaterThanOrEqual(6.5);
    expect(morning).toBeLessThanOrEqual(8.5);
    expect(evening).toBeGreaterThanOrEqual(18.5);
    expect(evening).toBeLessThanOrEqual(20.5);
    const night = Math.min(...HOURS.filter((h) => h >= 1 && h <= 5).map(waterDemand));
    expect(waterDemand(morning)).toBeGreaterThan(3 * night);
    expect(waterDemand(evening)).toBeGreaterThan(3 * night);
    // Both peaks stand out of the afternoon between them.
    expect(waterDemand(morning)).toBeGreaterThan(waterDemand(15) * 1.2);
    expect(waterDemand(evening)).toBeGreaterThan(waterDemand(15) * 1.2);
    // Relative to the daily mean.
    const mean = HOURS.reduce((s, h) => s + waterDemand(h), 0) / HOURS.length;
    expect(mean).toBeGreaterThan(0.85);
    expect(mean).toBeLessThan(1.15);
  });

  it("drops main pressure at the demand peaks and keeps it above the 0.14 MPa service minimum", () => {
    const pressure = (h: number) => mainPressure(waterDemand(h));
    const lowest = (from: number, to: number) => peakHour((h) => -pressure(h), from, to);
    expect(Math.abs(lowest(5, 10) - peakHour(waterDemand, 5, 10))).toBeLessThanOrEqual(0.1);
    expect(Math.abs(lowest(17, 22) - peakHour(waterDemand, 17, 22))).toBeLessThanOrEqual(0.1);
    expect(pressure(3)).toBeGreaterThan(pressure(7.5) + 0.08);
    for (const h of HOURS) expect(pressure(h)).toBeGreaterThan(0.2);
  });

  it("lets sewer inflow follow water use with a lag", () => {
    const peak = peakHour(sewerInflow, 5, 12);
    expect(peak - peakHour(waterDemand, 5, 12)).toBeCloseTo(1.5, 1);
  });

  it("peaks PM2.5 in the morning rush and at night, lowest in the afternoon", () => {
    expect(pm25(8.5)).toBeGreaterThan(pm25(15) + 15);
    expect(pm25(23)).toBeGreaterThan(pm25(15) + 15);
    const cleanest = peakHour((h) => -pm25(h), 0, 24);
    expect(cleanest).toBeGreaterThanOrEqual(12);
    expect(cleanest).toBeLessThanOrEqual(18);
  });

  it("makes traffic noise loud at the rush hours and quiet at night", () => {
    expect(trafficNoise(8)).toBeGreaterThan(trafficNoise(3) + 12);
    expect(trafficNoise(18)).toBeGreaterThan(trafficNoise(3) + 12);
  });
});

describe("device readings", () => {
  const typesWithRules = DEVICE_TYPE_IDS.filter((t) => DEFAULT_RULES[t] !== undefined);

  it("publishes, for every device type, the quantities its alarm rules watch", () => {
    for (const type of DEVICE_TYPE_IDS) {
      const values = readingValues({ id: `X-${type}`, type }, { simMs: MIDNIGHT_CST, realMs: 0, leak: 0 });
      expect(values, type).toBeDefined();
      const watched = (DEFAULT_RULES[type] ?? []).map((r) => r.quantity).filter((q) => q !== null);
      expect(Object.keys(values!).sort(), type).toEqual(expect.arrayContaining([...new Set(watched)].sort()));
    }
    expect(
      readingValues({ id: "X", type: "unknown_kind" }, { simMs: 0, realMs: 0, leak: 0 }),
    ).toBeUndefined();
  });

  it("stays inside every default alarm limit over a whole day (level rules except water_level: see the demo's well rules)", () => {
    const breaches: string[] = [];
    for (const type of typesWithRules) {
      for (let n = 0; n < 8; n++) {
        const id = `${type}-${n}`;
        let previous: Record<string, number> | undefined;
        for (let minute = 0; minute < 24 * 60; minute += 2) {
          const ms = MIDNIGHT_CST + minute * 60_000;
          const values = readingValues({ id, type }, { simMs: ms, realMs: ms, leak: 0 })!;
          for (const rule of DEFAULT_RULES[type as DeviceType]!) {
            if (rule.kind === "offline" || rule.quantity === null) continue;
            if (type === "water_level") continue; // sewer well depths: the demo gives each well its own limits
            const v = values[rule.quantity];
            const limits = Object.values(rule.limits);
            if (rule.kind === "upper" && v >= Math.min(...limits))
              breaches.push(`${id} ${rule.quantity}=${v}`);
            if (rule.kind === "lower" && v <= Math.max(...limits))
              breaches.push(`${id} ${rule.quantity}=${v}`);
            if (rule.kind === "rate" && previous) {
              const perMinute = Math.abs(v - previous[rule.quantity]) / 2;
              if (perMinute >= Math.min(...limits)) breaches.push(`${id} d${rule.quantity}/min=${perMinute}`);
            }
          }
          previous = values;
        }
      }
    }
    expect(breaches).toEqual([]);
  });

  it("keeps sewer levels below the smallest sewer's crown (0.4 m)", () => {
    for (let minute = 0; minute < 24 * 60; minute += 5) {
      const ms = MIDNIGHT_CST + minute * 60_000;
      for (let n = 0; n < 8; n++) {
        const { level } = readingValues(
          { id: `L${n}`, type: "water_level" },
          { simMs: ms, realMs: ms, leak: 0 },
        )!;
        expect(level).toBeGreaterThan(0.05);
        expect(level).toBeLessThan(0.4);
      }
    }
  });

  it("changes smoothly however close together readings are, so rate rules see no noise", () => {
    for (const dtMs of [100, 1000, 5000]) {
      let worst = 0;
      for (let t = 0; t < 3_600_000; t += 997) {
        const a = smoothNoise("PRS-01/pressure", t, 1);
        const b = smoothNoise("PRS-01/pressure", t + dtMs, 1);
        worst = Math.max(worst, Math.abs(b - a) / (dtMs / 60_000));
      }
      expect(worst).toBeLessThan(2.3);
    }
  });
});

describe("water main burst", () => {
  const gauge = { id: "PRS-02", type: "pipe_pressure", lon: 118.29, lat: 33.956, layerId: "pipes" };
  const leak: LeakScenario = {
    deviceId: "PRS-02",
    lon: 118.29,
    lat: 33.956,
    layerId: "pipes",
    startMs: 1_000_000,
    durationMs: 60_000,
  };

  it("develops within seconds, holds for its duration, then recovers", () => {
    expect(leakIntensity(leak, leak.startMs - 1)).toBe(0);
    expect(leakIntensity(leak, leak.startMs + 5000)).toBeCloseTo(0.5, 6);
    expect(leakIntensity(leak, leak.startMs + 10_000)).toBe(1);
    expect(leakIntensity(leak, leak.startMs + 60_000)).toBe(1);
    expect(leakIntensity(leak, leak.startMs + 70_000)).toBeCloseTo(0.5, 6);
    expect(leakIntensity(leak, leakEndMs(leak))).toBe(0);
  });

  it("drops pressure below the red limit at the burst and raises flow nearby, fading with distance", () => {
    const during = leak.startMs + 30_000;
    const at = (d: typeof gauge) =>
      readingValues(d, {
        simMs: MIDNIGHT_CST + 8 * 3_600_000,
        realMs: during,
        leak: leakEffect(d, [leak], during),
      })!;
    expect(at(gauge).pressure).toBeLessThanOrEqual(0.05);
    expect(at(gauge).pressure).toBeGreaterThanOrEqual(LEAK_MIN_PRESSURE_MPA);
    // 50 m east along the main: still below the orange limit (0.10 MPa).
    const east50 = {
      ...gauge,
      id: "PRS-09",
      lon: gauge.lon + 50 / (111_320 * Math.cos((33.956 * Math.PI) / 180)),
    };
    expect(at(east50).pressure).toBeLessThanOrEqual(0.1);
    // 400 m away: unaffected.
    const far = { ...gauge, id: "PRS-10", lat: gauge.lat + 400 / 110_940 };
    expect(leakEffect(far, [leak], during)).toBeLessThan(0.001);
    // Another network layer: unaffected.
    expect(leakEffect({ ...gauge, layerId: "other" }, [leak], during)).toBe(0);
    const meter = { ...east50, id: "FLW-01", type: "flow" };
    const normal = readingValues(meter, { simMs: MIDNIGHT_CST + 8 * 3_600_000, realMs: during, leak: 0 })!;
    expect(at(meter).flow).toBeGreaterThan(normal.flow * 1.8);
  });

  it("takes burst sites in turn among the pressure gauges", () => {
    const devices = ["PRS-02", "FLW-01", "PRS-01", "PRS-03"].map((id) => ({
      id,
      type: id.startsWith("PRS") ? "pipe_pressure" : "flow",
      lon: 0,
      lat: 0,
      layerId: null,
    }));
    expect([0, 1, 2, 3].map((k) => leakSite(devices, k)?.id)).toEqual([
      "PRS-01",
      "PRS-02",
      "PRS-03",
      "PRS-01",
    ]);
    expect(
      leakSite(
        devices.filter((d) => d.type === "flow"),
        0,
      ),
    ).toBeUndefined();
  });
});
