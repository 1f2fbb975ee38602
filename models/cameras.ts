import { z } from "zod";

/**
 * Video cameras: registry (position, view direction and field of view, stream), status history and
 * availability (完好率), and the "which cameras see this point" query.
 */

export const CAMERA_STATUSES = ["online", "offline", "fault"] as const;
export type CameraStatus = (typeof CAMERA_STATUSES)[number];

export const CAMERA_STATUS_LABELS: Record<CameraStatus, { zh: string; en: string }> = {
  online: { zh: "在线", en: "Online" },
  offline: { zh: "离线", en: "Offline" },
  fault: { zh: "故障", en: "Fault" },
};

/** HLS (.m3u8) and MP4 play in any browser; FLV needs flv.js / mpegts.js in the viewer. */
export const STREAM_KINDS = ["hls", "mp4", "flv"] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** Default vertical field of view: a 16:9 sensor, vfov = 2·atan(tan(hfov/2)·9/16). */
export function defaultVfov(hfovDeg: number): number {
  const rad = Math.PI / 180;
  return (2 * Math.atan(Math.tan((hfovDeg * rad) / 2) * (9 / 16))) / rad;
}

/** Default farthest distance (m) at which a camera is considered to see a point. */
export const CAMERA_DEFAULT_RANGE = 150;

export const CameraIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, "camera id: letters, digits, _ . : - (max 128)");

/** Guess the stream kind from the URL's extension (.m3u8, .mp4, .flv). */
export function streamKindOf(url: string): StreamKind | undefined {
  const path = url.split(/[?#]/)[0].toLowerCase();
  if (path.endsWith(".m3u8")) return "hls";
  if (path.endsWith(".mp4")) return "mp4";
  if (path.endsWith(".flv")) return "flv";
  return undefined;
}

const CameraBodyShape = {
  name: z.string().min(1).max(200),
  lon: z.number().min(-180).max(180),
  lat: z.number().min(-90).max(90),
  /** Metres above the ellipsoid, like every height in the scene. */
  height: z.number().default(0),
  /** Degrees from north, clockwise (0 north, 90 east). */
  heading: z.number().min(-360).max(360).default(0),
  /** Degrees above the horizon; looking down is negative. */
  pitch: z.number().min(-90).max(90).default(0),
  /** Horizontal field of view in degrees. */
  hfov: z.number().gt(0).lt(180).default(60),
  /** Vertical field of view in degrees; default from hfov and a 16:9 aspect. */
  vfov: z.number().gt(0).lt(180).optional(),
  /** Farthest distance (m) the camera is useful at. */
  range: z.number().gt(0).max(100_000).default(CAMERA_DEFAULT_RANGE),
  streamUrl: z.string().min(1).max(2000).optional(),
  /** Default from the URL's extension. */
  streamKind: z.enum(STREAM_KINDS).optional(),
  /** Initial status (recorded in the status history); default offline until the first report. */
  status: z.enum(CAMERA_STATUSES).default("offline"),
  /** Linked asset: layer id and feature id (e.g. the building or pole it hangs on). */
  layerId: z.string().min(1).max(64).optional(),
  featureId: z.string().min(1).max(200).optional(),
  department: z.string().max(200).optional(),
};

function checkStream(c: { streamUrl?: string; streamKind?: StreamKind }, ctx: z.RefinementCtx) {
  if (c.streamUrl !== undefined && c.streamKind === undefined && streamKindOf(c.streamUrl) === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["streamKind"],
      message:
        "cannot tell the stream kind from the URL (.m3u8, .mp4, .flv): give streamKind (hls, mp4, flv)",
    });
  }
}

/** Body of POST /api/cameras. */
export const CreateCameraSchema = z
  .object({
    id: CameraIdSchema,
    ...CameraBodyShape,
    /** When the initial status was observed (epoch ms or ISO 8601), e.g. the installation date; default now. */
    statusAt: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })]).optional(),
  })
  .strict()
  .superRefine(checkStream);
export type CreateCamera = z.input<typeof CreateCameraSchema>;

/** Body of PUT /api/cameras/:id (the whole camera except its id and status, which has its own endpoint). */
const { status: _status, ...UpdateShape } = CameraBodyShape;
export const UpdateCameraSchema = z.object(UpdateShape).strict().superRefine(checkStream);
export type UpdateCamera = z.input<typeof UpdateCameraSchema>;

export const CameraSchema = z.object({
  id: CameraIdSchema,
  name: z.string(),
  lon: z.number(),
  lat: z.number(),
  height: z.number(),
  heading: z.number(),
  pitch: z.number(),
  hfov: z.number(),
  vfov: z.number(),
  range: z.number(),
  streamUrl: z.string().nullable(),
  streamKind: z.enum(STREAM_KINDS).nullable(),
  status: z.enum(CAMERA_STATUSES),
  /** When the current status began. */
  statusAt: z.string(),
  /** Last status report of any kind. */
  lastSeen: z.string().nullable(),
  layerId: z.string().nullable(),
  featureId: z.string().nullable(),
  department: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Camera = z.infer<typeof CameraSchema>;

/** Body of POST /api/cameras/:id/status (from the video platform or an operator). */
export const CameraStatusReportSchema = z
  .object({
    status: z.enum(CAMERA_STATUSES),
    /** When it was observed (epoch ms or ISO 8601); default now. */
    at: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })]).optional(),
    note: z.string().max(500).optional(),
  })
  .strict();
export type CameraStatusReport = z.infer<typeof CameraStatusReportSchema>;

export const CameraStatusReportResultSchema = z.object({
  camera: CameraSchema,
  /** False when the status did not change (only lastSeen moved). */
  changed: z.boolean(),
});

export const CameraStatusEntrySchema = z.object({
  at: z.string(),
  status: z.enum(CAMERA_STATUSES),
  note: z.string().nullable(),
});

export const CameraNearQuerySchema = z
  .object({
    lon: z.coerce.number().min(-180).max(180),
    lat: z.coerce.number().min(-90).max(90),
    /** Metres above the ellipsoid; default 0. */
    height: z.coerce.number().default(0),
    /** Search radius in metres (horizontal). */
    radius: z.coerce.number().gt(0).max(50_000).default(500),
    limit: z.coerce.number().int().min(1).max(500).default(20),
  })
  .strict();

export const NearCameraSchema = CameraSchema.extend({
  /** Horizontal distance from the point (m). */
  distance: z.number(),
  /** 3D distance from the camera to the point (m). */
  distance3d: z.number(),
  /** Bearing from the camera to the point, degrees clockwise from north. */
  bearing: z.number(),
  /** The point is inside the camera's view frustum (field of view and range). */
  sees: z.boolean(),
});
export type NearCamera = z.infer<typeof NearCameraSchema>;

export const CameraAvailabilityQuerySchema = z
  .object({
    day: z.iso.date(),
    /** The day's time zone as a UTC offset; default +08:00 (China Standard Time). */
    utcOffset: z
      .string()
      .regex(/^[+-](?:[01]\d|2[0-3]):[0-5]\d$/, "UTC offset like +08:00")
      .default("+08:00"),
  })
  .strict();

export const CameraAvailabilitySchema = z.object({
  day: z.string(),
  from: z.string(),
  /** End of the day, or now for today. */
  to: z.string(),
  cameras: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      onlineSeconds: z.number(),
      /** Seconds of the period the camera was known (from its first status record on). */
      knownSeconds: z.number(),
      /** onlineSeconds / knownSeconds (null when the camera did not exist yet). */
      rate: z.number().nullable(),
    }),
  ),
  /** Σ online / Σ known over all cameras (完好率). */
  overall: z.number().nullable(),
});
export type CameraAvailability = z.infer<typeof CameraAvailabilitySchema>;
