import { z } from "zod";
import { DeviceIdSchema } from "./devices.ts";

/** Largest telemetry message (MQTT payload or one HTTP item) accepted. */
export const TELEMETRY_MAX_PAYLOAD_BYTES = 64 * 1024;
/** Most quantities in one message. */
export const TELEMETRY_MAX_VALUES = 256;

/** Quantity names become CSV columns and JSON keys: short, no separators or control characters. */
export const QuantitySchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/, "quantity: letters, digits, _ . - (max 64)");

const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$|^\d{4}-\d{2}-\d{2}$/;

/** Epoch milliseconds or an ISO 8601 date-time (with zone, or a bare date = UTC midnight). */
export const TimestampSchema = z.union([
  z.number().finite(),
  z
    .string()
    .max(40)
    .regex(ISO_8601, "ts: ISO 8601 with a time zone, e.g. 2026-11-21T08:00:00+08:00")
    .refine((s) => Number.isFinite(Date.parse(s)), "ts: not a real date"),
]);

/** Converts a validated timestamp to epoch ms. */
export function timestampToMs(ts: z.infer<typeof TimestampSchema>): number {
  return typeof ts === "number" ? ts : Date.parse(ts);
}

/**
 * MQTT payload on `cim/<deviceId>/telemetry`:
 * `{"ts": <epoch ms | ISO 8601>, "values": {"<quantity>": <number>, ...}}`.
 */
export const TelemetryPayloadSchema = z.strictObject({
  ts: TimestampSchema,
  values: z
    .record(QuantitySchema, z.number().finite())
    .refine((v) => Object.keys(v).length > 0, "values: at least one quantity")
    .refine((v) => Object.keys(v).length <= TELEMETRY_MAX_VALUES, `values: at most ${TELEMETRY_MAX_VALUES}`),
});
export type TelemetryPayload = z.infer<typeof TelemetryPayloadSchema>;

/** One item of POST /api/telemetry: a payload plus the device it belongs to. */
export const TelemetryItemSchema = TelemetryPayloadSchema.extend({ deviceId: DeviceIdSchema });
export type TelemetryItem = z.infer<typeof TelemetryItemSchema>;

/** Most items in one POST /api/telemetry. */
export const TELEMETRY_BATCH_MAX = 10_000;

/** Body of POST /api/telemetry. */
export const TelemetryBatchSchema = z.strictObject({
  readings: z.array(z.unknown()).min(1).max(TELEMETRY_BATCH_MAX),
});

/** One stored reading; `ts` in epoch milliseconds. Passed to `onCommitted` listeners and sent on /ws. */
export interface Reading {
  deviceId: string;
  ts: number;
  quantity: string;
  value: number;
}

/** Why a message was rejected; the keys of the rejection counters. */
export const REJECT_REASONS = [
  "bad_topic",
  "payload_too_large",
  "bad_json",
  "invalid_payload",
  "ts_out_of_range",
  "unknown_device",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** GET /api/telemetry/stats: counters since the server started. */
export const TelemetryStatsSchema = z.object({
  /** Messages (MQTT publishes or HTTP items) received. */
  messagesReceived: z.number().int(),
  /** Messages committed (each may hold several readings). */
  messagesCommitted: z.number().int(),
  /** Readings newly written. */
  readingsWritten: z.number().int(),
  /** Readings already stored (a QoS 1 redelivery or a resent HTTP batch), skipped. */
  readingsDuplicate: z.number().int(),
  /** Rejected messages by reason. */
  rejected: z.record(z.enum(REJECT_REASONS), z.number().int()),
  rejectedTotal: z.number().int(),
  /** Messages waiting for the database (not yet acknowledged). */
  pending: z.number().int(),
  /** Failed write attempts (each retried with backoff). */
  writeFailures: z.number().int(),
  batchesCommitted: z.number().int(),
  /** Source of MQTT telemetry: embedded broker or an external one. */
  mqtt: z.object({ mode: z.enum(["embedded", "external", "off"]), url: z.string().nullable() }),
});
export type TelemetryStats = z.infer<typeof TelemetryStatsSchema>;

/** Bucket widths of GET /api/sensors/{id}/readings?bucket= */
export const READING_BUCKETS = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 } as const;
export type ReadingBucket = keyof typeof READING_BUCKETS;

/** A stored reading as the history API returns it. */
export const ReadingRowSchema = z.object({
  ts: z.string().describe("ISO 8601, UTC"),
  quantity: z.string(),
  value: z.number(),
});
export type ReadingRow = z.infer<typeof ReadingRowSchema>;

/** A device's last reading of one quantity, as GET /api/sensors/latest returns it. */
export const LatestReadingSchema = z.object({
  deviceId: z.string(),
  quantity: z.string(),
  ts: z.string().describe("ISO 8601, UTC"),
  value: z.number(),
});
export type LatestReading = z.infer<typeof LatestReadingSchema>;

/** Ids one GET /api/sensors/latest?devices= may name. */
export const LATEST_MAX_DEVICES = 1000;
/** Rows one GET /api/sensors/latest page may return. */
export const LATEST_MAX_LIMIT = 100_000;

/** One aggregated bucket (start inclusive, UTC-aligned). */
export const ReadingBucketRowSchema = z.object({
  bucket: z.string().describe("Bucket start, ISO 8601, UTC"),
  quantity: z.string(),
  count: z.number().int(),
  min: z.number(),
  max: z.number(),
  avg: z.number(),
});
export type ReadingBucketRow = z.infer<typeof ReadingBucketRowSchema>;

/** Raw readings one history request may return (more: narrow the range or aggregate). */
export const READINGS_MAX_ROWS = 100_000;
/** Buckets one history request may return. */
export const READINGS_MAX_BUCKETS = 100_000;

/**
 * Messages the server sends on /ws (JSON text frames):
 * - `{"type":"readings","readings":[{deviceId,ts,quantity,value},...]}` live readings;
 * - `{"type":"subscribed","devices":n}` after a subscribe message;
 * - `{"type":"error","error":"..."}` for a bad client message;
 * - other `type`s pushed by server features (e.g. alarms) through the hub's broadcast().
 *
 * Client messages: `{"subscribe":{"devices":[ids]}}`, `{"subscribe":{"bbox":[w,s,e,n]}}`,
 * `{"subscribe":{"layer":"id"}}` (subscriptions add up), `{"unsubscribe":true}`.
 */
export const WsClientMessageSchema = z.union([
  z.strictObject({
    subscribe: z.union([
      z.strictObject({ devices: z.array(DeviceIdSchema).min(1).max(100_000) }),
      z.strictObject({
        bbox: z
          .tuple([
            z.number().min(-180).max(180),
            z.number().min(-90).max(90),
            z.number().min(-180).max(180),
            z.number().min(-90).max(90),
          ])
          .refine(([w, s, e, n]) => w <= e && s <= n, "bbox: west <= east and south <= north"),
      }),
      z.strictObject({ layer: z.string().min(1).max(64) }),
    ]),
  }),
  z.strictObject({ unsubscribe: z.literal(true) }),
]);
export type WsClientMessage = z.infer<typeof WsClientMessageSchema>;
