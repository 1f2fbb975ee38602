import type { Logger } from "pino";
import { DeviceIdSchema } from "../../models/devices.ts";
import {
  REJECT_REASONS,
  type Reading,
  type RejectReason,
  TELEMETRY_MAX_PAYLOAD_BYTES,
  TelemetryPayloadSchema,
  type TelemetryStats,
  timestampToMs,
} from "../../models/telemetry.ts";
import type { DeviceStore } from "./device-store.ts";
import { DAY_MS, type ReadingStore } from "./reading-store.ts";

export type ParseResult =
  | { ok: true; deviceId: string; readings: Reading[] }
  | { ok: false; reason: RejectReason; message: string; deviceId?: string };

/** What happened to a submitted message; "unavailable": the server is stopping, not committed. */
export type SubmitResult =
  | { status: "committed" }
  | { status: "rejected"; reason: RejectReason; message: string }
  | { status: "unavailable" };

export type CommittedListener = (readings: Reading[]) => void;

export interface TelemetryServiceOptions {
  devices: DeviceStore;
  readings: ReadingStore;
  logger: Logger;
  /** Whole days of readings kept; 0 keeps everything. Default env CIM_READINGS_RETENTION_DAYS or 365. */
  retentionDays?: number;
  /** A batch is written when it holds this many rows... */
  maxBatchRows?: number;
  /** ...or when its first message has waited this long. */
  maxDelayMs?: number;
  /** Batches written at the same time (default 2; 1 for the single-connection embedded database). */
  writers?: number;
}

interface Pending {
  deviceId: string;
  readings: Reading[];
  done: (result: SubmitResult) => void;
  /** Already sent to the live listeners on arrival (a device the registry knew). */
  live: boolean;
}

const TOPIC = /^cim\/([^/]+)\/telemetry$/;
/** Readings may come from devices that buffered offline, but not from the future. */
const MAX_FUTURE_MS = DAY_MS;
const EARLIEST_TS = Date.UTC(2000, 0, 1);
const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 5000;
const LOG_INTERVAL_MS = 10_000;

export function resolveRetentionDays(explicit: number | undefined): number {
  if (explicit !== undefined) return explicit;
  const env = process.env.CIM_READINGS_RETENTION_DAYS;
  if (env === undefined || env === "") return 365;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(
      `CIM_READINGS_RETENTION_DAYS must be a whole number of days (0 = keep all), got "${env}"`,
    );
  }
  return n;
}

/** Logs at most one line per key and interval, with how many were suppressed in between. */
class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly logger: Logger) {}
  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < LOG_INTERVAL_MS) {
      entry.suppressed++;
      return;
    }
    this.logger.warn({ ...obj, suppressed: entry?.suppressed ?? 0 }, msg);
    this.last.set(key, { at: now, suppressed: 0 });
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The single write path of telemetry (MQTT and HTTP): parse and validate, batch, commit to
 * PostgreSQL, then acknowledge. A batch that fails to commit is retried with backoff until the
 * database is back; nothing is acknowledged, dropped or thrown before that.
 *
 * In-process consumers register with `onCommitted(listener)` (alarms: each committed batch's readings;
 * a redelivered reading that was already stored may appear again, consumers keyed on (deviceId,
 * quantity, ts) are unaffected) or `onLive(listener)` (the WebSocket: every valid reading as soon as
 * it arrives, see there).
 */
export class TelemetryService {
  readonly retentionDays: number;
  private readonly maxBatchRows: number;
  private readonly maxDelayMs: number;
  private readonly listeners: CommittedListener[] = [];
  private readonly liveListeners: CommittedListener[] = [];
  /** Readings of registered devices received in this turn of the event loop, sent live together. */
  private liveBuffer: Reading[] = [];
  /** Messages waiting for a writer: queue[head..]; the consumed prefix is dropped in chunks. */
  private queue: Pending[] = [];
  private head = 0;
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly writers: number;
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private readonly log: RateLimitedLog;
  private housekeeping: NodeJS.Timeout | undefined;
  private lastSeenTimer: NodeJS.Timeout | undefined;
  mqttInfo: TelemetryStats["mqtt"] = { mode: "off", url: null };
  private readonly counters = {
    messagesReceived: 0,
    messagesCommitted: 0,
    readingsWritten: 0,
    readingsDuplicate: 0,
    writeFailures: 0,
    batchesCommitted: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
  };

  constructor(private readonly opts: TelemetryServiceOptions) {
    this.retentionDays = resolveRetentionDays(opts.retentionDays);
    // Large batches when a backlog builds: per-batch round trips, not rows, limit a COPY of small rows.
    this.maxBatchRows = opts.maxBatchRows ?? 20_000;
    this.maxDelayMs = opts.maxDelayMs ?? 2;
    this.writers = opts.writers ?? 2;
    this.log = new RateLimitedLog(opts.logger);
  }

  /** Loads devices and partitions, drops expired partitions, starts housekeeping timers. */
  async start(): Promise<void> {
    await this.opts.devices.load();
    await this.opts.readings.listPartitions();
    await this.runRetention();
    this.housekeeping = setInterval(() => void this.runRetention(), 3_600_000);
    this.housekeeping.unref();
    this.lastSeenTimer = setInterval(() => void this.opts.devices.flushLastSeen(), 5000);
    this.lastSeenTimer.unref();
  }

  private async runRetention(): Promise<void> {
    try {
      const dropped = await this.opts.readings.dropExpired(this.retentionDays);
      if (dropped.length > 0) this.opts.logger.info({ dropped }, "dropped expired readings partitions");
    } catch (err) {
      this.log.warn(
        "retention",
        { err: (err as Error).message },
        "readings retention failed; retrying later",
      );
    }
  }

  /** Called after every committed batch, see the class comment. */
  onCommitted(listener: CommittedListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Called with every valid reading once: on arrival for a device the registry already knows, else
   * after its batch is committed (when the device is looked up). This is what the live WebSocket
   * shows; it does not wait for the commit, which only the acknowledgement (and the alarms) need. A
   * reading sent live is committed later or, if the server dies first, redelivered by the publisher.
   */
  onLive(listener: CommittedListener): () => void {
    this.liveListeners.push(listener);
    return () => {
      const i = this.liveListeners.indexOf(listener);
      if (i >= 0) this.liveListeners.splice(i, 1);
    };
  }

  private sendLive(readings: Reading[]): void {
    if (this.liveListeners.length === 0 || readings.length === 0) return;
    // A socket read holds many messages: one live batch per turn instead of one per message.
    if (this.liveBuffer.length === 0) setImmediate(() => this.flushLive());
    for (const r of readings) this.liveBuffer.push(r);
  }

  private flushLive(): void {
    const batch = this.liveBuffer;
    this.liveBuffer = [];
    this.notify(this.liveListeners, batch, "onLive");
  }

  private notify(listeners: CommittedListener[], readings: Reading[], name: string): void {
    for (const listener of listeners) {
      try {
        listener(readings);
      } catch (err) {
        this.log.warn(`listener:${name}`, { err: (err as Error).message }, `${name} listener failed`);
      }
    }
  }

  stats(): TelemetryStats {
    const c = this.counters;
    return {
      messagesReceived: c.messagesReceived,
      messagesCommitted: c.messagesCommitted,
      readingsWritten: c.readingsWritten,
      readingsDuplicate: c.readingsDuplicate,
      rejected: { ...c.rejected },
      rejectedTotal: Object.values(c.rejected).reduce((a, b) => a + b, 0),
      pending: this.queue.length - this.head,
      writeFailures: c.writeFailures,
      batchesCommitted: c.batchesCommitted,
      mqtt: this.mqttInfo,
    };
  }

  /** Counts and logs (rate-limited) a rejected message. */
  reject(reason: RejectReason, message: string, context: Record<string, unknown> = {}): SubmitResult {
    this.counters.rejected[reason]++;
    this.log.warn(`reject:${reason}`, { reason, ...context, detail: message }, "telemetry message rejected");
    return { status: "rejected", reason, message };
  }

  /** Validates a payload (bytes or already-parsed JSON) for a device; never throws. */
  parsePayload(deviceId: string, payload: Buffer | unknown, now = Date.now()): ParseResult {
    let data: unknown = payload;
    if (Buffer.isBuffer(payload)) {
      if (payload.length > TELEMETRY_MAX_PAYLOAD_BYTES) {
        return {
          ok: false,
          reason: "payload_too_large",
          message: `payload is ${payload.length} bytes, the limit is ${TELEMETRY_MAX_PAYLOAD_BYTES}`,
          deviceId,
        };
      }
      try {
        data = JSON.parse(payload.toString("utf8"));
      } catch (err) {
        return { ok: false, reason: "bad_json", message: (err as Error).message, deviceId };
      }
    }
    const parsed = TelemetryPayloadSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        reason: "invalid_payload",
        message: `${issue.path.join(".") || "payload"}: ${issue.message}`,
        deviceId,
      };
    }
    const ts = Math.floor(timestampToMs(parsed.data.ts));
    const earliest = this.retentionDays > 0 ? now - this.retentionDays * DAY_MS : EARLIEST_TS;
    if (!(ts >= earliest && ts <= now + MAX_FUTURE_MS)) {
      return {
        ok: false,
        reason: "ts_out_of_range",
        message: `ts ${Math.abs(ts) <= 8.64e15 ? new Date(ts).toISOString() : ts} is outside ${new Date(earliest).toISOString()} .. now + 1 day`,
        deviceId,
      };
    }
    const readings: Reading[] = [];
    for (const [quantity, value] of Object.entries(parsed.data.values)) {
      readings.push({ deviceId, ts, quantity, value });
    }
    return { ok: true, deviceId, readings };
  }

  /** Parses an MQTT publish on `cim/<deviceId>/telemetry`; never throws. */
  parseMqtt(topic: string, payload: Buffer, now = Date.now()): ParseResult {
    const m = TOPIC.exec(topic);
    if (!m || !DeviceIdSchema.safeParse(m[1]).success) {
      return {
        ok: false,
        reason: "bad_topic",
        message: `topic "${topic.slice(0, 200)}" is not cim/<deviceId>/telemetry`,
      };
    }
    return this.parsePayload(m[1], payload, now);
  }

  /**
   * The MQTT entry point: parse, then commit; resolves when the message may be acknowledged
   * (committed or rejected for good) or with "unavailable" if the server stops first. Never rejects.
   */
  async handleMqtt(topic: string, payload: Buffer): Promise<SubmitResult> {
    this.counters.messagesReceived++;
    let parsed: ParseResult;
    try {
      parsed = this.parseMqtt(topic, payload);
    } catch (err) {
      parsed = { ok: false, reason: "invalid_payload", message: (err as Error).message };
    }
    if (!parsed.ok) return this.reject(parsed.reason, parsed.message, { topic: topic.slice(0, 200) });
    return this.submit(parsed.deviceId, parsed.readings);
  }

  /** Queues validated readings of one message; resolves after commit. Unknown devices are rejected at write time. */
  submit(deviceId: string, readings: Reading[]): Promise<SubmitResult> {
    if (this.stopping) return Promise.resolve({ status: "unavailable" });
    const live = this.opts.devices.cached(deviceId) !== undefined;
    if (live) this.sendLive(readings);
    return new Promise((done) => {
      this.queue.push({ deviceId, readings, done, live });
      this.queuedRows += readings.length;
      this.schedule();
    });
  }

  /** Counts an HTTP item as received (MQTT messages are counted in handleMqtt). */
  countReceived(n: number): void {
    this.counters.messagesReceived += n;
  }

  /** Starts a writer now if a batch is full, else once the oldest message has waited maxDelayMs. */
  private schedule(): void {
    if (this.running.size >= this.writers || this.head >= this.queue.length) return;
    if (this.queuedRows >= this.maxBatchRows) {
      this.startWriter();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.running.size < this.writers && this.head < this.queue.length) this.startWriter();
    }, this.maxDelayMs);
  }

  private startWriter(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const writer: Promise<void> = this.writeLoop().finally(() => {
      this.running.delete(writer);
      if (!this.stopping) this.schedule();
    });
    this.running.add(writer);
  }

  private takeBatch(): Pending[] {
    let rows = 0;
    let end = this.head;
    while (
      end < this.queue.length &&
      (end === this.head || rows + this.queue[end].readings.length <= this.maxBatchRows)
    ) {
      rows += this.queue[end].readings.length;
      end++;
    }
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    this.queuedRows -= rows;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 65_536) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Writes batches until the queue is empty; messages that waited during a write go next, at once. */
  private async writeLoop(): Promise<void> {
    while (!this.stopping && this.head < this.queue.length) {
      const batch = this.takeBatch();
      if (!(await this.writeWithRetry(batch))) {
        for (const p of batch) p.done({ status: "unavailable" });
        return;
      }
    }
  }

  /** Returns false only if the service stops while the database is still failing. */
  private async writeWithRetry(batch: Pending[]): Promise<boolean> {
    let backoff = BACKOFF_MIN_MS;
    for (;;) {
      try {
        await this.write(batch);
        return true;
      } catch (err) {
        this.counters.writeFailures++;
        this.log.warn(
          "write",
          { err: (err as Error).message, messages: batch.length, retryInMs: backoff },
          "telemetry batch not committed; keeping it unacknowledged and retrying",
        );
        if (this.stopping) return false;
        await sleep(backoff);
        if (this.stopping) return false;
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const known = await this.opts.devices.resolve(batch.map((p) => p.deviceId));
    const accepted: Pending[] = [];
    const unknown: Pending[] = [];
    for (const p of batch) (known.get(p.deviceId) ? accepted : unknown).push(p);
    const rows: Reading[] = [];
    const days = new Set<number>();
    for (const p of accepted) {
      for (const r of p.readings) {
        rows.push(r);
        days.add(Math.floor(r.ts / DAY_MS));
      }
    }
    let inserted = 0;
    if (rows.length > 0) {
      await this.opts.readings.ensurePartitions(days);
      ({ inserted } = await this.opts.readings.insert(rows));
    }
    // Committed: from here on nothing may throw back into the retry loop.
    this.counters.batchesCommitted++;
    this.counters.messagesCommitted += accepted.length;
    this.counters.readingsWritten += inserted;
    this.counters.readingsDuplicate += rows.length - inserted;
    for (const p of unknown) {
      p.done(
        this.reject("unknown_device", `device "${p.deviceId}" is not registered`, { deviceId: p.deviceId }),
      );
    }
    for (const p of accepted) {
      p.done({ status: "committed" });
      const last = p.readings[p.readings.length - 1];
      if (last) this.opts.devices.markSeen(p.deviceId, last.ts);
    }
    if (rows.length > 0) this.notify(this.listeners, rows, "onCommitted");
    this.sendLive(accepted.filter((p) => !p.live).flatMap((p) => p.readings));
  }

  /**
   * Stops taking messages; gives a running write `graceMs` to commit, then answers everything
   * still waiting with "unavailable" (MQTT leaves those unacknowledged, so brokers redeliver).
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.running.size < this.writers && this.head < this.queue.length) this.startWriter();
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(this.running), grace]);
      clearTimeout(timer);
    }
    this.stopping = true;
    await Promise.all(this.running);
    for (let i = this.head; i < this.queue.length; i++) this.queue[i].done({ status: "unavailable" });
    this.queue = [];
    this.head = 0;
    this.queuedRows = 0;
    clearInterval(this.housekeeping);
    clearInterval(this.lastSeenTimer);
    await this.opts.devices.flushLastSeen();
  }
}
