import type { MqttClient } from "mqtt";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reading, TelemetryStats } from "../../models/telemetry.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { dropSchema, REAL_PG_URL, uniqueSchemaName } from "../tiles-server/support/db-targets.ts";
import { request } from "../tiles-server/support/http-client.ts";
import {
  connectMqtt,
  dropMqttSessions,
  LiveClient,
  MOSQUITTO_URL,
  pgQuery,
  registerDevices,
  sleep,
  terminateBackends,
  uniqueSuffix,
} from "./support/iot-helpers.ts";

const TOKEN = "test-admin-token-mqtt-0123456789";
const N = 2000;
const DEVICES = 20;

interface Setup {
  name: string;
  external: boolean;
}

const SETUPS: Setup[] = [
  { name: "the real Mosquitto (MQTT_URL)", external: true },
  { name: "the embedded broker", external: false },
];

async function stats(server: RunningServer): Promise<TelemetryStats> {
  return JSON.parse((await request(server.url, "/api/telemetry/stats")).body.toString()) as TelemetryStats;
}

/**
 * Mosquitto keeps at most max_queued_messages (default 1000) unacknowledged messages per
 * session and drops the rest: the broker's own limit, not a loss of ours. Through Mosquitto the
 * publisher therefore stays at most this many messages ahead of the server's commits.
 */
const MOSQUITTO_MAX_AHEAD = 700;

/**
 * Publishes `count` one-reading messages, `perSecond` at most, each on its own device/ts; returns
 * the readings. With `committed`, waits whenever more than MOSQUITTO_MAX_AHEAD are uncommitted.
 */
async function publishStream(
  client: MqttClient,
  deviceIds: string[],
  count: number,
  baseTs: number,
  perSecond: number,
  onProgress?: (sent: number) => Promise<void> | void,
  committed?: () => number,
): Promise<Reading[]> {
  const committedAtStart = committed?.() ?? 0;
  const sent: Reading[] = [];
  const acks: Promise<unknown>[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const deviceId = deviceIds[i % deviceIds.length];
    const reading = { deviceId, ts: baseTs + i, quantity: "pressure", value: Math.round(i * 7.3) / 100 };
    sent.push(reading);
    acks.push(
      client.publishAsync(
        `cim/${deviceId}/telemetry`,
        JSON.stringify({ ts: reading.ts, values: { pressure: reading.value } }),
        { qos: 1 },
      ),
    );
    if (i % 50 === 49) {
      await onProgress?.(i + 1);
      while (committed && i + 1 - (committed() - committedAtStart) > MOSQUITTO_MAX_AHEAD) await sleep(20);
      const due = started + ((i + 1) / perSecond) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  }
  await Promise.all(acks);
  return sent;
}

describe.each(SETUPS)("MQTT telemetry through $name into the real PostgreSQL", (setup) => {
  const suffix = uniqueSuffix();
  const schema = uniqueSchemaName();
  const appName = `cim_iot_${schema}`;
  const serverClientId = `cim-test-ingest-${suffix}`;
  const deviceIds = Array.from({ length: DEVICES }, (_, i) => `mq-${suffix}-${i}`);
  let server: RunningServer;
  let publisher: MqttClient;
  let live: LiveClient;

  /** Through Mosquitto, see MOSQUITTO_MAX_AHEAD. */
  function pacing(): (() => number) | undefined {
    return setup.external ? () => server.iot.telemetry.stats().messagesCommitted : undefined;
  }

  async function storedReadings(): Promise<{ n: number; distinct: number }> {
    const rows = await pgQuery<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (device_id, quantity, ts))::int AS distinct
       FROM "${schema}".readings`,
    );
    return rows[0];
  }

  async function waitForStored(n: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((await storedReadings()).n < n && Date.now() < until) await sleep(100);
  }

  beforeAll(async () => {
    server = await startServer({
      databaseUrl: `${REAL_PG_URL}?application_name=${appName}`,
      dbSchema: schema,
      dataDir: "/nonexistent-unused",
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
      mqttUrl: setup.external ? MOSQUITTO_URL : undefined,
      mqttClientId: serverClientId,
    });
    expect(server.mqttUrl).toEqual(
      setup.external ? MOSQUITTO_URL : expect.stringMatching(/^mqtt:\/\/127\.0\.0\.1:\d+$/),
    );
    await registerDevices(
      server.url,
      TOKEN,
      deviceIds.map((id, i) => ({
        id,
        type: "pipe_pressure",
        name: `压力计 ${i}`,
        lon: 118.3,
        lat: 33.9 + i * 0.001,
      })),
    );
    publisher = await connectMqtt(server.mqttUrl, `cim-test-pub-${suffix}`);
    live = await LiveClient.connect(server.url);
    await live.subscribe({ devices: deviceIds });
  });

  afterAll(async () => {
    live?.close();
    await publisher?.endAsync();
    await server?.close();
    if (setup.external) await dropMqttSessions(MOSQUITTO_URL, serverClientId);
    await dropSchema(schema);
  });

  it(`stores all ${N} QoS 1 readings in PostgreSQL and delivers all of them on /ws`, async () => {
    const base = Date.now() - 3_600_000;
    const sent = await publishStream(publisher, deviceIds, N, base, 1000, undefined, pacing());
    await waitForStored(N, 60_000);
    expect(await storedReadings()).toEqual({ n: N, distinct: N });
    await live.waitFor(() => new Set(live.readings.map((r) => `${r.deviceId}|${r.ts}`)).size >= N, 30_000);
    const received = new Map(live.readings.map((r) => [`${r.deviceId}|${r.ts}`, r]));
    expect(received.size).toBe(N);
    for (const r of sent) expect(received.get(`${r.deviceId}|${r.ts}`)).toEqual(r);
    // Spot-check what was stored against what was sent.
    const rows = await pgQuery<{ device_id: string; ms: number; value: number }>(
      `SELECT device_id, (extract(epoch FROM ts) * 1000)::float8 AS ms, value FROM "${schema}".readings
       WHERE device_id = $1 ORDER BY ts`,
      [deviceIds[3]],
    );
    expect(
      rows.map((r) => ({ deviceId: r.device_id, ts: r.ms, quantity: "pressure", value: r.value })),
    ).toEqual(sent.filter((r) => r.deviceId === deviceIds[3]));
  });

  it("loses and duplicates nothing when the database connections are cut repeatedly mid-stream", async () => {
    const before = await stats(server);
    const already = (await storedReadings()).n;
    live.readings.length = 0;
    const base = Date.now() - 1_800_000;
    let killed = 0;
    let outage: Promise<void> | undefined;
    const sent = await publishStream(
      publisher,
      deviceIds,
      N,
      base,
      400,
      async (count) => {
        if (count % 400 === 0 && count < N) killed += await terminateBackends(appName);
        if (count === 1000) {
          // A longer outage: the readings table is locked and every waiting connection is killed
          // for 1.5 s, as if the database were down.
          outage = (async () => {
            const locker = new pg.Client({ connectionString: REAL_PG_URL });
            await locker.connect();
            await locker.query("BEGIN");
            await locker.query(`LOCK TABLE "${schema}".readings IN ACCESS EXCLUSIVE MODE`);
            for (let i = 0; i < 5; i++) {
              await sleep(300);
              killed += await terminateBackends(appName);
            }
            await locker.query("COMMIT");
            await locker.end();
          })();
        }
      },
      pacing(),
    );
    await outage;
    expect(killed).toBeGreaterThan(0);
    await waitForStored(already + N, 90_000);
    expect(await storedReadings()).toEqual({ n: already + N, distinct: already + N });
    await live.waitFor(() => new Set(live.readings.map((r) => `${r.deviceId}|${r.ts}`)).size >= N, 30_000);
    expect(new Set(live.readings.map((r) => `${r.deviceId}|${r.ts}`)).size).toBe(N);
    const after = await stats(server);
    expect(after.writeFailures).toBeGreaterThan(before.writeFailures);
    expect(after.pending).toBe(0);
    expect(sent).toHaveLength(N);
    // The server kept serving throughout.
    expect((await request(server.url, "/healthz")).status).toBe(200);
  });

  // Only an external broker keeps a session across a server restart (the embedded one stops with the server), so
  // this case exists for Mosquitto only.
  if (setup.external)
    it("redelivers what was never committed when the server stops during an outage and a new one starts", async () => {
      const already = (await storedReadings()).n;
      const locker = new pg.Client({ connectionString: REAL_PG_URL });
      await locker.connect();
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE "${schema}".readings IN ACCESS EXCLUSIVE MODE`);
      let killing = true;
      const killer = (async () => {
        while (killing) {
          await terminateBackends(appName);
          await sleep(100);
        }
      })();
      const count = 500;
      const received0 = server.iot.telemetry.stats().messagesReceived;
      await publishStream(publisher, deviceIds, count, Date.now() - 900_000, 2000);
      // The broker hands over only so many unacknowledged messages (Mosquitto: max_inflight_messages);
      // wait until the server holds some and no more arrive.
      let seen = -1;
      for (;;) {
        await sleep(500);
        const now = server.iot.telemetry.stats().messagesReceived - received0;
        if (now > 0 && now === seen) break;
        seen = now;
      }
      // Nothing could be committed, so nothing may have been acknowledged to the broker.
      await server.close();
      killing = false;
      await killer;
      await locker.query("COMMIT");
      await locker.end();
      const stored = (await storedReadings()).n - already;
      expect(stored).toBeLessThan(count);

      server = await startServer({
        databaseUrl: `${REAL_PG_URL}?application_name=${appName}`,
        dbSchema: schema,
        dataDir: "/nonexistent-unused",
        port: 0,
        host: "127.0.0.1",
        adminToken: TOKEN,
        logger: false,
        mqttUrl: MOSQUITTO_URL,
        mqttClientId: serverClientId,
      });
      await waitForStored(already + count, 60_000);
      expect(await storedReadings()).toEqual({ n: already + count, distinct: already + count });
    });
});
