import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import mqtt, { type IPublishPacket, type MqttClient, type Packet } from "mqtt";
import type { Logger } from "pino";
import type { TelemetryService } from "./telemetry-service.ts";

export const TELEMETRY_TOPIC_FILTER = "cim/+/telemetry";
/** Sessions on an external broker unless CIM_MQTT_SESSIONS says otherwise (see subscribeExternal). */
export const DEFAULT_MQTT_SESSIONS = 16;
/**
 * Unacknowledged messages the broker may send each session (MQTT 5 Receive Maximum): the messages
 * that arrive during one commit, with a wide margin (16 sessions x 1000 covers 10k/s at a 1.6 s commit).
 */
const RECEIVE_MAXIMUM = 1000;
/** 0xFFFFFFFF: the session never expires, like a clean: false session of MQTT 3.1.1. */
const SESSION_EXPIRY_S = 0xffffffff;
const TELEMETRY_TOPIC = /^cim\/[^/]*\/telemetry$/;
const SYS_PREFIX = "$SYS/";

export interface MqttIngest {
  mode: "embedded" | "external";
  /** Where devices publish, e.g. mqtt://127.0.0.1:11883. */
  url: string;
  close(): Promise<void>;
}

/**
 * Embedded broker (aedes) on its own TCP port. Telemetry is taken from aedes' authorizePublish
 * hook, which aedes runs before it writes the PUBACK: holding the callback until the batch is
 * committed makes the publisher's PUBACK mean "stored in PostgreSQL". aedes handles all packets
 * of one socket read concurrently, so many messages wait on the same batch.
 *
 * Only topics matching cim/+/telemetry are taken; other topics pass through as on any broker.
 * A rejected message (bad payload, unknown device) is counted and still acknowledged, so a
 * faulty device cannot make its client resend it forever; it is not forwarded to subscribers.
 * If the server stops before a commit, the publisher is disconnected without a PUBACK and its
 * client library resends on reconnect.
 */
export async function startEmbeddedBroker(opts: {
  service: TelemetryService;
  logger: Logger;
  port: number;
  host: string;
}): Promise<MqttIngest> {
  const { service, logger } = opts;
  const invalid = new WeakSet<object>();
  const broker = await Aedes.createBroker({
    authorizePublish(client, packet, callback) {
      if (packet.topic.startsWith(SYS_PREFIX))
        return callback(new Error(`${SYS_PREFIX} topics are reserved`));
      // Only what an external broker would route to our cim/+/telemetry subscription is ours;
      // other topics (device commands, status...) pass through untouched.
      if (client === null || !TELEMETRY_TOPIC.test(packet.topic)) return callback(null);
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      service.handleMqtt(packet.topic, payload).then((result) => {
        if (result.status === "unavailable") return callback(new Error("telemetry store unavailable"));
        if (result.status === "rejected") invalid.add(packet);
        callback(null);
      });
    },
    authorizeForward(_client, packet) {
      return invalid.has(packet) ? null : packet;
    },
  });
  broker.on("clientError", (client, err) => {
    logger.debug({ clientId: client?.id, err: err.message }, "mqtt client error");
  });
  // aedes reads a socket's next chunk only once every message of the previous one is done, i.e.
  // committed here; a large read buffer lets one chunk (one batch) take all that queued meanwhile.
  const server: Server = createServer({ highWaterMark: 1024 * 1024 }, broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port, opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    broker.close();
    throw new Error(
      `cannot start the embedded MQTT broker on ${opts.host}:${opts.port}: ${(err as Error).message} (set CIM_MQTT_PORT to another port, or MQTT_URL to use an external broker)`,
      { cause: err },
    );
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const host = opts.host === "0.0.0.0" || opts.host === "::" || opts.host === "" ? "127.0.0.1" : opts.host;
  const url = `mqtt://${host.includes(":") ? `[${host}]` : host}:${port}`;
  service.mqttInfo = { mode: "embedded", url };
  logger.info({ url }, "embedded MQTT broker listening");
  return {
    mode: "embedded",
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        broker.close();
      }),
  };
}

/** The private parts of MqttClient we rely on (see subscribeExternal). */
interface MqttClientInternals {
  _sendPacket(packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean): void;
}

/**
 * Subscribes to an external broker (e.g. Mosquitto) with a persistent session (clean=false,
 * fixed client id, QoS 1), so messages published while we are down or while the database is
 * down are kept by the broker and redelivered.
 *
 * MQTT.js sends the PUBACK as soon as handleMessage() calls back and only then reads the next
 * packet, so holding the callback would allow one message per commit. Instead the callback runs
 * at once and the PUBACK packet itself is held back (by wrapping the client's _sendPacket) until
 * the message's batch is committed. A PUBACK held across a reconnect is discarded: the broker
 * redelivers that message on the new connection and the dedup key absorbs the copy.
 *
 * Brokers bound the unacknowledged messages per session and queue the rest (Mosquitto:
 * max_queued_messages, 1000 by default, beyond which it drops QoS 1 messages): size the queue
 * for the longest database outage to ride out (see iot/README.md). Keep the number of sessions
 * fixed across restarts: a session that is no longer connected keeps its queued share.
 */
export async function subscribeExternal(opts: {
  service: TelemetryService;
  logger: Logger;
  url: string;
  clientId: string;
  /** Sessions sharing the subscription; default env CIM_MQTT_SESSIONS or DEFAULT_MQTT_SESSIONS. */
  sessions?: number;
}): Promise<MqttIngest> {
  const sessions = opts.sessions ?? resolveSessions();
  // We hold acknowledgements until a batch is committed, so the number of unacknowledged messages a
  // broker lets one session have decides the throughput: over MQTT 3.1.1 Mosquitto allows only
  // max_inflight_messages (20 by default) per session, one database round trip's worth. MQTT 5 lets
  // the subscriber raise it with Receive Maximum (see connectSession); several sessions on a shared
  // subscription still spread the decoding and keep each session's broker queue short.
  const filter =
    sessions === 1 ? TELEMETRY_TOPIC_FILTER : `$share/${opts.clientId}/${TELEMETRY_TOPIC_FILTER}`;
  const clients: MqttClient[] = [];
  try {
    for (let i = 0; i < sessions; i++) {
      const clientId = sessions === 1 ? opts.clientId : `${opts.clientId}-${i}`;
      clients.push(await connectSession({ ...opts, clientId, filter }));
    }
  } catch (err) {
    for (const c of clients) c.end(true);
    throw err;
  }
  opts.service.mqttInfo = { mode: "external", url: opts.url };
  opts.logger.info(
    { url: opts.url, clientId: opts.clientId, sessions, filter },
    "subscribed to external MQTT broker",
  );
  return {
    mode: "external",
    url: opts.url,
    close: async () => {
      await Promise.all(
        clients.map((c) => new Promise<void>((resolve) => c.end(false, {}, () => resolve()))),
      );
    },
  };
}

function resolveSessions(): number {
  const env = process.env.CIM_MQTT_SESSIONS;
  if (env === undefined || env === "") return DEFAULT_MQTT_SESSIONS;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new Error(`CIM_MQTT_SESSIONS must be an integer 1-64, got "${env}"`);
  }
  return n;
}

async function connectSession(opts: {
  service: TelemetryService;
  logger: Logger;
  url: string;
  clientId: string;
  filter: string;
}): Promise<MqttClient> {
  const { service, logger } = opts;
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    clean: false,
    protocolVersion: 5,
    properties: {
      // MQTT 5 sessions end at disconnect unless given an expiry: keep ours (and the broker's queue
      // for it) across server restarts, as clean: false did over MQTT 3.1.1.
      sessionExpiryInterval: SESSION_EXPIRY_S,
      receiveMaximum: RECEIVE_MAXIMUM,
    },
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    resubscribe: true,
  });
  const internals = client as unknown as MqttClientInternals;
  const sendPacket = internals._sendPacket.bind(client);
  let connection = 0;
  let heldAck: Promise<boolean> | undefined;
  internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
    if (packet.cmd !== "puback" || heldAck === undefined) return sendPacket(packet, cb, cbStorePut, noStore);
    const commit = heldAck;
    heldAck = undefined;
    const sentOn = connection;
    cb?.();
    commit.then((ok) => {
      if (ok && sentOn === connection && client.connected) sendPacket(packet);
    });
  };
  client.handleMessage = (packet: IPublishPacket, callback) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const result = service.handleMqtt(packet.topic, payload);
    // Our subscription is QoS 1, so the broker never sends QoS 2 (whose PUBCOMP this would not cover).
    if (packet.qos === 1) heldAck = result.then((r) => r.status !== "unavailable");
    callback();
  };
  client.on("close", () => {
    connection++;
  });
  client.on("error", (err) =>
    logger.warn({ err: err.message, url: opts.url, clientId: opts.clientId }, "MQTT connection error"),
  );
  client.on("reconnect", () => logger.debug({ url: opts.url, clientId: opts.clientId }, "MQTT reconnecting"));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      client.end(true);
      reject(new Error(`cannot connect to MQTT_URL ${opts.url}: ${err.message}`, { cause: err }));
    };
    client.once("error", onError);
    client.once("connect", () => {
      client.off("error", onError);
      client.subscribe(opts.filter, { qos: 1 }, (err) => {
        if (err) onError(err);
        else resolve();
      });
    });
  });
  return client;
}
