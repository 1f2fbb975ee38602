import { createHash, timingSafeEqual } from "node:crypto";
import express, { type Request, Router } from "express";
import { DeviceIdSchema } from "../../models/devices.ts";
import { type Reading, TELEMETRY_BATCH_MAX, TELEMETRY_MAX_PAYLOAD_BYTES } from "../../models/telemetry.ts";
import type { DeviceStore } from "../iot/device-store.ts";
import type { TelemetryService } from "../iot/telemetry-service.ts";
import type { WsHub } from "../ws/hub.ts";

function bearer(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return match?.[1];
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

interface ItemError {
  index: number;
  deviceId?: string;
  reason: string;
  error: string;
}

/**
 * /api/telemetry: POST a batch of readings (admin token, or a device's own token for its own
 * readings); all items are validated first and the batch is written only if every item is
 * valid, so a 400 means nothing was stored. 200 is sent only after the commit.
 */
export function telemetryRouter(opts: {
  service: TelemetryService;
  devices: DeviceStore;
  hub: WsHub;
  adminToken: string;
}): Router {
  const { service, devices } = opts;
  const router = Router();

  router.get("/stats", (_req, res) => {
    res.set("cache-control", "no-store").json({ ...service.stats(), websocket: opts.hub.stats() });
  });

  const raw = express.raw({ type: () => true, limit: TELEMETRY_BATCH_MAX * 1024 });
  router.post("/", raw, async (req, res) => {
    const token = bearer(req);
    let tokenDevice: string | undefined;
    if (token === undefined) {
      res.status(401).set("www-authenticate", 'Bearer realm="cim-twin"').json({
        error: "token required: send Authorization: Bearer <device token or admin token>",
      });
      return;
    }
    const isAdmin = sameSecret(token, opts.adminToken);
    if (!isAdmin) {
      try {
        tokenDevice = await devices.deviceForToken(token);
      } catch {
        res.status(503).json({ error: "database unavailable, retry later" });
        return;
      }
      if (tokenDevice === undefined) {
        res.status(401).set("www-authenticate", 'Bearer realm="cim-twin"').json({ error: "unknown token" });
        return;
      }
    }

    const bodyBytes: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let body: unknown;
    try {
      body = JSON.parse(bodyBytes.toString("utf8"));
    } catch (err) {
      service.countReceived(1);
      service.reject("bad_json", (err as Error).message, { source: "http" });
      res.status(400).json({ error: `request body is not valid JSON: ${(err as Error).message}` });
      return;
    }
    const items = Array.isArray(body)
      ? body
      : typeof body === "object" && body !== null && Array.isArray((body as { readings?: unknown }).readings)
        ? (body as { readings: unknown[] }).readings
        : undefined;
    if (items === undefined || items.length === 0 || items.length > TELEMETRY_BATCH_MAX) {
      service.countReceived(1);
      service.reject("invalid_payload", "body is not {readings:[...]}", { source: "http" });
      res.status(400).json({
        error: `body must be {"readings": [{"deviceId", "ts", "values"}, ...]} with 1..${TELEMETRY_BATCH_MAX} items`,
      });
      return;
    }
    service.countReceived(items.length);

    const errors: ItemError[] = [];
    const parsedItems: { deviceId: string; readings: Reading[] }[] = [];
    const now = Date.now();
    items.forEach((item, index) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        errors.push({ index, reason: "invalid_payload", error: "item is not an object" });
        return;
      }
      const { deviceId, ...payload } = item as Record<string, unknown>;
      const id = DeviceIdSchema.safeParse(deviceId);
      if (!id.success) {
        errors.push({ index, reason: "invalid_payload", error: `deviceId: ${id.error.issues[0].message}` });
        return;
      }
      if (tokenDevice !== undefined && id.data !== tokenDevice) {
        errors.push({
          index,
          deviceId: id.data,
          reason: "forbidden",
          error: `the token belongs to device "${tokenDevice}", not "${id.data}"`,
        });
        return;
      }
      if (JSON.stringify(payload).length > TELEMETRY_MAX_PAYLOAD_BYTES) {
        errors.push({ index, deviceId: id.data, reason: "payload_too_large", error: "item over 64 KiB" });
        return;
      }
      const parsed = service.parsePayload(id.data, payload, now);
      if (!parsed.ok) errors.push({ index, deviceId: id.data, reason: parsed.reason, error: parsed.message });
      else parsedItems.push({ deviceId: parsed.deviceId, readings: parsed.readings });
    });

    if (errors.length === 0 && tokenDevice === undefined) {
      try {
        const known = await devices.resolve(parsedItems.map((p) => p.deviceId));
        items.forEach((_item, index) => {
          const id = parsedItems[index]?.deviceId;
          if (id !== undefined && known.get(id) === null) {
            errors.push({
              index,
              deviceId: id,
              reason: "unknown_device",
              error: `device "${id}" is not registered`,
            });
          }
        });
      } catch {
        res.status(503).json({ error: "database unavailable, retry later" });
        return;
      }
    }
    if (errors.length > 0) {
      for (const e of errors) {
        if (e.reason !== "forbidden") {
          service.reject(e.reason as Parameters<TelemetryService["reject"]>[0], e.error, {
            source: "http",
            index: e.index,
          });
        }
      }
      const forbidden = errors.some((e) => e.reason === "forbidden");
      res.status(forbidden ? 403 : 400).json({
        error: `${errors.length} of ${items.length} items rejected, nothing stored; first: item ${errors[0].index}: ${errors[0].error}`,
        details: errors.slice(0, 1000),
      });
      return;
    }

    const results = await Promise.all(parsedItems.map((p) => service.submit(p.deviceId, p.readings)));
    const failed = results.findIndex((r) => r.status !== "committed");
    if (failed >= 0) {
      const r = results[failed];
      if (r.status === "rejected") {
        res.status(400).json({ error: `item ${failed}: ${r.message}` });
      } else {
        res.status(503).json({ error: "server is shutting down; readings not stored, retry" });
      }
      return;
    }
    res
      .status(200)
      .json({ accepted: items.length, readings: parsedItems.reduce((n, p) => n + p.readings.length, 0) });
  });

  return router;
}
