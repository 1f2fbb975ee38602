import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Reading } from "../../models/telemetry.ts";
import { WsHub } from "../../tiles-server/ws/hub.ts";
import { type LiveAlarmMessage, LiveClient, type LiveStatus } from "../../viewer/src/iot/live-client.ts";

/** The viewer's live client against the server's real /ws hub, over real sockets. */

interface HubServer {
  hub: WsHub;
  port: number;
  close(): Promise<void>;
}

async function startHub(port = 0): Promise<HubServer> {
  const hub = new WsHub({
    logger: pino({ enabled: false }),
    deviceInfo: (id) => ({ id, lon: 118.3, lat: 33.9, layerId: null, tokenHash: null }),
  });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  hub.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    hub,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      hub.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const reading = (deviceId: string, ts: number): Reading => ({
  deviceId,
  ts,
  quantity: "pressure",
  value: 0.3,
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Publishes until the client hears a reading of `deviceId` (a subscription takes a round trip to apply). */
async function publishUntilHeard(hub: WsHub, heard: Reading[], deviceId: string): Promise<void> {
  const end = Date.now() + 10_000;
  let ts = Date.now();
  while (!heard.some((r) => r.deviceId === deviceId)) {
    if (Date.now() > end) throw new Error(`no reading of ${deviceId} arrived`);
    hub.publishReadings([reading(deviceId, ts++)]);
    await new Promise((r) => setTimeout(r, 30));
  }
}

let hubServer: HubServer | undefined;
let client: LiveClient | undefined;

afterEach(async () => {
  client?.stop();
  await hubServer?.close();
  hubServer = undefined;
});

describe("viewer live client", () => {
  it("hears what its owners subscribed to, changes subscriptions, and comes back after a server restart", async () => {
    hubServer = await startHub();
    const port = hubServer.port;
    const attempts: number[] = [];
    const statuses: LiveStatus[] = [];
    client = new LiveClient({
      url: `ws://127.0.0.1:${port}/ws`,
      minDelayMs: 50,
      maxDelayMs: 400,
      connect: (url) => {
        attempts.push(Date.now());
        return new WebSocket(url) as unknown as globalThis.WebSocket;
      },
    });
    const heard: Reading[] = [];
    const alarms: LiveAlarmMessage[] = [];
    client.onReadings((r) => heard.push(...r));
    client.onAlarm((a) => alarms.push(a));
    client.onStatus((s) => statuses.push(s));
    client.setSubscriptions("sensors", [{ devices: ["d1"] }]);
    client.setSubscriptions("chart", [{ devices: ["d1"] }]);
    client.start();
    await until(() => client!.status === "open", "the connection");

    await publishUntilHeard(hubServer.hub, heard, "d1");
    hubServer.hub.publishReadings([reading("d2", 1)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(heard.some((r) => r.deviceId === "d2")).toBe(false);

    // One owner moves on: d1 is still wanted by the other owner, d2 now by this one.
    client.setSubscriptions("sensors", [{ devices: ["d2"] }]);
    await publishUntilHeard(hubServer.hub, heard, "d2");
    // The chart owner leaves: d1 is no longer wanted by anyone.
    client.setSubscriptions("chart", []);
    await new Promise((r) => setTimeout(r, 200));
    heard.length = 0;
    hubServer.hub.publishReadings([reading("d1", 2), reading("d2", 2)]);
    await until(() => heard.length > 0, "a reading after the change");
    await new Promise((r) => setTimeout(r, 200));
    expect(heard.map((r) => r.deviceId)).toEqual(["d2"]);

    // Alarms reach every client whatever it subscribed to.
    hubServer.hub.broadcast("alarm", { event: "raised", alarm: { id: 7, deviceId: "d9" }, entry: { id: 1 } });
    await until(() => alarms.length === 1, "the alarm event");
    expect(alarms[0].alarm.id).toBe(7);

    // Server down for 1.5 s: retries back off (50, 100, 200, 400, 400 ms ± 25 %) instead of hammering.
    await hubServer.close();
    hubServer = undefined;
    await until(() => client!.status !== "open", "the disconnect");
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    const retries = attempts.filter((t) => t >= downAt).length;
    expect(retries).toBeGreaterThanOrEqual(3);
    expect(retries).toBeLessThanOrEqual(7);

    // Back on the same port: the client reconnects and sends its subscriptions again by itself.
    hubServer = await startHub(port);
    await until(() => client!.status === "open", "the reconnection");
    expect(client.reconnectCount).toBe(1);
    heard.length = 0;
    await publishUntilHeard(hubServer.hub, heard, "d2");
    hubServer.hub.publishReadings([reading("d1", 3)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(heard.some((r) => r.deviceId === "d1")).toBe(false);
    expect(statuses).toContain("closed");
  });
});
