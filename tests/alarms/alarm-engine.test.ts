import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlarmEvent } from "../../models/alarms.ts";
import { AlarmQueries } from "../../tiles-server/alarms/alarm-queries.ts";
import { AlarmEngine, AlarmTransitionError, type Reading } from "../../tiles-server/alarms/engine.ts";
import type { Database } from "../../tiles-server/db/database.ts";
import { DB_TARGETS, type DbEnvironment } from "../tiles-server/support/db-targets.ts";
import { insertDevices, openTestDatabase } from "./support.ts";

const T0 = Date.parse("2026-11-20T08:00:00Z");
const MIN = 60_000;

/** Readings of one quantity, one minute apart from `start`. */
function series(deviceId: string, quantity: string, values: number[], start = T0): Reading[] {
  return values.map((value, i) => ({ deviceId, quantity, value, ts: start + i * MIN }));
}

const summary = (events: AlarmEvent[]) =>
  events.map((e) => `${e.type}:${e.entry.kind}:${e.entry.fromLevel ?? "-"}->${e.entry.toLevel ?? "-"}`);

describe.each(DB_TARGETS)("alarm rule engine on $name", (target) => {
  let env: DbEnvironment;
  let db: Database;
  let engine: AlarmEngine;
  let queries: AlarmQueries;
  const heard: AlarmEvent[] = [];

  beforeAll(async () => {
    env = await target.create();
    db = await openTestDatabase(env);
    engine = new AlarmEngine(db);
    queries = new AlarmQueries(db);
    engine.onEvent((e) => heard.push(e));
    const old = new Date(T0 - 60 * MIN);
    await insertDevices(db, [
      { id: "gas-hyst", type: "gas_concentration", lon: 118.3, lat: 33.95, createdAt: old },
      { id: "gas-dedup", type: "gas_concentration", lon: 118.301, lat: 33.951, createdAt: old },
      { id: "gas-esc", type: "gas_concentration", lon: 118.302, lat: 33.952, createdAt: old },
      { id: "gas-override", type: "gas_concentration", lon: 118.303, lat: 33.953, createdAt: old },
      { id: "press-rate", type: "pipe_pressure", lon: 118.304, lat: 33.954, createdAt: old },
      { id: "flow-off", type: "flow", lon: 118.305, lat: 33.955, createdAt: old },
      { id: "gas-atomic", type: "gas_concentration", lon: 118.306, lat: 33.956, createdAt: old },
    ]);
  });

  afterAll(async () => {
    await db?.close();
    await env?.cleanup();
  });

  it("seeds the documented defaults per device type", async () => {
    const rules = await engine.rules.list();
    const gas = rules.find(
      (r) => r.scope === "type" && r.target === "gas_concentration" && r.kind === "upper",
    );
    expect(gas).toMatchObject({
      quantity: "concentration",
      limits: { yellow: 10, orange: 25, red: 50 },
      deadband: 2,
    });
    expect(gas?.builtin).toBe(true);
    expect(rules.filter((r) => r.kind === "offline").length).toBeGreaterThanOrEqual(14);
  });

  it("hysteresis: values crossing a limit up and down give exactly the expected raise/clear events", async () => {
    // Limit 10 %LEL (yellow), deadband 2: clears only below 8.
    const values = [5, 9.9, 10, 9, 8.5, 8.01, 7.9, 9.5, 9.99, 10.5, 9, 7];
    const events = await engine.evaluate(series("gas-hyst", "concentration", values));
    expect(summary(events)).toEqual([
      "raised:raised:-->yellow",
      "cleared:cleared:yellow->-",
      "raised:reraised:-->yellow",
      "cleared:cleared:yellow->-",
    ]);
    expect(events.map((e) => e.entry.at)).toEqual(
      [2, 6, 9, 11].map((i) => new Date(T0 + i * MIN).toISOString()),
    );
    // Still one alarm: re-breaching an alarm nobody has closed yet brings the same one back.
    const list = await queries.list({ device: "gas-hyst", limit: 100 });
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({
      active: false,
      status: "raised",
      count: 2,
      level: "yellow",
      value: 10.5,
    });
    expect(new Set(events.map((e) => e.alarm.id)).size).toBe(1);
    // Listeners hear the same committed events.
    expect(heard.filter((e) => e.alarm.deviceId === "gas-hyst")).toHaveLength(4);
  });

  it("de-duplicates: 100 breaches make one alarm with count 100", async () => {
    const events = await engine.evaluate(
      series(
        "gas-dedup",
        "concentration",
        Array.from({ length: 100 }, () => 60),
      ),
    );
    expect(summary(events)).toEqual(["raised:raised:-->red"]);
    const { items, total } = await queries.list({ device: "gas-dedup", limit: 100 });
    expect(total).toBe(1);
    expect(items[0]).toMatchObject({ count: 100, level: "red", active: true, value: 60, limit: 50 });
    expect(items[0].raisedAt).toBe(new Date(T0).toISOString());
    expect(items[0].lastAt).toBe(new Date(T0 + 99 * MIN).toISOString());
    // More breaches in later batches keep folding into it; a redelivered (not newer) reading is ignored.
    await engine.evaluate(series("gas-dedup", "concentration", [70, 65], T0 + 100 * MIN));
    await engine.evaluate(series("gas-dedup", "concentration", [99], T0 + 100 * MIN));
    const again = await queries.get(items[0].id);
    expect(again).toMatchObject({ count: 102, value: 65 });
    expect(again?.history.map((h) => h.kind)).toEqual(["raised"]);
  });

  it("merges batches that arrive while an evaluation runs, keeping time order and every caller answered", async () => {
    await insertDevices(db, [{ id: "gas-burst", type: "gas_concentration", lon: 118.31, lat: 33.96 }]);
    // 50 batches of 2 breaching readings, handed over without waiting, as the telemetry listener does.
    const calls = Array.from({ length: 50 }, (_, b) =>
      engine.evaluate(series("gas-burst", "concentration", [55, 60], T0 + b * 2 * MIN)),
    );
    const results = await Promise.all(calls);
    const events = [...new Map(results.flat().map((e) => [e.entry.id, e])).values()];
    expect(summary(events.filter((e) => e.alarm.deviceId === "gas-burst"))).toEqual(["raised:raised:-->red"]);
    const { items } = await queries.list({ device: "gas-burst", limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ count: 100, level: "red", value: 60 });
  });

  it("escalates yellow -> orange -> red and records each step, then steps down", async () => {
    const events = await engine.evaluate(series("gas-esc", "concentration", [12, 30, 55, 40, 20]));
    expect(summary(events)).toEqual([
      "raised:raised:-->yellow",
      "level_changed:level_changed:yellow->orange",
      "level_changed:level_changed:orange->red",
      "level_changed:level_changed:red->orange",
      "level_changed:level_changed:orange->yellow",
    ]);
    const alarm = await queries.get(events[0].alarm.id);
    expect(alarm).toMatchObject({ level: "yellow", peakLevel: "red", count: 5, active: true, limit: 10 });
    expect(alarm?.history.map((h) => [h.kind, h.fromLevel, h.toLevel, h.value, h.by])).toEqual([
      ["raised", null, "yellow", 12, "system"],
      ["level_changed", "yellow", "orange", 30, "system"],
      ["level_changed", "orange", "red", 55, "system"],
      ["level_changed", "red", "orange", 40, "system"],
      ["level_changed", "orange", "yellow", 20, "system"],
    ]);
  });

  it("a per-device rule overrides the type's rule", async () => {
    await engine.rules.create({
      scope: "device",
      target: "gas-override",
      kind: "upper",
      quantity: "concentration",
      limits: { red: 5 },
      deadband: 1,
    });
    const events = await engine.evaluate([
      { deviceId: "gas-override", quantity: "concentration", value: 6, ts: T0 },
      // The same value on a sibling without an override is below its type's 10 %LEL.
      { deviceId: "gas-atomic", quantity: "concentration", value: 6, ts: T0 },
    ]);
    expect(events.map((e) => [e.alarm.deviceId, e.alarm.level])).toEqual([["gas-override", "red"]]);

    // A device-only rule with nothing behind it: deleting it clears its active alarm on the next reading.
    const low = await engine.rules.create({
      scope: "device",
      target: "gas-override",
      kind: "lower",
      quantity: "concentration",
      limits: { yellow: 1 },
    });
    const lowRaised = await engine.evaluate([
      { deviceId: "gas-override", quantity: "concentration", value: 0.5, ts: T0 + MIN },
    ]);
    expect(summary(lowRaised)).toEqual(["cleared:cleared:red->-", "raised:raised:-->yellow"]);
    expect(await engine.rules.remove(low.id)).toBe(true);
    const orphan = await engine.evaluate([
      { deviceId: "gas-override", quantity: "concentration", value: 0.4, ts: T0 + 2 * MIN },
    ]);
    expect(summary(orphan)).toEqual(["cleared:cleared:yellow->-"]);
    expect(orphan[0].entry.note).toBe("rule removed or disabled");
  });

  it("rate of change: a pressure jump per minute raises, a steady minute clears", async () => {
    // 0.30 -> 0.31 (0.01/min) -> 0.46 (0.15/min: orange, limits 0.05/0.1/0.2) -> 0.47 (0.01/min: clear).
    const events = await engine.evaluate(series("press-rate", "pressure", [0.3, 0.31, 0.46, 0.47]));
    expect(summary(events)).toEqual(["raised:raised:-->orange", "cleared:cleared:orange->-"]);
    expect(events[0].alarm).toMatchObject({ kind: "rate", quantity: "pressure", unit: "MPa/min" });
    expect(events[0].entry.value).toBeCloseTo(0.15, 9);
    // A 2-minute gap halves the rate: 0.47 -> 0.77 over 2 min is 0.15/min (orange), and 0.77 also
    // breaches the upper pressure limit 0.70 (orange): two separate alarms.
    const later = await engine.evaluate([
      { deviceId: "press-rate", quantity: "pressure", value: 0.77, ts: T0 + 5 * MIN },
    ]);
    expect(later.map((e) => `${e.alarm.kind}:${e.type}:${e.alarm.level}`).sort()).toEqual([
      "rate:raised:orange",
      "upper:raised:orange",
    ]);
  });

  it("offline sweep raises and escalates offline alarms; a reading clears it", async () => {
    await engine.evaluate([{ deviceId: "flow-off", quantity: "flow", value: 12, ts: T0 }]);
    const mine = (events: AlarmEvent[]) => events.filter((e) => e.alarm.deviceId === "flow-off");
    // Defaults for flow: yellow after 15 min, orange after 1 h, red after 24 h of silence.
    expect(mine(await engine.sweepOffline(new Date(T0 + 14 * MIN)))).toEqual([]);
    const raised = mine(await engine.sweepOffline(new Date(T0 + 16 * MIN)));
    expect(summary(raised)).toEqual(["raised:raised:-->yellow"]);
    expect(raised[0].alarm).toMatchObject({ kind: "offline", quantity: null, value: 960, unit: "s" });
    expect(mine(await engine.sweepOffline(new Date(T0 + 30 * MIN)))).toEqual([]);
    expect(summary(mine(await engine.sweepOffline(new Date(T0 + 61 * MIN))))).toEqual([
      "level_changed:level_changed:yellow->orange",
    ]);
    expect(mine(await engine.sweepOffline(new Date(T0 + 62 * MIN)))).toEqual([]);
    const back = await engine.evaluate([
      { deviceId: "flow-off", quantity: "flow", value: 13, ts: T0 + 70 * MIN },
    ]);
    expect(summary(back)).toEqual(["cleared:cleared:orange->-"]);
    const alarm = await queries.get(raised[0].alarm.id);
    expect(alarm).toMatchObject({ active: false, count: 1, peakLevel: "orange" });
    expect(alarm?.clearedAt).toBe(new Date(T0 + 70 * MIN).toISOString());
    // Silent again for 20 min: the same (still open) alarm comes back.
    const again = mine(await engine.sweepOffline(new Date(T0 + 90 * MIN)));
    expect(summary(again)).toEqual(["raised:reraised:-->yellow"]);
    expect(again[0].alarm.id).toBe(raised[0].alarm.id);
  });

  it("a failed write leaves the database as it was", async () => {
    const count = async (table: string) =>
      Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${db.table(table)}`)).rows[0].n);
    const before = [await count("alarms"), await count("alarm_history"), await count("alarm_device_state")];
    // Make the last write of the evaluation (the history rows) fail after the alarm row went in.
    await db.pool.query(
      `ALTER TABLE ${db.table("alarm_history")} ADD CONSTRAINT no_writes CHECK (false) NOT VALID`,
    );
    try {
      await expect(
        engine.evaluate(series("gas-atomic", "concentration", [30, 31], T0 + 10 * MIN)),
      ).rejects.toThrow(/no_writes/);
    } finally {
      await db.pool.query(`ALTER TABLE ${db.table("alarm_history")} DROP CONSTRAINT no_writes`);
    }
    expect([await count("alarms"), await count("alarm_history"), await count("alarm_device_state")]).toEqual(
      before,
    );
    expect((await queries.list({ device: "gas-atomic", kind: ["upper"], limit: 10 })).total).toBe(0);
    // The engine keeps working: the same readings now raise the alarm.
    const events = await engine.evaluate(series("gas-atomic", "concentration", [30, 31], T0 + 10 * MIN));
    expect(summary(events.filter((e) => e.alarm.kind === "upper"))).toEqual(["raised:raised:-->orange"]);
  });

  it("lifecycle: only valid steps, each recorded with who, when, note and assignee", async () => {
    const [alarm] = (await queries.list({ device: "gas-dedup", kind: ["upper"], limit: 1 })).items;
    const step = (action: string, extra: object = {}) =>
      engine.transition(alarm.id, { action, by: "张工", ...extra } as never);
    await expect(step("handle")).rejects.toThrow(
      /cannot handle alarm \d+: it is raised; allowed now: acknowledge/,
    );
    await step("acknowledge", { note: "已电话核实" });
    await expect(step("dispatch")).rejects.toThrow(/assignee/);
    await step("dispatch", { assignee: "燃气抢修一队" });
    await step("handle", { note: "关阀、通风" });
    // Gas still at 65 %LEL: verification must wait for the condition to clear.
    const refused = step("verify");
    await expect(refused).rejects.toBeInstanceOf(AlarmTransitionError);
    await expect(refused).rejects.toThrow(/still present/);
    // Readings from here on carry the wall clock, as live telemetry does, so history stays in time order.
    await engine.evaluate(series("gas-dedup", "concentration", [3], Date.now()));
    await step("verify", { by: "李主任" });
    const closed = await step("close");
    expect(closed.alarm).toMatchObject({ status: "closed", assignee: "燃气抢修一队", actions: [] });
    await expect(step("acknowledge")).rejects.toThrow(/closed alarm takes no further steps/);
    const full = await queries.get(alarm.id);
    expect(full?.history.map((h) => [h.kind, h.fromStatus, h.toStatus, h.by, h.note, h.assignee])).toEqual([
      ["raised", null, null, "system", null, null],
      ["acknowledge", "raised", "acknowledged", "张工", "已电话核实", null],
      ["dispatch", "acknowledged", "dispatched", "张工", null, "燃气抢修一队"],
      ["handle", "dispatched", "handled", "张工", "关阀、通风", null],
      ["cleared", null, null, "system", null, null],
      ["verify", "handled", "verified", "李主任", null, null],
      ["close", "verified", "closed", "张工", null, null],
    ]);
    // Closed frees the de-duplication key: a new breach is a new alarm.
    const fresh = await engine.evaluate(series("gas-dedup", "concentration", [60], Date.now() + 1000));
    expect(fresh[0].type).toBe("raised");
    expect(fresh[0].alarm.id).not.toBe(alarm.id);
  });
});
