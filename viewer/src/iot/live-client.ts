import type { Alarm, AlarmEventType, AlarmHistoryEntry } from "../../../models/alarms.ts";
import type { Reading, WsClientMessage } from "../../../models/telemetry.ts";

/** What the server pushes on /ws that the viewer uses (see models/telemetry.ts for the protocol). */
export interface LiveAlarmMessage {
  event: AlarmEventType;
  alarm: Alarm;
  entry: AlarmHistoryEntry;
}

export type LiveStatus = "connecting" | "open" | "closed";
export type LiveSubscription = WsClientMessage extends infer M
  ? M extends { subscribe: infer S }
    ? S
    : never
  : never;

export interface LiveClientOptions {
  /** ws:// or wss:// URL of the hub; default: /ws on the server that served the page. */
  url?: string;
  /** First reconnect delay; doubles on every failed attempt up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Creates the socket (tests may pass another implementation). */
  connect?: (url: string) => WebSocket;
}

type Listener<T> = (value: T) => void;

/** The /ws endpoint of the server that served this page. */
export function defaultLiveUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

/**
 * One WebSocket to the live hub, shared by every part of the viewer (sensors layer, alarm list, cockpit).
 *
 * Each consumer declares what it wants to hear with `setSubscriptions(owner, [...])`; the server only
 * adds subscriptions up, so a change is sent as `{"unsubscribe": true}` followed by the union of every
 * owner's wishes, and the same union is sent again after each reconnect. A dropped connection is retried
 * with exponential backoff and jitter (a restarted server is not hit by every browser at once).
 */
export class LiveClient {
  private socket: WebSocket | undefined;
  private statusValue: LiveStatus = "closed";
  private readonly wishes = new Map<string, LiveSubscription[]>();
  private readonly readingListeners = new Set<Listener<Reading[]>>();
  private readonly alarmListeners = new Set<Listener<LiveAlarmMessage>>();
  private readonly statusListeners = new Set<Listener<LiveStatus>>();
  private readonly url: string;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly connect: (url: string) => WebSocket;
  private delay: number;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private reconnects = 0;

  constructor(options: LiveClientOptions = {}) {
    this.url = options.url ?? defaultLiveUrl();
    this.minDelay = options.minDelayMs ?? 500;
    this.maxDelay = options.maxDelayMs ?? 15_000;
    this.connect = options.connect ?? ((url) => new WebSocket(url));
    this.delay = this.minDelay;
  }

  get status(): LiveStatus {
    return this.statusValue;
  }

  /** Connections opened after the first one (for diagnostics and tests). */
  get reconnectCount(): number {
    return this.reconnects;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.socket = undefined;
    this.setStatus("closed");
  }

  /** Replaces what `owner` listens to (an empty list withdraws it). */
  setSubscriptions(owner: string, subscriptions: LiveSubscription[]): void {
    const before = JSON.stringify(this.wishes.get(owner) ?? []);
    if (subscriptions.length === 0) this.wishes.delete(owner);
    else this.wishes.set(owner, subscriptions);
    if (before !== JSON.stringify(subscriptions)) this.sendSubscriptions(true);
  }

  onReadings(listener: Listener<Reading[]>): () => void {
    this.readingListeners.add(listener);
    return () => this.readingListeners.delete(listener);
  }

  /** Alarm events go to every client whatever its subscription. */
  onAlarm(listener: Listener<LiveAlarmMessage>): () => void {
    this.alarmListeners.add(listener);
    return () => this.alarmListeners.delete(listener);
  }

  onStatus(listener: Listener<LiveStatus>): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private open(): void {
    this.setStatus("connecting");
    let socket: WebSocket;
    try {
      socket = this.connect(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      if (opened) return;
      opened = true;
      this.delay = this.minDelay;
      this.setStatus("open");
      this.sendSubscriptions(false);
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket && typeof event.data === "string") this.dispatch(event.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (opened) this.reconnects++;
      this.scheduleRetry();
    });
    // An error is always followed by close, which schedules the retry; listening keeps Node's `ws` from
    // throwing it as an uncaught exception.
    socket.addEventListener("error", () => {});
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.setStatus("closed");
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.maxDelay, this.delay * 2);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  private sendSubscriptions(replace: boolean): void {
    const socket = this.socket;
    // 1 = OPEN (the constant is not on every WebSocket implementation, e.g. Node's `ws` passed as `connect`).
    if (socket?.readyState !== 1) return;
    if (replace) socket.send(JSON.stringify({ unsubscribe: true }));
    const seen = new Set<string>();
    for (const list of this.wishes.values()) {
      for (const subscribe of list) {
        const text = JSON.stringify({ subscribe });
        if (seen.has(text)) continue;
        seen.add(text);
        socket.send(text);
      }
    }
  }

  private dispatch(text: string): void {
    let msg: { type?: unknown; readings?: unknown; event?: unknown; alarm?: unknown; entry?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === "readings" && Array.isArray(msg.readings)) {
      const readings = msg.readings as Reading[];
      for (const l of this.readingListeners) l(readings);
    } else if (msg.type === "alarm" && msg.alarm && typeof msg.alarm === "object") {
      const alarmMessage = msg as unknown as LiveAlarmMessage;
      for (const l of this.alarmListeners) l(alarmMessage);
    } else if (msg.type === "error") {
      console.warn("live hub:", (msg as { error?: string }).error);
    }
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.statusValue) return;
    this.statusValue = status;
    for (const l of this.statusListeners) l(status);
  }
}

let shared: LiveClient | undefined;

/** The page's one live connection (started on first use). */
export function sharedLiveClient(): LiveClient {
  if (!shared) {
    shared = new LiveClient();
    shared.start();
  }
  return shared;
}
