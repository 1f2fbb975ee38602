import { z } from "zod";
import { AlarmStatsSchema, InstantSchema } from "./alarms.ts";
import { CameraAvailabilityQuerySchema, CameraAvailabilitySchema } from "./cameras.ts";
import { SHARING_CLASS_IDS } from "./devices.ts";

/**
 * The leaders' cockpit (大屏): the city's vital signs in one response, and the last hours of sensor
 * values in buckets for the time-travel replay.
 */

/** "+08:00" style, default China Standard Time: the same parameter as the cameras' availability. */
const UtcOffsetSchema = CameraAvailabilityQuerySchema.shape.utcOffset;

/** Milliseconds east of UTC of an offset like "+08:00". */
export function utcOffsetMs(offset: string): number {
  const sign = offset.startsWith("-") ? -1 : 1;
  const [h, m] = offset.slice(1).split(":").map(Number);
  return sign * (h * 60 + m) * 60_000;
}

export const CitySummaryQuerySchema = z
  .object({
    /** The day "today" means; default the current day at utcOffset. */
    day: z.iso.date().optional(),
    /** The city's time zone as a UTC offset; default +08:00 (China Standard Time). */
    utcOffset: UtcOffsetSchema,
    /** Only the devices (and their alarms) of one owner department: a department's cockpit. */
    department: z.string().min(1).max(200).optional(),
    /** Only the devices (and their alarms) of one data-sharing class: `unconditional` for the public. */
    sharing: z.enum(SHARING_CLASS_IDS).optional(),
  })
  .strict();
export type CitySummaryQuery = z.infer<typeof CitySummaryQuerySchema>;

const CountOnline = z.object({ total: z.number().int(), online: z.number().int() });

export const CitySummarySchema = z.object({
  generatedAt: z.string(),
  day: z.string(),
  utcOffset: z.string(),
  /** The audience the device and alarm figures are narrowed to (none: the whole city). */
  scope: z.object({
    department: z.string().optional(),
    sharing: z.enum(SHARING_CLASS_IDS).optional(),
  }),
  devices: CountOnline.extend({
    /** online / total, null without devices. A device is online when its last reading is newer than its
     * offline rule's first (yellow) limit, device rule before type rule, 15 min without either. */
    onlineRate: z.number().nullable(),
    byType: z.record(z.string(), CountOnline),
  }),
  /** Alarms raised since the start of the day, and open alarms by stage and level. */
  alarms: AlarmStatsSchema,
  /** Alarms raised per hour of the day (index 0 = 00:00-01:00 local), by peak level. */
  alarmsByHour: z.object({
    red: z.array(z.number().int()),
    orange: z.array(z.number().int()),
    yellow: z.array(z.number().int()),
    blue: z.array(z.number().int()),
  }),
  cameras: z.object({
    total: z.number().int(),
    /** Cameras whose current status is online. */
    online: z.number().int(),
    /** The day's availability (完好率) over all cameras, null before any is known. */
    availability: CameraAvailabilitySchema.shape.overall,
  }),
  pipes: z.object({
    /** Metres of pipe per class code (e.g. JS water, PS sewer, RQ gas) over all pipe layers: the recorded
     * length of each segment, or its length along the drawn path where none was recorded. */
    lengthByClass: z.record(z.string(), z.number()),
    totalLength: z.number(),
    segments: z.number().int(),
  }),
  layers: z.object({
    buildings: z.number().int().describe("Features in building (white-model) layers"),
    bimModels: z.number().int().describe("BIM layers"),
    bimElements: z.number().int(),
    pipeLayers: z.number().int(),
    pointClouds: z.number().int(),
    realityMeshes: z.number().int(),
  }),
});
export type CitySummary = z.infer<typeof CitySummarySchema>;

export const REPLAY_MAX_SPAN_MS = 7 * 24 * 3600_000;
export const REPLAY_BUCKETS = { "1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000 } as const;

export const ReplayQuerySchema = z
  .object({
    /** Window start; default `to` - 24 h. */
    from: InstantSchema.optional(),
    /** Window end; default now. */
    to: InstantSchema.optional(),
    bucket: z.enum(Object.keys(REPLAY_BUCKETS) as [keyof typeof REPLAY_BUCKETS]).default("5m"),
    /** Only these devices (comma-separated ids); default all. */
    devices: z.string().max(20_000).optional(),
  })
  .strict();

/**
 * Sensor values of a window in fixed buckets: `series[deviceId][quantity]` is a list of
 * [bucket index, last value in the bucket] for the buckets that had readings.
 */
export const ReplaySchema = z.object({
  from: z.string(),
  to: z.string(),
  bucketMs: z.number().int(),
  buckets: z.number().int(),
  series: z.record(z.string(), z.record(z.string(), z.array(z.tuple([z.number().int(), z.number()])))),
});
export type Replay = z.infer<typeof ReplaySchema>;
