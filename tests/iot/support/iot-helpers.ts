import mqtt, { type MqttClient } from "mqtt";
import pg from "pg";
import WebSocket from "ws";
import type { CreateDevice, CreatedDevice } from "../../../models/devices.ts";
import type { Reading } from "../../../models/telemetry.ts";
import { DEFAULT_MQTT_SESSIONS } from "../../../tiles-server/iot/mqtt.ts";
import { REAL_PG_URL } from "../../tiles-server/support/db-targets.ts";
import { jsonRequest } from "../../tiles-server/support/http-client.ts";

/** The Mosquitto of the test machine. */
export const MOSQUITTO_URL = process.env.TEST_MQTT_URL ?? "mqtt://127.0.0.1:1883";

export function uniqueSuffix(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function registerDevices(
  baseUrl: string,
  token: string,
  devices: CreateDevice[],
): Promise<CreatedDevice[]> {
  const res = await jsonRequest(baseUrl, "/api/devices", "POST", devices, token);
  if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${res.body.toString()}`);
  return JSON.parse(res.body.toString()) as CreatedDevice[];
}

/** A WebSocket client on /ws that records every reading it receives. */
export class LiveClient {
  readonly readings: Reading[] = [];
  readonly messages: { type: string; [k: string]: unknown }[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString()) as { type: string; readings?: Reading[] };
      this.messages.push(msg);
      if (msg.type === "readings" && msg.readings) this.readings.push(...msg.readings);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(baseUrl: string): Promise<LiveClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new LiveClient(ws);
  }

  /** Sends a subscribe message and waits for the server's confirmation. */
  async subscribe(subscribe: unknown): Promise<void> {
    const before = this.messages.filter((m) => m.type === "subscribed").length;
    this.ws.send(JSON.stringify({ subscribe }));
    await this.waitFor(() => this.messages.filter((m) => m.type === "subscribed").length > before, 5000);
  }

  /** Resolves once `done()` holds; rejects after `timeoutMs` with what was seen. */
  waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms; ${this.readings.length} readings received`));
      }, timeoutMs);
      check();
    });
  }

  close(): void {
    this.ws.close();
  }
}

export async function connectMqtt(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 200 });
}

/** Removes the server's persistent sessions (`<id>-0..n-1`) from the broker (connect clean, disconnect). */
export async function dropMqttSessions(
  url: string,
  clientId: string,
  sessions = Number(process.env.CIM_MQTT_SESSIONS || DEFAULT_MQTT_SESSIONS),
): Promise<void> {
  for (let i = 0; i < sessions; i++) {
    const c = await mqtt.connectAsync(url, { clientId: `${clientId}-${i}`, clean: true, reconnectPeriod: 0 });
    await c.endAsync();
  }
}

/** A plain client on the real PostgreSQL, for checking what the server stored. */
export async function pgQuery<T extends pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: REAL_PG_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Kills every backend of the server under test (found by its application_name); returns how many. */
export async function terminateBackends(applicationName: string): Promise<number> {
  const rows = await pgQuery<{ n: number }>(
    "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  return rows[0].n;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
