import { describe, expect, it } from "vitest";
import type { CitySummary, Replay } from "../../models/cockpit.ts";
import { ReplayState } from "../../viewer/src/timeline/replay-state.ts";
import { replaySummary } from "../../viewer/src/timeline/replay-summary.ts";
import { timelineRows } from "./support/timeline-rows.ts";

// 2026-11-21 00:00 in China (UTC+8) is 2026-11-20T16:00Z; the window covers the evening before and the morning.
const DAY_START = Date.parse("2026-11-20T16:00:00Z");
const MIN = 60_000;
const FROM = DAY_START - 120 * MIN;

const live = {
  generatedAt: "",
  day: "2026-11-21",
  utcOffset: "+08:00",
  devices: {
    total: 3,
    online: 3,
    onlineRate: 1,
    byType: { pipe_pressure: { total: 2, online: 2 }, water_level: { total: 1, online: 1 } },
  },
  alarms: {
    since: "",
    raised: { total: 9, byLevel: { red: 9, orange: 0, yellow: 0, blue: 0 }, byDeviceType: {}, byKind: {} },
    open: {
      total: 0,
      active: 0,
      byStatus: { raised: 0, acknowledged: 0, dispatched: 0, handled: 0, verified: 0, closed: 0 },
      byLevel: { red: 0, orange: 0, yellow: 0, blue: 0 },
    },
    closed: 0,
  },
  alarmsByHour: { red: [], orange: [], yellow: [], blue: [] },
  cameras: { total: 6, online: 5, availability: 0.9 },
  pipes: { lengthByClass: { JS: 1000 }, totalLength: 1000, segments: 10 },
  layers: { buildings: 396, bimModels: 1, bimElements: 140, pipeLayers: 1, pointClouds: 0, realityMeshes: 0 },
} as unknown as CitySummary;

const row = timelineRows(DAY_START);

// Yesterday evening (local): a level alarm raised and left open. This morning: a red pressure alarm at 01:30,
// acknowledged at 01:40.
const timeline = [
  row(1, -60, {
    deviceId: "lv-1",
    deviceType: "water_level",
    alarmKind: "upper",
    toStatus: "raised",
    toLevel: "yellow",
  }),
  row(2, 90, { toStatus: "raised", toLevel: "red" }),
  row(2, 100, { kind: "acknowledge", fromStatus: "raised", toStatus: "acknowledged", by: "值班员" }),
];
const replay: Replay = {
  from: new Date(FROM).toISOString(),
  to: new Date(DAY_START + 240 * MIN).toISOString(),
  bucketMs: 5 * MIN,
  buckets: 72,
  series: {
    "p-1": {
      pressure: [
        [0, 0.3],
        [42, 0.02],
      ],
    },
    "p-2": { pressure: [[5, 0.31]] },
    "lv-1": { level: [[40, 0.2]] },
  },
};
const types: Record<string, string> = {
  "p-1": "pipe_pressure",
  "p-2": "pipe_pressure",
  "lv-1": "water_level",
};

describe("cockpit figures at a replayed moment", () => {
  const state = new ReplayState(replay, timeline);

  it("counts today's alarms by the replayed day and the open ones by stage", () => {
    const s = replaySummary(live, state.at(DAY_START + 110 * MIN), (d) => types[d]);
    expect(s.day).toBe("2026-11-21");
    // Only the pressure alarm was raised "today"; yesterday's level alarm is still open.
    expect(s.alarms.raised.total).toBe(1);
    expect(s.alarms.raised.byLevel.red).toBe(1);
    expect(s.alarms.raised.byDeviceType).toEqual({ pipe_pressure: 1 });
    expect(s.alarmsByHour.red[1]).toBe(1);
    expect(s.alarms.open.total).toBe(2);
    expect(s.alarms.open.byStatus).toMatchObject({ raised: 1, acknowledged: 1 });
    expect(s.alarms.open.byLevel).toMatchObject({ red: 1, yellow: 1 });
    // What the replay does not cover stays live.
    expect(s.cameras).toEqual(live.cameras);
    expect(s.pipes).toEqual(live.pipes);
  });

  it("counts devices online when they reported within 15 minutes of the moment", () => {
    // At 01:35 local: p-1's last bucket is 01:30, lv-1's 01:20, p-2's was at 22:25 the day before.
    const s = replaySummary(live, state.at(DAY_START + 95 * MIN), (d) => types[d]);
    expect(s.devices.byType).toEqual({
      pipe_pressure: { total: 2, online: 1 },
      water_level: { total: 1, online: 1 },
    });
    expect(s.devices.onlineRate).toBeCloseTo(2 / 3, 6);
    // Before 01:30 the red alarm did not exist yet.
    expect(replaySummary(live, state.at(DAY_START + 80 * MIN), (d) => types[d]).alarms.raised.total).toBe(0);
  });
});
