import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { type WebSocket, WebSocketServer } from "ws";
import { type Reading, WsClientMessageSchema } from "../../models/telemetry.ts";
import type { DeviceInfo } from "../iot/device-store.ts";

/** What one client asked for; subscriptions add up. */
export interface WsSubscription {
  devices: Set<string>;
  bboxes: [number, number, number, number][];
  layers: Set<string>;
}

/** Decides whether a broadcast message goes to a client, given its subscription. */
export type BroadcastFilter = (subscription: WsSubscription) => boolean;

export interface WsHubOptions {
  logger: Logger;
  /** Device position and layer, for bbox and layer subscriptions. */
  deviceInfo: (deviceId: string) => DeviceInfo | undefined;
  /** Above this many bytes queued on a socket the client is "slow" and gets coalesced updates. Default 1 MiB. */
  slowClientBytes?: number;
  /** Ping interval; a client that has not answered the previous ping is dropped. Default 30 s. */
  pingIntervalMs?: number;
}

interface Client {
  ws: WebSocket;
  sub: WsSubscription;
  /** Subscription fingerprint: clients with equal keys get the very same serialised message. */
  key: string;
  alive: boolean;
  /** Latest reading per device+quantity held back while the socket is congested. */
  coalesced: Map<string, Reading> | undefined;
}

const EMPTY_KEY = "";

export function matchesDevice(sub: WsSubscription, info: DeviceInfo | undefined, deviceId: string): boolean {
  if (sub.devices.has(deviceId)) return true;
  if (!info) return false;
  if (info.layerId !== null && sub.layers.has(info.layerId)) return true;
  for (const [w, s, e, n] of sub.bboxes) {
    if (info.lon >= w && info.lon <= e && info.lat >= s && info.lat <= n) return true;
  }
  return false;
}

/**
 * The live WebSocket endpoint `/ws` on the HTTP server.
 *
 * Readings: `publishReadings(readings)` (wired to TelemetryService.onLive) sends each client
 * the readings its subscription matches. Per batch, a message is serialised once per distinct
 * subscription and the same Buffer goes to every client with that subscription. A client whose
 * socket has more than `slowClientBytes` queued gets nothing new queued: the latest reading per
 * device and quantity is kept instead and sent as one message when the socket drains, so memory
 * per client is bounded by the number of sensors it watches, never by time.
 *
 * Other server features push through `broadcast(channel, message, filter?)`: the message is sent
 * as `{"type": channel, ...message}`, serialised once, to every client for which `filter(sub)`
 * returns true (all clients when omitted). E.g. alarms on a device:
 *   hub.broadcast("alarm", alarm, hub.forDevice(alarm.deviceId))
 * Broadcasts are not coalesced (they are rare and each matters) but are skipped for a client
 * whose queue is over 4× the slow limit, which is then about to be dropped anyway.
 */
export class WsHub {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly slowBytes: number;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly drainTimer: NodeJS.Timeout;
  private readonly logger: Logger;
  private sent = 0;
  private coalescedCount = 0;

  constructor(private readonly opts: WsHubOptions) {
    this.logger = opts.logger;
    this.slowBytes = opts.slowClientBytes ?? 1024 * 1024;
    // Compression off: the payloads are small and deflate per client would cost more CPU than
    // the fan-out itself. 4 MiB of client message fits a subscription to 100,000 device ids.
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
    this.wss.on("connection", (ws) => this.accept(ws));
    this.pingTimer = setInterval(() => this.ping(), opts.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
    this.drainTimer = setInterval(() => this.flushCoalesced(), 50);
    this.drainTimer.unref();
  }

  /** Routes `GET /ws` upgrades of the HTTP server to the hub; other paths get 404. */
  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node hands an upgraded socket over without an 'error' listener: a client resetting it (a closing browser)
      // would otherwise end the process, here before ws has added its own.
      socket.on("error", () => {});
      const path = (req.url ?? "").split("?")[0];
      if (path !== "/ws") {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * clients; messages sent; readings held back for slow clients (total since start); readings
   * held back right now (bounded by the sensors the slow clients watch).
   */
  stats(): { clients: number; messagesSent: number; coalescedReadings: number; coalescedPending: number } {
    let pending = 0;
    for (const c of this.clients) pending += c.coalesced?.size ?? 0;
    return {
      clients: this.clients.size,
      messagesSent: this.sent,
      coalescedReadings: this.coalescedCount,
      coalescedPending: pending,
    };
  }

  private accept(ws: WebSocket): void {
    const client: Client = {
      ws,
      sub: { devices: new Set(), bboxes: [], layers: new Set() },
      key: EMPTY_KEY,
      alive: true,
      coalesced: undefined,
    };
    this.clients.add(client);
    ws.on("pong", () => {
      client.alive = true;
    });
    ws.on("message", (data, isBinary) => this.onMessage(client, data as Buffer, isBinary));
    ws.on("close", () => this.clients.delete(client));
    ws.on("error", () => this.clients.delete(client));
  }

  private onMessage(client: Client, data: Buffer, isBinary: boolean): void {
    let msg: unknown;
    try {
      if (isBinary) throw new Error("binary frames are not supported");
      msg = JSON.parse(data.toString("utf8"));
    } catch (err) {
      this.sendError(client, `message is not JSON: ${(err as Error).message}`);
      return;
    }
    const parsed = WsClientMessageSchema.safeParse(msg);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.sendError(
        client,
        `expected {"subscribe":{"devices":[...]}|{"bbox":[w,s,e,n]}|{"layer":"id"}} or {"unsubscribe":true}: ${issue.path.join(".")} ${issue.message}`,
      );
      return;
    }
    const m = parsed.data;
    if ("unsubscribe" in m) {
      client.sub = { devices: new Set(), bboxes: [], layers: new Set() };
    } else if ("devices" in m.subscribe) {
      for (const id of m.subscribe.devices) client.sub.devices.add(id);
    } else if ("bbox" in m.subscribe) {
      client.sub.bboxes.push(m.subscribe.bbox);
    } else {
      client.sub.layers.add(m.subscribe.layer);
    }
    client.key = subscriptionKey(client.sub);
    client.coalesced = undefined;
    this.sendNow(
      client,
      JSON.stringify({
        type: "subscribed",
        devices: client.sub.devices.size,
        bboxes: client.sub.bboxes.length,
        layers: [...client.sub.layers],
      }),
    );
  }

  private sendError(client: Client, error: string): void {
    this.sendNow(client, JSON.stringify({ type: "error", error }));
  }

  private sendNow(client: Client, data: string | Buffer): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    client.ws.send(data, { binary: false });
    this.sent++;
  }

  /** A filter for broadcast(): clients watching this device (by id, bbox or layer). */
  forDevice(deviceId: string): BroadcastFilter {
    const info = this.opts.deviceInfo(deviceId);
    return (sub) => matchesDevice(sub, info, deviceId);
  }

  /** Sends `{"type": channel, ...message}` to the matching clients; see the class comment. */
  broadcast(channel: string, message: object, filter?: BroadcastFilter): number {
    let data: Buffer | undefined;
    let count = 0;
    for (const client of this.clients) {
      if (filter && !filter(client.sub)) continue;
      if (client.ws.bufferedAmount > 4 * this.slowBytes) continue;
      data ??= Buffer.from(JSON.stringify({ ...message, type: channel }));
      this.sendNow(client, data);
      count++;
    }
    return count;
  }

  /** Fans a batch of live readings out to subscribers; see the class comment. */
  publishReadings(readings: readonly Reading[]): void {
    if (this.clients.size === 0) return;
    const byKey = new Map<string, { sub: WsSubscription; matched: Reading[] | undefined; data?: Buffer }>();
    for (const client of this.clients) {
      if (client.key === EMPTY_KEY) continue;
      let group = byKey.get(client.key);
      if (!group) {
        group = { sub: client.sub, matched: undefined };
        byKey.set(client.key, group);
      }
      group.matched ??= this.match(group.sub, readings);
      if (group.matched.length === 0) continue;
      if (client.coalesced !== undefined || client.ws.bufferedAmount > this.slowBytes) {
        this.coalesce(client, group.matched);
        continue;
      }
      group.data ??= Buffer.from(JSON.stringify({ type: "readings", readings: group.matched }));
      this.sendNow(client, group.data);
    }
  }

  private match(sub: WsSubscription, readings: readonly Reading[]): Reading[] {
    const out: Reading[] = [];
    let lastId: string | undefined;
    let lastMatch = false;
    for (const r of readings) {
      if (r.deviceId !== lastId) {
        lastId = r.deviceId;
        lastMatch = matchesDevice(sub, this.opts.deviceInfo(r.deviceId), r.deviceId);
      }
      if (lastMatch) out.push(r);
    }
    return out;
  }

  private coalesce(client: Client, readings: Reading[]): void {
    client.coalesced ??= new Map();
    for (const r of readings) {
      const k = `${r.deviceId}\u0000${r.quantity}`;
      const prev = client.coalesced.get(k);
      if (prev === undefined || prev.ts <= r.ts) client.coalesced.set(k, r);
      this.coalescedCount++;
    }
  }

  private flushCoalesced(): void {
    for (const client of this.clients) {
      if (client.coalesced === undefined || client.ws.bufferedAmount > this.slowBytes / 2) continue;
      const readings = [...client.coalesced.values()];
      client.coalesced = undefined;
      this.sendNow(client, JSON.stringify({ type: "readings", readings, coalesced: true }));
    }
  }

  private ping(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.ws.terminate();
        this.clients.delete(client);
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }

  /** Closes every client (1001 going away) and stops the timers. */
  close(): void {
    clearInterval(this.pingTimer);
    clearInterval(this.drainTimer);
    for (const client of this.clients) client.ws.close(1001, "server shutting down");
    for (const client of this.clients) {
      setTimeout(() => client.ws.terminate(), 1000).unref();
    }
    this.clients.clear();
    this.wss.close();
    this.logger.debug("websocket hub closed");
  }
}

function subscriptionKey(sub: WsSubscription): string {
  if (sub.devices.size === 0 && sub.bboxes.length === 0 && sub.layers.size === 0) return EMPTY_KEY;
  return JSON.stringify([[...sub.devices].sort(), sub.bboxes, [...sub.layers].sort()]);
}
