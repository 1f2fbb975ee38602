import { type Alarm, type AlarmAction, AlarmListResultSchema, AlarmSchema } from "../../../models/alarms.ts";
import { DEVICE_LIST_MAX_LIMIT, type Device, DeviceSchema } from "../../../models/devices.ts";
import {
  LATEST_MAX_LIMIT,
  type LatestReading,
  LatestReadingSchema,
  type ReadingBucket,
  ReadingBucketRowSchema,
  ReadingRowSchema,
} from "../../../models/telemetry.ts";
import { apiUrl } from "../catalog.ts";
import { getJson } from "../pipes/api.ts";

export type { Alarm, Device };

/** Every row of a paged list endpoint (`path` takes limit/offset), page by page until a short one. */
async function fetchAllPages<T>(
  path: string,
  pageSize: number,
  parse: (json: unknown) => T[],
  signal?: AbortSignal,
): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = parse(await getJson(apiUrl(`${path}?limit=${pageSize}&offset=${offset}`), signal));
    all.push(...page);
    if (page.length < pageSize) return all;
  }
}

/** Every registered device (the registry's own limit caps one page; the viewer reads them all). */
export function fetchDevices(signal?: AbortSignal): Promise<Device[]> {
  return fetchAllPages("api/devices", DEVICE_LIST_MAX_LIMIT, (x) => DeviceSchema.array().parse(x), signal);
}

/** Every device's last reading per quantity (paged like the registry). */
export function fetchLatestReadings(signal?: AbortSignal): Promise<LatestReading[]> {
  return fetchAllPages(
    "api/sensors/latest",
    LATEST_MAX_LIMIT,
    (x) => LatestReadingSchema.array().parse(x),
    signal,
  );
}

export async function fetchDevice(id: string, signal?: AbortSignal): Promise<Device | undefined> {
  try {
    return DeviceSchema.parse(await getJson(apiUrl(`api/devices/${encodeURIComponent(id)}`), signal));
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}

/** One point of a sensor's history: raw reading or a bucket's average. */
export interface HistoryPoint {
  ts: number;
  quantity: string;
  value: number;
}

/** Readings in [from, to]: raw, or bucket averages when `bucket` is given (long ranges). */
export async function fetchHistory(
  deviceId: string,
  from: number,
  to: number,
  bucket: ReadingBucket | undefined,
  signal?: AbortSignal,
): Promise<HistoryPoint[]> {
  const q = new URLSearchParams({ from: String(Math.floor(from)), to: String(Math.ceil(to)) });
  if (bucket) q.set("bucket", bucket);
  const json = await getJson(apiUrl(`api/sensors/${encodeURIComponent(deviceId)}/readings?${q}`), signal);
  if (bucket) {
    return ReadingBucketRowSchema.array()
      .parse(json)
      .map((r) => ({ ts: Date.parse(r.bucket), quantity: r.quantity, value: r.avg }));
  }
  return ReadingRowSchema.array()
    .parse(json)
    .map((r) => ({ ts: Date.parse(r.ts), quantity: r.quantity, value: r.value }));
}

/** Alarms not closed yet, most recent first. */
export async function fetchOpenAlarms(signal?: AbortSignal): Promise<Alarm[]> {
  return AlarmListResultSchema.parse(await getJson(apiUrl("api/alarms?status=open&limit=1000"), signal))
    .items;
}

export class UnauthorizedError extends Error {}

/** POST /api/alarms/:id/transitions with the operator's token. */
export async function postTransition(
  alarmId: number,
  body: { action: AlarmAction; by: string; note?: string; assignee?: string },
  token: string,
): Promise<Alarm> {
  const res = await fetch(apiUrl(`api/alarms/${alarmId}/transitions`), {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      Authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: string; alarm?: unknown };
  if (res.status === 401) throw new UnauthorizedError(json.error ?? "HTTP 401");
  if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
  return AlarmSchema.parse(json.alarm);
}
