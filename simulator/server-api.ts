import type { Device } from "../models/devices.ts";

/**
 * The few server HTTP calls the simulator makes, like any client outside the server process: it only talks HTTP
 * and MQTT, never the server's code.
 */

export class ServerApiError extends Error {}

async function call(serverUrl: string, path: string, init?: RequestInit): Promise<Response> {
  const url = new URL(path, serverUrl).toString();
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (err as Error).message;
    throw new ServerApiError(`cannot reach ${url} (${cause}): is the CIM Twin server running?`);
  }
}

export async function requestJson<T>(
  serverUrl: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await call(serverUrl, path, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new ServerApiError(`${init.method ?? "GET"} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Every registered device (GET /api/devices). */
export function fetchDevices(serverUrl: string): Promise<Device[]> {
  return requestJson<Device[]>(serverUrl, "/api/devices?limit=100000");
}
