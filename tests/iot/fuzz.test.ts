import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REJECT_REASONS, type RejectReason, type TelemetryStats } from "../../models/telemetry.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import {
  type DbEnvironment,
  dropSchema,
  embeddedTarget,
  REAL_PG_URL,
  uniqueSchemaName,
} from "../tiles-server/support/db-targets.ts";
import { request } from "../tiles-server/support/http-client.ts";
import { connectMqtt, LiveClient, registerDevices, uniqueSuffix } from "./support/iot-helpers.ts";

const TOKEN = "test-admin-token-fuzz-0123456789";
const MESSAGES = 10_000;

/** Deterministic pseudo-random source, so a failing case can be replayed from the seed. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)],
  };
}

interface Case {
  topic: string;
  payload: Buffer;
  reason: RejectReason;
}

/** Malformed messages of every kind, each with the reason the server must give. */
function malformed(count: number, deviceId: string, seed: number): Case[] {
  const r = rng(seed);
  const now = Date.now();
  const topic = `cim/${deviceId}/telemetry`;
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const generators: (() => Case)[] = [
    () => {
      // Random bytes: mostly not JSON; the rare valid JSON value (a number) fails the schema.
      const payload = r.bytes(1 + r.int(200));
      let reason: RejectReason = "bad_json";
      try {
        JSON.parse(payload.toString("utf8"));
        reason = "invalid_payload";
      } catch {}
      return { topic, payload, reason };
    },
    () => ({
      topic,
      payload: Buffer.from(`{"ts": ${now}, "values": {"p": ${r.pick(["NaN", "Infinity", "-", "0x1"])}}}`),
      reason: "bad_json",
    }),
    () => ({ topic, payload: Buffer.alloc(0), reason: "bad_json" }),
    () => ({ topic, payload: Buffer.from(`{"ts": ${now}, "values": {"p": 1}`), reason: "bad_json" }),
    () => ({
      topic,
      payload: json(
        r.pick([
          null,
          42,
          "text",
          [],
          [{ ts: now, values: { p: 1 } }],
          { ts: now },
          { values: { p: 1 } },
          { ts: now, values: {} },
          { ts: now, values: [] },
          { ts: now, values: { p: "1.5" } },
          { ts: now, values: { p: null } },
          { ts: now, values: { p: true } },
          { ts: now, values: { p: { v: 1 } } },
          { ts: now, values: { "bad key": 1 } },
          { ts: now, values: { "": 1 } },
          { ts: now, values: { p: 1 }, extra: 1 },
          { ts: String(now), values: { p: 1 } },
          { ts: true, values: { p: 1 } },
          { ts: "2026-11-21T08:00:00", values: { p: 1 } },
          { ts: "2026-13-45T00:00:00Z", values: { p: 1 } },
          { ts: "yesterday", values: { p: 1 } },
          { ts: now, values: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`q${i}`, i])) },
        ]),
      ),
      reason: "invalid_payload",
    }),
    () => ({
      topic,
      payload: Buffer.from(`{"ts": ${now}, "values": {"p": 1e999}}`),
      reason: "invalid_payload",
    }),
    () => ({
      topic,
      payload: json({
        ts: r.pick([1e20, -5, 0, now + 7 * 86_400_000, now - 400 * 86_400_000, "1999-12-31T23:00:00Z"]),
        values: { p: 1 },
      }),
      reason: "ts_out_of_range",
    }),
    () => ({
      topic: `cim/ghost-${r.int(1_000_000)}/telemetry`,
      payload: json({ ts: now - r.int(60_000), values: { p: r.next() } }),
      reason: "unknown_device",
    }),
    () => ({
      topic: r.pick([
        `cim/${"x".repeat(200)}/telemetry`,
        "cim/has space/telemetry",
        "cim/中文设备/telemetry",
        "cim/.hidden/telemetry",
        "cim//telemetry",
        "cim/-lead/telemetry",
      ]),
      payload: json({ ts: now, values: { p: 1 } }),
      reason: "bad_topic",
    }),
  ];
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    // A few oversized payloads: enough to exercise the limit without flooding the run.
    if (i % 500 === 0) {
      cases.push({
        topic,
        payload: Buffer.from(`{"ts": ${now}, "values": {"p": 1}, "pad": "${"x".repeat(70 * 1024)}"}`),
        reason: "payload_too_large",
      });
    } else cases.push(generators[i % generators.length]());
  }
  return cases;
}

function countByReason(cases: Case[]): Record<RejectReason, number> {
  const out = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  for (const c of cases) out[c.reason]++;
  return out;
}

describe("fuzzing the telemetry parser and the embedded MQTT broker", () => {
  let env: DbEnvironment;
  let server: RunningServer;
  let publisher: MqttClient;
  const deviceId = `fz-${uniqueSuffix()}`;

  beforeAll(async () => {
    env = await embeddedTarget.create();
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
    await registerDevices(server.url, TOKEN, [
      { id: deviceId, type: "noise", name: "噪声监测点", lon: 118.29, lat: 33.95 },
    ]);
    publisher = await connectMqtt(server.mqttUrl, `cim-fuzz-${uniqueSuffix()}`);
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await server?.close();
    await env?.cleanup();
  });

  it(`rejects ${MESSAGES} malformed payloads in the parser without throwing`, () => {
    const service = server.iot.telemetry;
    const cases = malformed(MESSAGES, deviceId, 7);
    const r = rng(99);
    let rejected = 0;
    for (const c of cases) {
      const result = service.parseMqtt(c.topic, c.payload);
      // unknown_device is decided at write time, against the registry; the rest by the parser.
      expect(result.ok ? "unknown_device" : result.reason).toBe(c.reason);
      rejected++;
    }
    // And raw random topics and bytes.
    for (let i = 0; i < MESSAGES; i++) {
      const topic = r.bytes(r.int(40)).toString("latin1");
      const result = service.parseMqtt(topic, r.bytes(r.int(300)));
      expect(result.ok).toBe(false);
    }
    expect(rejected).toBe(MESSAGES);
  });

  it(`survives ${MESSAGES} malformed QoS 1 messages over MQTT and counts every one by reason`, async () => {
    const before = JSON.parse(
      (await request(server.url, "/api/telemetry/stats")).body.toString(),
    ) as TelemetryStats;
    const live = await LiveClient.connect(server.url);
    await live.subscribe({ devices: [deviceId] });
    const cases = malformed(MESSAGES, deviceId, 12345);
    // PUBACK from the embedded broker comes after validation (and the commit for valid ones),
    // so once every publish is acknowledged every message has been judged.
    for (let i = 0; i < cases.length; i += 500) {
      await Promise.all(
        cases.slice(i, i + 500).map((c) => publisher.publishAsync(c.topic, c.payload, { qos: 1 })),
      );
    }
    const after = JSON.parse(
      (await request(server.url, "/api/telemetry/stats")).body.toString(),
    ) as TelemetryStats;
    const expected = countByReason(cases);
    for (const reason of REJECT_REASONS) {
      expect(after.rejected[reason] - before.rejected[reason], reason).toBe(expected[reason]);
    }
    expect(after.rejectedTotal - before.rejectedTotal).toBe(MESSAGES);
    expect(after.messagesReceived - before.messagesReceived).toBe(MESSAGES);
    expect(after.messagesCommitted - before.messagesCommitted).toBe(0);
    expect(expected.bad_json).toBeGreaterThan(1000);
    expect(expected.unknown_device).toBeGreaterThan(1000);
    expect(expected.payload_too_large).toBe(MESSAGES / 500);

    // Still alive and still storing: a valid message after the storm goes through to /ws and the API.
    expect((await request(server.url, "/healthz")).status).toBe(200);
    const ts = Date.now() - 1000;
    await publisher.publishAsync(
      `cim/${deviceId}/telemetry`,
      JSON.stringify({ ts, values: { noise: 61.5 } }),
      {
        qos: 1,
      },
    );
    const stored = JSON.parse(
      (
        await request(server.url, `/api/sensors/${deviceId}/readings?from=${ts - 1}&to=${ts + 1}`)
      ).body.toString(),
    );
    expect(stored).toEqual([{ ts: new Date(ts).toISOString(), quantity: "noise", value: 61.5 }]);
    await live.waitFor(() => live.readings.length === 1, 5000);
    expect(live.readings).toEqual([{ deviceId, ts, quantity: "noise", value: 61.5 }]);
    live.close();
  });

  it("refuses to start a second server on the embedded broker's port, naming the port and the way out", async () => {
    const port = Number(new URL(server.mqttUrl).port);
    const schema = uniqueSchemaName();
    try {
      await expect(
        startServer({
          databaseUrl: REAL_PG_URL,
          dbSchema: schema,
          dataDir: "/nonexistent-unused",
          port: 0,
          host: "127.0.0.1",
          adminToken: TOKEN,
          logger: false,
          mqttPort: port,
        }),
      ).rejects.toThrow(new RegExp(`embedded MQTT broker on 127\\.0\\.0\\.1:${port}.*CIM_MQTT_PORT`));
    } finally {
      await dropSchema(schema);
    }
    expect((await request(server.url, "/healthz")).status).toBe(200);
  });
});
