import { z } from "zod";

/**
 * Sensor kinds of the IoT registry, with UI labels and the unit a reading carries unless the
 * device says otherwise. Keys are stable API values; labels are for display only.
 */
export const DEVICE_TYPES = {
  pipe_pressure: { zh: "管网压力", en: "Pipe pressure", unit: "MPa" },
  flow: { zh: "流量", en: "Flow", unit: "m³/h" },
  water_level: { zh: "液位", en: "Water level", unit: "m" },
  gas_concentration: { zh: "可燃气体浓度", en: "Gas concentration", unit: "%LEL" },
  manhole_cover: { zh: "井盖倾斜/开启", en: "Manhole cover tilt/open", unit: "°" },
  temperature: { zh: "温度", en: "Temperature", unit: "°C" },
  smoke: { zh: "烟感", en: "Smoke", unit: "dB/m" },
  electrical_leakage: { zh: "电气火灾剩余电流", en: "Electrical-fire leakage current", unit: "mA" },
  cable_temperature: { zh: "电缆温度", en: "Cable temperature", unit: "°C" },
  pm25: { zh: "PM2.5", en: "PM2.5", unit: "µg/m³" },
  pm10: { zh: "PM10", en: "PM10", unit: "µg/m³" },
  noise: { zh: "噪声", en: "Noise", unit: "dB(A)" },
  water_quality: { zh: "水质", en: "Water quality", unit: "mg/L" },
  crowd_count: { zh: "人流计数", en: "Crowd count", unit: "人" },
} as const satisfies Record<string, { zh: string; en: string; unit: string }>;
export type DeviceType = keyof typeof DEVICE_TYPES;
export const DEVICE_TYPE_IDS = Object.keys(DEVICE_TYPES) as [DeviceType, ...DeviceType[]];

/**
 * Data-sharing classes of the government data-sharing rules (政务数据共享):
 * unconditional (无条件共享), conditional (有条件共享), not shared (不予共享).
 */
export const SHARING_CLASSES = {
  unconditional: { zh: "无条件共享", en: "Shared unconditionally" },
  conditional: { zh: "有条件共享", en: "Shared on conditions" },
  none: { zh: "不予共享", en: "Not shared" },
} as const;
export type SharingClass = keyof typeof SHARING_CLASSES;
export const SHARING_CLASS_IDS = Object.keys(SHARING_CLASSES) as [SharingClass, ...SharingClass[]];

/** Device ids appear in MQTT topics (`cim/<id>/telemetry`), so no '/', '+', '#' or spaces. */
export const DeviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, "device id: letters, digits, _ . : - (max 128)");

const lon = z.number().min(-180).max(180);
const lat = z.number().min(-90).max(90);

/** A device as the registry returns it. */
export const DeviceSchema = z.object({
  id: DeviceIdSchema,
  type: z.enum(DEVICE_TYPE_IDS),
  name: z.string().min(1).max(200),
  /** Unit of its readings; defaults to the type's unit. */
  unit: z.string().max(32).nullable(),
  lon,
  lat,
  /** Metres above the ellipsoid (negative: underground, e.g. in a pipe). */
  height: z.number(),
  /** Linked asset: layer id and feature id (pipe segment, well, building, BIM GlobalId). */
  layerId: z.string().max(64).nullable(),
  featureId: z.string().max(200).nullable(),
  /** Owner department (权属部门). */
  department: z.string().max(200).nullable(),
  sharing: z.enum(SHARING_CLASS_IDS),
  createdAt: z.string(),
  lastSeen: z.string().nullable(),
});
export type Device = z.infer<typeof DeviceSchema>;

/** Body of POST /api/devices (one object or an array of them). */
export const CreateDeviceSchema = z.object({
  id: DeviceIdSchema,
  type: z.enum(DEVICE_TYPE_IDS),
  name: z.string().min(1).max(200),
  unit: z.string().max(32).optional(),
  lon,
  lat,
  height: z.number().default(0),
  layerId: z.string().min(1).max(64).optional(),
  featureId: z.string().min(1).max(200).optional(),
  department: z.string().max(200).optional(),
  sharing: z.enum(SHARING_CLASS_IDS).default("conditional"),
  /** Bearer token for POST /api/telemetry; generated (and returned once) when absent. */
  token: z.string().min(16).max(200).optional(),
});
export type CreateDevice = z.input<typeof CreateDeviceSchema>;

/** Most devices one POST /api/devices may create. */
export const DEVICE_BATCH_MAX = 10_000;

/** Answer of POST /api/devices: the created devices, each with its token (shown only here). */
export const CreatedDeviceSchema = DeviceSchema.extend({ token: z.string() });
export type CreatedDevice = z.infer<typeof CreatedDeviceSchema>;

export const DEVICE_LIST_DEFAULT_LIMIT = 10_000;
export const DEVICE_LIST_MAX_LIMIT = 100_000;
