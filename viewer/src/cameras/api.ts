import {
  type Camera,
  CameraAvailabilitySchema,
  CameraSchema,
  type NearCamera,
  NearCameraSchema,
} from "../../../models/cameras.ts";
import { apiUrl } from "../catalog.ts";

async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(apiUrl(path), { signal, headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

export async function fetchCameras(signal?: AbortSignal): Promise<Camera[]> {
  return CameraSchema.array().parse(await getJson("api/cameras", signal));
}

/** Cameras within `radius` metres of a point, nearest first, each saying whether it sees the point. */
export async function fetchNearCameras(
  lon: number,
  lat: number,
  opts: { height?: number; radius?: number; limit?: number } = {},
): Promise<NearCamera[]> {
  const query = new URLSearchParams({
    lon: String(lon),
    lat: String(lat),
    height: String(opts.height ?? 0),
    radius: String(opts.radius ?? 500),
    limit: String(opts.limit ?? 10),
  });
  return NearCameraSchema.array().parse(await getJson(`api/cameras/near?${query}`));
}

/** China Standard Time: the day 完好率 is counted over (the server's default day offset). */
const CST_OFFSET_MS = 8 * 3_600_000;

/** Today's availability (完好率, 0..1) per camera id, or an empty map if the server cannot tell. */
export async function fetchTodayAvailability(signal?: AbortSignal): Promise<Map<string, number | null>> {
  const day = new Date(Date.now() + CST_OFFSET_MS).toISOString().slice(0, 10);
  const report = CameraAvailabilitySchema.parse(await getJson(`api/cameras/availability?day=${day}`, signal));
  return new Map(report.cameras.map((c) => [c.id, c.rate]));
}
