import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Reading } from "../../models/telemetry.ts";
import { WsHub } from "../../tiles-server/ws/hub.ts";
import { LiveClient, sleep } from "./support/iot-helpers.ts";

const SENSORS = 100;
const deviceIds = Array.from({ length: SENSORS }, (_, i) => `ws-${i}`);

async function hubServer(opts: { slowClientBytes?: number; pingIntervalMs?: number }) {
  const hub = new WsHub({
    logger: pino({ enabled: false }),
    deviceInfo: (id) => ({ id, lon: 118.3, lat: 33.9, layerId: null, tokenHash: null }),
    ...opts,
  });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  hub.attach(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    hub,
    url,
    close: async () => {
      hub.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function batch(round: number): Reading[] {
  // ~1 KB of padding-free JSON per 10 readings; 100 readings per batch.
  return deviceIds.map((deviceId) => ({
    deviceId,
    ts: 1_700_000_000_000 + round,
    quantity: "level",
    value: round,
  }));
}

describe("WebSocket hub", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it("gives a client that stops reading the latest value per sensor, never an unbounded queue", async () => {
    const { hub, url, close } = await hubServer({ slowClientBytes: 64 * 1024 });
    cleanup = close;
    const fast = await LiveClient.connect(url);
    const slow = await LiveClient.connect(url);
    await fast.subscribe({ devices: deviceIds });
    await slow.subscribe({ devices: deviceIds });
    // The slow client's process stops reading its socket: the kernel buffers fill, then the server's.
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();

    const rounds = 3000;
    let maxPending = 0;
    for (let round = 0; round < rounds; round++) {
      hub.publishReadings(batch(round));
      if (round % 20 === 0) {
        await sleep(1);
        maxPending = Math.max(maxPending, hub.stats().coalescedPending);
      }
    }
    await fast.waitFor(() => fast.readings.length === rounds * SENSORS, 30_000);
    const held = hub.stats();
    expect(held.coalescedReadings).toBeGreaterThan(0);
    // Held back: at most one reading per sensor, however many rounds went by.
    expect(maxPending).toBeLessThanOrEqual(SENSORS);
    expect(held.coalescedPending).toBe(SENSORS);

    socket.resume();
    await slow.waitFor(
      () => slow.messages.some((m) => m.type === "readings" && m.coalesced === true),
      30_000,
    );
    await sleep(300);
    const latest = new Map<string, number>();
    for (const r of slow.readings) latest.set(r.deviceId, Math.max(latest.get(r.deviceId) ?? -1, r.value));
    expect([...latest.values()]).toEqual(deviceIds.map(() => rounds - 1));
    // It got far fewer readings than were published: the backlog was coalesced, not queued.
    expect(slow.readings.length).toBeLessThan((rounds * SENSORS) / 2);
    expect(hub.stats().coalescedPending).toBe(0);
    fast.close();
    slow.close();
  });

  it("drops a client that stops answering pings and keeps the live ones", async () => {
    const { hub, url, close } = await hubServer({ pingIntervalMs: 200 });
    cleanup = close;
    const alive = await LiveClient.connect(url);
    const dead = await LiveClient.connect(url);
    await sleep(50);
    expect(hub.clientCount).toBe(2);
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const until = Date.now() + 5000;
    while (hub.clientCount > 1 && Date.now() < until) await sleep(50);
    expect(hub.clientCount).toBe(1);
    await alive.subscribe({ devices: ["ws-1"] });
    hub.publishReadings(batch(1));
    await alive.waitFor(() => alive.readings.length === 1, 5000);
    alive.close();
  });
});
