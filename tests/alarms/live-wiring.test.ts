import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Alarm, AlarmHistoryEntry } from "../../models/alarms.ts";
import { type RunningServer, startServer } from "../../tiles-server/server.ts";
import { DB_TARGETS, type DbEnvironment } from "../tiles-server/support/db-targets.ts";
import { jsonRequest, request } from "../tiles-server/support/http-client.ts";
import { json, TOKEN } from "./support.ts";

interface AlarmMessage {
  type: "alarm";
  event: string;
  alarm: Alarm;
  entry: AlarmHistoryEntry;
}

/** Telemetry -> rule engine -> WebSocket as the running server wires them, on both databases. */
describe.each(DB_TARGETS)("alarms wired to live telemetry and the WebSocket ($name)", (target) => {
  let env: DbEnvironment;
  let server: RunningServer;
  let ws: WebSocket;
  const messages: AlarmMessage[] = [];

  beforeAll(async () => {
    env = await target.create();
    server = await startServer({
      ...env.options,
      port: 0,
      host: "127.0.0.1",
      adminToken: TOKEN,
      logger: false,
    });
    ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`);
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { type: string };
      if (msg.type === "alarm") messages.push(msg as AlarmMessage);
    });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  });

  afterAll(async () => {
    ws?.close();
    await server?.close();
    await env?.cleanup();
  });

  async function waitFor(predicate: () => boolean, what: string) {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("a breaching reading posted to /api/telemetry raises an alarm pushed on /ws; a normal one clears it", async () => {
    const created = await jsonRequest(
      server.url,
      "/api/devices",
      "POST",
      { id: "gas-live-1", type: "gas_concentration", name: "燃气 1", lon: 118.3, lat: 33.95 },
      TOKEN,
    );
    expect(created.status, created.body.toString()).toBeLessThan(300);

    const now = Date.now();
    const post = (ts: number, concentration: number) =>
      jsonRequest(
        server.url,
        "/api/telemetry",
        "POST",
        { readings: [{ deviceId: "gas-live-1", ts, values: { concentration } }] },
        TOKEN,
      );
    expect((await post(now - 2000, 30)).status).toBe(200);
    await waitFor(() => messages.some((m) => m.event === "raised"), "the raised alarm");
    const raised = messages.find((m) => m.event === "raised")!;
    expect(raised.alarm).toMatchObject({
      deviceId: "gas-live-1",
      level: "orange",
      value: 30,
      status: "raised",
    });
    expect(raised.entry).toMatchObject({ kind: "raised", toLevel: "orange", by: "system" });

    const listed = json<{ items: Alarm[] }>(await request(server.url, "/api/alarms?device=gas-live-1"));
    expect(listed.items.map((a) => a.id)).toEqual([raised.alarm.id]);

    expect((await post(now - 1000, 2)).status).toBe(200);
    await waitFor(() => messages.some((m) => m.event === "cleared"), "the cleared alarm");
    expect(messages.map((m) => m.event)).toEqual(["raised", "cleared"]);
  });
});
