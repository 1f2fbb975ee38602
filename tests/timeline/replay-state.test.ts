import { describe, expect, it } from "vitest";
import type { Replay } from "../../models/cockpit.ts";
import { ReplayState } from "../../viewer/src/timeline/replay-state.ts";
import { timelineRows } from "./support/timeline-rows.ts";

const FROM = Date.parse("2026-11-20T00:00:00Z");
const MIN = 60_000;
const replay: Replay = {
  from: new Date(FROM).toISOString(),
  to: new Date(FROM + 60 * MIN).toISOString(),
  bucketMs: 5 * MIN,
  buckets: 12,
  series: {
    "p-1": {
      pressure: [
        [0, 0.32],
        [3, 0.3],
        [4, 0.02],
        [7, 0.31],
      ],
    },
    "f-1": { flow: [[2, 120]] },
  },
};

const entry = timelineRows(FROM);

// A burst: raised red at minute 21, acknowledged at 25, cleared at 36, closed at 50; and an alarm raised
// before the window (its first row in the window is a dispatch from "acknowledged").
const timeline = [
  entry(7, 50, { kind: "close", fromStatus: "verified", toStatus: "closed", by: "王工" }),
  entry(7, 21, { kind: "raised", toStatus: "raised", toLevel: "red", value: 0.02 }),
  entry(7, 25, { kind: "acknowledge", fromStatus: "raised", toStatus: "acknowledged", by: "值班员" }),
  entry(7, 36, { kind: "cleared", value: 0.3 }),
  entry(3, 10, {
    kind: "dispatch",
    fromStatus: "acknowledged",
    toStatus: "dispatched",
    deviceId: "f-1",
    fromLevel: "yellow",
  }),
];

describe("time-travel replay state", () => {
  it("gives each sensor's last bucketed value at or before the moment", () => {
    const s = new ReplayState(replay, timeline);
    expect(
      s
        .at(FROM + 1 * MIN)
        .values.get("p-1")
        ?.get("pressure"),
    ).toBe(0.32);
    expect(
      s
        .at(FROM + 14 * MIN)
        .values.get("p-1")
        ?.get("pressure"),
    ).toBe(0.32);
    expect(
      s
        .at(FROM + 15 * MIN)
        .values.get("p-1")
        ?.get("pressure"),
    ).toBe(0.3);
    expect(
      s
        .at(FROM + 22 * MIN)
        .values.get("p-1")
        ?.get("pressure"),
    ).toBe(0.02);
    expect(
      s
        .at(FROM + 59 * MIN)
        .values.get("p-1")
        ?.get("pressure"),
    ).toBe(0.31);
    // No value before a sensor's first bucket.
    expect(s.at(FROM + 9 * MIN).values.has("f-1")).toBe(false);
    expect(
      s
        .at(FROM + 10 * MIN)
        .values.get("f-1")
        ?.get("flow"),
    ).toBe(120);
  });

  it("replays an alarm's lifecycle forwards and backwards", () => {
    const s = new ReplayState(replay, timeline);
    expect(s.at(FROM + 20 * MIN).alarms.has(7)).toBe(false);
    expect(s.at(FROM + 21 * MIN).alarms.get(7)).toMatchObject({
      status: "raised",
      level: "red",
      active: true,
    });
    expect(s.at(FROM + 30 * MIN).alarms.get(7)).toMatchObject({ status: "acknowledged", active: true });
    expect(s.at(FROM + 40 * MIN).alarms.get(7)).toMatchObject({ status: "acknowledged", active: false });
    expect(s.at(FROM + 55 * MIN).alarms.get(7)).toMatchObject({ status: "closed", level: "red" });
    // Back in time: the later steps are undone.
    expect(s.at(FROM + 22 * MIN).alarms.get(7)).toMatchObject({ status: "raised", active: true });
    expect(s.at(FROM + 5 * MIN).alarms.size).toBe(0);
    // Raised before the window: known from its first row in it, with the level it had.
    expect(s.at(FROM + 12 * MIN).alarms.get(3)).toMatchObject({ status: "dispatched", level: "yellow" });
  });

  it("announces the rows passed while playing, once each, and clamps to the window", () => {
    const s = new ReplayState(replay, timeline);
    const kinds = (a: number, b: number) =>
      s.eventsBetween(FROM + a * MIN, FROM + b * MIN).map((e) => e.kind);
    expect(kinds(0, 21)).toEqual(["dispatch", "raised"]);
    expect(kinds(21, 40)).toEqual(["acknowledge", "cleared"]);
    expect(kinds(40, 60)).toEqual(["close"]);
    expect(s.at(FROM - 10 * MIN).t).toBe(FROM);
    expect(s.at(FROM + 90 * MIN).t).toBe(FROM + 60 * MIN);
  });
});
