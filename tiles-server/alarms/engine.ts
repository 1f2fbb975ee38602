import type pg from "pg";
import type { Logger } from "pino";
import {
  ALARM_TRANSITIONS,
  type AlarmEvent,
  type AlarmEventType,
  type AlarmHistoryKind,
  type AlarmLevel,
  type AlarmRule,
  type AlarmStatus,
  type AlarmTransition,
  AlarmTransitionSchema,
  allowedActions,
  levelSeverity,
} from "../../models/alarms.ts";
import { DEVICE_TYPES } from "../../models/devices.ts";
import type { Database } from "../db/database.ts";
import { inTransaction } from "../db/transaction.ts";
import { breachedLevel, limitOf, nextLevel } from "./levels.ts";
import {
  ALARM_COLUMN_TYPES,
  ALARM_COLUMNS,
  type AlarmRow,
  ENGINE_COLUMNS,
  type HistoryRow,
  toAlarm,
  toHistoryEntry,
} from "./rows.ts";
import { AlarmRuleStore, resolveRules } from "./rule-store.ts";

/**
 * One telemetry reading, structurally the same as models/telemetry.ts `Reading` (the telemetry service
 * hands its committed batches to evaluate()).
 */
export interface Reading {
  deviceId: string;
  ts: Date | number;
  quantity: string;
  value: number;
}

export type AlarmListener = (event: AlarmEvent) => void;

/** A lifecycle step that is not allowed (409) or an unknown alarm (404). */
export class AlarmTransitionError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
  }
}

interface DeviceInfo {
  id: string;
  type: string;
  name: string | null;
  unit: string | null;
  lon: number;
  lat: number;
  height: number;
}

interface Draft {
  kind: AlarmHistoryKind;
  event: AlarmEventType;
  at: Date;
  fromStatus: AlarmStatus | null;
  toStatus: AlarmStatus | null;
  fromLevel: AlarmLevel | null;
  toLevel: AlarmLevel | null;
  value: number | null;
  by: string;
  note: string | null;
  assignee: string | null;
}

/** An alarm being changed inside one evaluation; written once at the end however many readings hit it. */
interface Working {
  row: AlarmRow;
  isNew: boolean;
  dirty: boolean;
}

const SYSTEM = "system";

/** Most readings merged into one evaluation transaction. */
const MAX_MERGED_READINGS = 50_000;

interface PendingBatch {
  readings: Reading[];
  waiters: { resolve: (events: AlarmEvent[]) => void; reject: (err: unknown) => void }[];
}

const workingKey = (deviceId: string, kind: string, quantity: string | null) =>
  `${deviceId}\u0000${kind}\u0000${quantity ?? ""}`;

const moreSevere = (a: AlarmLevel, b: AlarmLevel) => (levelSeverity(a) >= levelSeverity(b) ? a : b);

function unitFor(device: DeviceInfo, rule: AlarmRule): string | null {
  if (rule.kind === "offline") return "s";
  const unit = device.unit ?? (DEVICE_TYPES as Record<string, { unit: string }>)[device.type]?.unit ?? null;
  return rule.kind === "rate" && unit !== null ? `${unit}/min` : unit;
}

/**
 * The rule engine and the alarm lifecycle. Evaluations, offline sweeps and transitions run one at a
 * time in this process (a promise chain), each in one database transaction, so a failed write leaves
 * the database as it was and listeners only hear about committed changes.
 */
export class AlarmEngine {
  readonly rules: AlarmRuleStore;
  private readonly listeners = new Set<AlarmListener>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Readings waiting for the running evaluation to finish. */
  private nextBatch: PendingBatch | undefined;

  constructor(
    private readonly db: Database,
    private readonly logger?: Logger,
  ) {
    this.rules = new AlarmRuleStore(db);
  }

  /** Alarm events (raised / level_changed / cleared / transition) after they are committed. */
  onEvent(listener: AlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(events: AlarmEvent[]) {
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          this.logger?.error({ err }, "alarm event listener failed");
        }
      }
    }
  }

  /** Resolves once every evaluation, sweep and transition queued so far has finished (for shutdown). */
  async idle(): Promise<void> {
    let seen: Promise<unknown> | undefined;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  private inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.db.pool, work);
  }

  /**
   * Applies a batch of readings: raises, escalates, de-escalates and clears threshold and rate alarms,
   * and clears offline alarms of devices that report again. Readings of unknown devices and readings
   * not newer than the last one seen for the same device and quantity (redeliveries, late arrivals) are
   * ignored. Batches that arrive while an evaluation is running are merged and evaluated together in
   * one transaction (fewer, larger writes keep up with a fast telemetry stream); each caller gets the
   * committed events of the run its readings were part of, in time order.
   */
  evaluate(readings: readonly Reading[]): Promise<AlarmEvent[]> {
    if (readings.length === 0) return Promise.resolve([]);
    let batch = this.nextBatch;
    if (batch === undefined || batch.readings.length >= MAX_MERGED_READINGS) {
      const fresh: PendingBatch = { readings: [], waiters: [] };
      batch = fresh;
      this.nextBatch = fresh;
      void this.serial(async () => {
        if (this.nextBatch === fresh) this.nextBatch = undefined;
        try {
          const events = await this.evaluateNow(fresh.readings);
          this.emit(events);
          for (const w of fresh.waiters) w.resolve(events);
        } catch (err) {
          for (const w of fresh.waiters) w.reject(err);
        }
      });
    }
    for (const r of readings) batch.readings.push(r);
    const target = batch;
    return new Promise((resolve, reject) => target.waiters.push({ resolve, reject }));
  }

  /** Raises or escalates offline alarms of devices silent longer than their offline rule allows. */
  sweepOffline(now: Date = new Date()): Promise<AlarmEvent[]> {
    return this.serial(async () => {
      const events = await this.sweepNow(now);
      this.emit(events);
      return events;
    });
  }

  /** Runs sweepOffline every `intervalMs`; returns a function that stops it. */
  startOfflineSweep(intervalMs = 60_000): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.sweepOffline(new Date())
        .catch((err) => this.logger?.error({ err }, "offline sweep failed"))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** One lifecycle step; throws AlarmTransitionError (404/409) or a ZodError for a bad body. */
  async transition(id: number, input: AlarmTransition): Promise<AlarmEvent> {
    const step = AlarmTransitionSchema.parse(input);
    return this.serial(async () => {
      const event = await this.inTransaction(async (client) => {
        const found = await client.query<AlarmRow>(
          `SELECT * FROM ${this.db.table("alarms")} WHERE id = $1 FOR UPDATE`,
          [id],
        );
        const row = found.rows[0];
        if (row === undefined) throw new AlarmTransitionError(`alarm ${id} not found`, 404);
        const rule = ALARM_TRANSITIONS[step.action];
        if (!rule.from.includes(row.status)) {
          const allowed = allowedActions(row.status);
          throw new AlarmTransitionError(
            `cannot ${step.action} alarm ${id}: it is ${row.status}; ${
              allowed.length ? `allowed now: ${allowed.join(", ")}` : "a closed alarm takes no further steps"
            } (lifecycle: raised -> acknowledged -> dispatched -> handled -> verified -> closed)`,
            409,
          );
        }
        if (step.action === "verify" && row.active) {
          throw new AlarmTransitionError(
            `cannot verify alarm ${id}: its condition is still present (latest ${row.value} against limit ${row.limit_value}); reject it back to the assignee or wait until it clears`,
            409,
          );
        }
        const now = new Date();
        const assignee = step.action === "dispatch" ? step.assignee! : row.assignee;
        const updated = await client.query<AlarmRow>(
          `UPDATE ${this.db.table("alarms")} SET status = $2, status_at = $3, assignee = $4,
             closed_at = CASE WHEN $2 = 'closed' THEN $3::timestamptz ELSE closed_at END
           WHERE id = $1 RETURNING *`,
          [id, rule.to, now, assignee],
        );
        const history = await this.insertHistory(client, [
          {
            alarmId: id,
            draft: {
              kind: step.action,
              event: "transition",
              at: now,
              fromStatus: row.status,
              toStatus: rule.to,
              fromLevel: null,
              toLevel: null,
              value: null,
              by: step.by,
              note: step.note ?? null,
              assignee: step.action === "dispatch" ? step.assignee! : null,
            },
          },
        ]);
        return {
          type: "transition",
          alarm: toAlarm(updated.rows[0]),
          entry: toHistoryEntry(history[0]),
        } as const;
      });
      this.emit([event]);
      return event;
    });
  }

  private async insertHistory(
    client: pg.PoolClient,
    items: { alarmId: number; draft: Draft }[],
  ): Promise<HistoryRow[]> {
    if (items.length === 0) return [];
    const col = <T>(f: (d: Draft) => T) => items.map((i) => f(i.draft));
    // Rows go in by ordinality, so the serial ids follow the drafts' order and the RETURNING rows can be
    // matched back by sorting on id.
    const res = await client.query<HistoryRow>(
      `INSERT INTO ${this.db.table("alarm_history")}
         (alarm_id, kind, at, from_status, to_status, from_level, to_level, value, by, note, assignee)
       SELECT alarm_id, kind, at, from_status, to_status, from_level, to_level, value, by, note, assignee
       FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::float8[], $9::text[], $10::text[], $11::text[])
         WITH ORDINALITY AS h(alarm_id, kind, at, from_status, to_status, from_level, to_level, value, by, note,
                              assignee, ord)
       ORDER BY ord
       RETURNING *`,
      [
        items.map((i) => i.alarmId),
        col((d) => d.kind),
        col((d) => d.at),
        col((d) => d.fromStatus),
        col((d) => d.toStatus),
        col((d) => d.fromLevel),
        col((d) => d.toLevel),
        col((d) => d.value),
        col((d) => d.by),
        col((d) => d.note),
        col((d) => d.assignee),
      ],
    );
    return res.rows.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Writes new and changed alarms, then their history rows; returns the events in draft order. */
  private async flush(
    client: pg.PoolClient,
    working: Map<string, Working>,
    drafts: { w: Working; draft: Draft }[],
  ): Promise<AlarmEvent[]> {
    const table = this.db.table("alarms");
    // One statement for all new alarms and one for all changed ones, whatever the batch size.
    const fresh = [...working.values()].filter((w) => w.dirty && w.isNew);
    const changed = [...working.values()].filter((w) => w.dirty && !w.isNew);
    if (fresh.length > 0) {
      const cols = ALARM_COLUMNS.join(", ");
      const res = await client.query<AlarmRow>(
        `INSERT INTO ${table} (${cols})
         SELECT ${cols} FROM unnest(${ALARM_COLUMNS.map((c, i) => `$${i + 1}::${ALARM_COLUMN_TYPES[c]}[]`).join(", ")})
           AS u(${cols})
         RETURNING *`,
        ALARM_COLUMNS.map((c) => fresh.map((w) => w.row[c])),
      );
      const byKey = new Map(res.rows.map((r) => [workingKey(r.device_id, r.kind, r.quantity), r]));
      for (const w of fresh) {
        w.row = byKey.get(workingKey(w.row.device_id, w.row.kind, w.row.quantity))!;
        w.isNew = false;
      }
    }
    if (changed.length > 0) {
      const cols = ["id", ...ENGINE_COLUMNS] as const;
      const res = await client.query<AlarmRow>(
        `UPDATE ${table} AS a SET ${ENGINE_COLUMNS.map((c) => `${c} = u.${c}`).join(", ")}
         FROM unnest(${cols.map((c, i) => `$${i + 1}::${ALARM_COLUMN_TYPES[c]}[]`).join(", ")}) AS u(${cols.join(", ")})
         WHERE a.id = u.id
         RETURNING a.*`,
        cols.map((c) => changed.map((w) => w.row[c])),
      );
      const byId = new Map(res.rows.map((r) => [r.id, r]));
      for (const w of changed) w.row = byId.get(w.row.id)!;
    }
    const history = await this.insertHistory(
      client,
      drafts.map(({ w, draft }) => ({ alarmId: Number(w.row.id), draft })),
    );
    return drafts.map(({ w, draft }, i) => ({
      type: draft.event,
      alarm: toAlarm(w.row),
      entry: toHistoryEntry(history[i]),
    }));
  }

  /**
   * Moves one alarm (existing or not yet raised) according to a new value of its rule's watched
   * quantity: raise / re-raise, escalate, step down, clear, or just fold the breach into its count.
   */
  private apply(
    working: Map<string, Working>,
    drafts: { w: Working; draft: Draft }[],
    device: DeviceInfo,
    rule: AlarmRule,
    value: number,
    at: Date,
  ) {
    const key = workingKey(device.id, rule.kind, rule.quantity);
    let w = working.get(key);
    const current = w?.row.active ? w.row.level : null;
    const next = nextLevel(rule.kind, rule.limits, rule.deadband, value, current);
    const draft = (kind: AlarmHistoryKind, event: AlarmEventType, fromLevel: AlarmLevel | null) =>
      drafts.push({
        w: w!,
        draft: {
          kind,
          event,
          at,
          fromStatus: null,
          toStatus: null,
          fromLevel,
          toLevel: kind === "cleared" ? null : next,
          value,
          by: SYSTEM,
          note: null,
          assignee: null,
        },
      });

    if (current === null) {
      if (next === null) return;
      if (w === undefined) {
        w = {
          isNew: true,
          dirty: true,
          row: {
            id: "",
            device_id: device.id,
            device_type: device.type,
            device_name: device.name,
            kind: rule.kind,
            quantity: rule.quantity,
            unit: unitFor(device, rule),
            rule_id: String(rule.id),
            level: next,
            peak_level: next,
            status: "raised",
            active: true,
            value,
            limit_value: limitOf(rule.limits, next),
            count: 1,
            assignee: null,
            lon: device.lon,
            lat: device.lat,
            height: device.height,
            raised_at: at,
            last_at: at,
            cleared_at: null,
            status_at: at,
            closed_at: null,
          },
        };
        working.set(key, w);
        draft("raised", "raised", null);
      } else {
        // Open (not closed) but its condition had cleared: the same alarm comes back rather than a new one.
        Object.assign(w.row, {
          active: true,
          level: next,
          peak_level: moreSevere(w.row.peak_level, next),
          value,
          limit_value: limitOf(rule.limits, next),
          count: w.row.count + 1,
          last_at: at,
          cleared_at: null,
          rule_id: String(rule.id),
        });
        w.dirty = true;
        draft("reraised", "raised", null);
      }
      return;
    }

    const row = w!.row;
    if (next === null) {
      Object.assign(row, { active: false, cleared_at: at });
      w!.dirty = true;
      draft("cleared", "cleared", current);
      return;
    }
    // Offline "breaches" are sweeps, not readings: only a level change is news.
    if (rule.kind !== "offline" && breachedLevel(rule.kind, rule.limits, value) !== null) {
      Object.assign(row, { value, count: row.count + 1, last_at: at });
      w!.dirty = true;
    }
    if (next !== current) {
      Object.assign(row, {
        level: next,
        peak_level: moreSevere(row.peak_level, next),
        limit_value: limitOf(rule.limits, next),
        value,
        last_at: at,
        rule_id: String(rule.id),
      });
      w!.dirty = true;
      draft("level_changed", "level_changed", current);
    }
  }

  private async loadOpen(
    client: pg.PoolClient,
    deviceIds: string[],
    kind?: "offline",
  ): Promise<Map<string, Working>> {
    const res = await client.query<AlarmRow>(
      `SELECT * FROM ${this.db.table("alarms")}
       WHERE device_id = ANY($1::text[]) AND status <> 'closed' ${kind ? "AND kind = 'offline'" : ""}
       ORDER BY id FOR UPDATE`,
      [deviceIds],
    );
    const working = new Map<string, Working>();
    for (const row of res.rows) {
      working.set(workingKey(row.device_id, row.kind, row.quantity), { row, isNew: false, dirty: false });
    }
    return working;
  }

  private async evaluateNow(input: readonly Reading[]): Promise<AlarmEvent[]> {
    const readings = input
      .map((r) => ({ ...r, ts: r.ts instanceof Date ? r.ts : new Date(r.ts) }))
      .filter((r) => Number.isFinite(r.value) && Number.isFinite(r.ts.getTime()))
      .sort((a, b) => a.ts.getTime() - b.ts.getTime());
    if (readings.length === 0) return [];
    // Loaded before taking a client: the embedded database's pool has only one.
    const rules = await this.rules.list();
    const deviceIds = [...new Set(readings.map((r) => r.deviceId))];
    return this.inTransaction(async (client) => {
      const devices = new Map<string, DeviceInfo>();
      const found = await client.query<DeviceInfo>(
        `SELECT id, type, name, unit, lon, lat, height FROM ${this.db.table("devices")} WHERE id = ANY($1::text[])`,
        [deviceIds],
      );
      for (const d of found.rows) devices.set(d.id, d);
      const known = [...devices.keys()];
      const state = new Map<string, { ts: Date; value: number }>();
      const stateRes = await client.query<{ device_id: string; quantity: string; ts: Date; value: number }>(
        `SELECT device_id, quantity, ts, value FROM ${this.db.table("alarm_device_state")} WHERE device_id = ANY($1::text[])`,
        [known],
      );
      for (const s of stateRes.rows)
        state.set(`${s.device_id}\u0000${s.quantity}`, { ts: s.ts, value: s.value });
      const working = await this.loadOpen(client, known);
      const drafts: { w: Working; draft: Draft }[] = [];
      const changedState = new Map<string, { deviceId: string; quantity: string; ts: Date; value: number }>();

      for (const r of readings) {
        const device = devices.get(r.deviceId);
        if (device === undefined) continue;
        const stateKey = `${r.deviceId}\u0000${r.quantity}`;
        const prev = state.get(stateKey);
        if (prev !== undefined && r.ts.getTime() <= prev.ts.getTime()) continue;
        state.set(stateKey, { ts: r.ts, value: r.value });
        changedState.set(stateKey, { deviceId: r.deviceId, quantity: r.quantity, ts: r.ts, value: r.value });

        const offline = working.get(workingKey(device.id, "offline", null));
        if (offline?.row.active) {
          Object.assign(offline.row, { active: false, cleared_at: r.ts });
          offline.dirty = true;
          drafts.push({
            w: offline,
            draft: {
              kind: "cleared",
              event: "cleared",
              at: r.ts,
              fromStatus: null,
              toStatus: null,
              fromLevel: offline.row.level,
              toLevel: null,
              value: null,
              by: SYSTEM,
              note: "device reported again",
              assignee: null,
            },
          });
        }

        const resolved = resolveRules(rules, device.id, device.type);
        for (const rule of resolved.byQuantity.get(r.quantity) ?? []) {
          let value = r.value;
          if (rule.kind === "rate") {
            if (prev === undefined) continue;
            const minutes = (r.ts.getTime() - prev.ts.getTime()) / 60_000;
            value = Math.abs(r.value - prev.value) / minutes;
          }
          this.apply(working, drafts, device, rule, value, r.ts);
        }
        // An active alarm whose rule was deleted or disabled would otherwise never clear.
        const watched = new Set((resolved.byQuantity.get(r.quantity) ?? []).map((rule) => rule.kind));
        for (const kind of ["upper", "lower", "rate"] as const) {
          const orphan = working.get(workingKey(device.id, kind, r.quantity));
          if (watched.has(kind) || !orphan?.row.active) continue;
          Object.assign(orphan.row, { active: false, cleared_at: r.ts });
          orphan.dirty = true;
          drafts.push({
            w: orphan,
            draft: {
              kind: "cleared",
              event: "cleared",
              at: r.ts,
              fromStatus: null,
              toStatus: null,
              fromLevel: orphan.row.level,
              toLevel: null,
              value: r.value,
              by: SYSTEM,
              note: "rule removed or disabled",
              assignee: null,
            },
          });
        }
      }

      if (changedState.size > 0) {
        const rows = [...changedState.values()];
        await client.query(
          `INSERT INTO ${this.db.table("alarm_device_state")} AS s (device_id, quantity, ts, value)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[])
           ON CONFLICT (device_id, quantity) DO UPDATE SET ts = excluded.ts, value = excluded.value
           WHERE excluded.ts > s.ts`,
          [
            rows.map((s) => s.deviceId),
            rows.map((s) => s.quantity),
            rows.map((s) => s.ts),
            rows.map((s) => s.value),
          ],
        );
      }
      return this.flush(client, working, drafts);
    });
  }

  private async sweepNow(now: Date): Promise<AlarmEvent[]> {
    const rules = await this.rules.list();
    const shortest = AlarmRuleStore.shortestOfflineLimit(rules);
    if (shortest === undefined) return [];
    return this.inTransaction(async (client) => {
      const candidates = await client.query<DeviceInfo & { seen: Date }>(
        `SELECT d.id, d.type, d.name, d.unit, d.lon, d.lat, d.height,
                COALESCE(GREATEST(d.last_seen, s.ts), d.created_at) AS seen
         FROM ${this.db.table("devices")} d
         LEFT JOIN (SELECT device_id, max(ts) AS ts FROM ${this.db.table("alarm_device_state")} GROUP BY device_id) s
           ON s.device_id = d.id
         WHERE COALESCE(GREATEST(d.last_seen, s.ts), d.created_at) <= $1
         ORDER BY d.id`,
        [new Date(now.getTime() - shortest * 1000)],
      );
      if (candidates.rows.length === 0) return [];
      const working = await this.loadOpen(
        client,
        candidates.rows.map((d) => d.id),
        "offline",
      );
      const drafts: { w: Working; draft: Draft }[] = [];
      for (const device of candidates.rows) {
        const rule = resolveRules(rules, device.id, device.type).offline;
        if (rule === undefined) continue;
        const silence = Math.round((now.getTime() - device.seen.getTime()) / 1000);
        this.apply(working, drafts, device, rule, silence, now);
      }
      return this.flush(client, working, drafts);
    });
  }
}
