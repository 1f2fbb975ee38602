import { type Alarm, AlarmListResultSchema } from "../../../models/alarms.ts";
import { type CitySummary, CitySummarySchema } from "../../../models/cockpit.ts";
import { type ReadingRow, ReadingRowSchema } from "../../../models/telemetry.ts";
import { apiUrl } from "../catalog.ts";

async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(apiUrl(path), { signal, headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/**
 * The city's vital signs (GET /api/cockpit/summary), for today in China Standard Time; the device and alarm
 * figures narrowed to an audience's devices when a scope is given.
 */
export async function fetchSummary(
  scope: { department?: string; sharing?: string } = {},
  signal?: AbortSignal,
): Promise<CitySummary> {
  const q = new URLSearchParams();
  if (scope.department) q.set("department", scope.department);
  if (scope.sharing) q.set("sharing", scope.sharing);
  const query = q.size > 0 ? `?${q}` : "";
  return CitySummarySchema.parse(await getJson(`api/cockpit/summary${query}`, signal));
}

/** The most recent alarms (open or not), newest first, for the ticker. */
export async function fetchRecentAlarms(limit: number, signal?: AbortSignal): Promise<Alarm[]> {
  return AlarmListResultSchema.parse(await getJson(`api/alarms?limit=${limit}`, signal)).items;
}

/** Raw readings of one sensor in [from, to]. */
export async function fetchReadings(
  deviceId: string,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<ReadingRow[]> {
  const q = new URLSearchParams({ from: String(Math.floor(from)), to: String(Math.ceil(to)) });
  return ReadingRowSchema.array().parse(
    await getJson(`api/sensors/${encodeURIComponent(deviceId)}/readings?${q}`, signal),
  );
}
