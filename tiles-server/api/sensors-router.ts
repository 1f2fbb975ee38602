import { type Response, Router } from "express";
import { z } from "zod";
import { DeviceIdSchema } from "../../models/devices.ts";
import {
  LATEST_MAX_DEVICES,
  LATEST_MAX_LIMIT,
  type LatestReading,
  QuantitySchema,
  READING_BUCKETS,
  READINGS_MAX_BUCKETS,
  READINGS_MAX_ROWS,
  type ReadingBucket,
} from "../../models/telemetry.ts";
import { parseOr400 } from "../http/validate.ts";
import type { DeviceStore } from "../iot/device-store.ts";
import type { LatestValues } from "../iot/latest-values.ts";
import type { ReadingStore } from "../iot/reading-store.ts";

const DEFAULT_SPAN_MS = 86_400_000;

/** Epoch milliseconds (digits) or an ISO 8601 date/date-time. */
const instant = z.string().transform((s, ctx) => {
  const ms = /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    ctx.addIssue({
      code: "custom",
      message: `"${s.slice(0, 50)}" is neither epoch milliseconds nor an ISO 8601 date`,
    });
    return z.NEVER;
  }
  return ms;
});

export const ReadingsQuerySchema = z
  .strictObject({
    from: instant.optional(),
    to: instant.optional(),
    bucket: z.enum(Object.keys(READING_BUCKETS) as [ReadingBucket, ...ReadingBucket[]]).optional(),
    format: z.enum(["json", "csv"]).default("json"),
    quantity: z
      .string()
      .transform((s) => s.split(","))
      .pipe(z.array(QuantitySchema).max(100))
      .optional(),
    limit: z.coerce.number().int().min(1).max(READINGS_MAX_ROWS).default(READINGS_MAX_ROWS),
  })
  .transform((q, ctx) => {
    const to = q.to ?? Date.now();
    const from = q.from ?? to - DEFAULT_SPAN_MS;
    if (!(from < to)) {
      ctx.addIssue({ code: "custom", path: ["from"], message: "from must be before to" });
      return z.NEVER;
    }
    if (q.bucket !== undefined && (to - from) / READING_BUCKETS[q.bucket] > READINGS_MAX_BUCKETS) {
      ctx.addIssue({
        code: "custom",
        path: ["bucket"],
        message: `more than ${READINGS_MAX_BUCKETS} buckets of ${q.bucket} in the range; use a wider bucket or a shorter range`,
      });
      return z.NEVER;
    }
    return { ...q, from, to };
  });

export const LatestQuerySchema = z.strictObject({
  devices: z
    .string()
    .transform((s) => s.split(",").map((id) => id.trim()))
    .pipe(z.array(DeviceIdSchema).min(1).max(LATEST_MAX_DEVICES))
    .optional(),
  limit: z.coerce.number().int().min(1).max(LATEST_MAX_LIMIT).default(LATEST_MAX_LIMIT),
  offset: z.coerce.number().int().min(0).default(0),
});

const iso = (ms: number) => new Date(ms).toISOString();

function sendCsv(res: Response, filename: string, header: string, lines: string[]): void {
  res
    .status(200)
    .type("text/csv; charset=utf-8")
    .set("content-disposition", `attachment; filename="${filename}"`)
    .set("cache-control", "no-cache")
    .send(`${header}\n${lines.join("\n")}${lines.length > 0 ? "\n" : ""}`);
}

/**
 * /api/sensors/:deviceId/readings: stored readings, raw or aggregated per bucket in SQL, as JSON or CSV.
 * /api/sensors/latest: each device's last reading per quantity (what a label shows before the next live one).
 */
export function sensorsRouter(devices: DeviceStore, readings: ReadingStore, latest: LatestValues): Router {
  const router = Router();

  router.get("/latest", async (req, res) => {
    const q = parseOr400(LatestQuerySchema, req.query, "query", res);
    if (!q) return;
    const rows = await latest.list({ deviceIds: q.devices, limit: q.limit, offset: q.offset });
    res.set("cache-control", "no-cache").json(rows.map((r): LatestReading => ({ ...r, ts: iso(r.ts) })));
  });

  router.get("/:deviceId/readings", async (req, res) => {
    const id = DeviceIdSchema.safeParse(req.params.deviceId);
    const parsed = ReadingsQuerySchema.safeParse(req.query);
    if (!parsed.success || !id.success) {
      const issues = [...(id.success ? [] : id.error.issues), ...(parsed.success ? [] : parsed.error.issues)];
      res.status(400).json({
        error: `invalid query: ${issues.map((i) => `${i.path.join(".") || "deviceId"}: ${i.message}`).join("; ")}`,
        details: issues,
      });
      return;
    }
    const deviceId = id.data;
    const q = parsed.data;
    if ((await devices.resolve([deviceId])).get(deviceId) === null) {
      res.status(404).json({ error: `device "${deviceId}" not found` });
      return;
    }
    if (q.bucket !== undefined) {
      const rows = await readings.buckets(deviceId, q.from, q.to, q.quantity, READING_BUCKETS[q.bucket]);
      if (q.format === "csv") {
        sendCsv(
          res,
          `${deviceId}-${q.bucket}.csv`,
          "device_id,bucket,quantity,count,min,max,avg",
          rows.map((r) => `${deviceId},${iso(r.bucket)},${r.quantity},${r.count},${r.min},${r.max},${r.avg}`),
        );
        return;
      }
      res.set("cache-control", "no-cache").json(rows.map((r) => ({ ...r, bucket: iso(r.bucket) })));
      return;
    }
    const rows = await readings.readings(deviceId, q.from, q.to, q.quantity, q.limit + 1);
    if (rows.length > q.limit) {
      res.status(400).json({
        error: `more than ${q.limit} readings between ${iso(q.from)} and ${iso(q.to)}: narrow from/to, or aggregate with bucket=1m|1h|1d`,
      });
      return;
    }
    if (q.format === "csv") {
      sendCsv(
        res,
        `${deviceId}-readings.csv`,
        "device_id,ts,quantity,value",
        rows.map((r) => `${deviceId},${iso(r.ts)},${r.quantity},${r.value}`),
      );
      return;
    }
    res
      .set("cache-control", "no-cache")
      .json(rows.map((r) => ({ ts: iso(r.ts), quantity: r.quantity, value: r.value })));
  });

  return router;
}
