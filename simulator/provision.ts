import type { AlarmRule, AlarmRuleInput } from "../models/alarms.ts";
import type { Camera, CreateCamera } from "../models/cameras.ts";
import type { CreateDevice, Device } from "../models/devices.ts";
import { fetchDevices, requestJson } from "./server-api.ts";

/** A fleet to register: devices, cameras and device-scope alarm rules. */
export interface Fleet {
  devices: CreateDevice[];
  cameras: CreateCamera[];
  rules: AlarmRuleInput[];
}

export interface ProvisionResult {
  devicesCreated: number;
  camerasCreated: number;
  rulesCreated: number;
}

/**
 * Registers a fleet through the server's HTTP API (admin token), skipping what already exists: devices and
 * cameras by id, rules by (target, kind, quantity). Running it again on a restarted server changes nothing.
 */
export async function provisionFleet(
  serverUrl: string,
  adminToken: string,
  fleet: Fleet,
): Promise<ProvisionResult> {
  const token = adminToken;
  const existingDevices = new Set((await fetchDevices(serverUrl)).map((d: Device) => d.id));
  const newDevices = fleet.devices.filter((d) => !existingDevices.has(d.id));
  if (newDevices.length > 0) {
    await requestJson(serverUrl, "/api/devices", { method: "POST", body: newDevices, token });
  }

  const existingCameras = new Set((await requestJson<Camera[]>(serverUrl, "/api/cameras")).map((c) => c.id));
  const newCameras = fleet.cameras.filter((c) => !existingCameras.has(c.id));
  for (const camera of newCameras) {
    await requestJson(serverUrl, "/api/cameras", { method: "POST", body: camera, token });
  }

  const ruleKey = (r: { target: string; kind: string; quantity?: string | null }) =>
    `${r.target}|${r.kind}|${r.quantity ?? ""}`;
  const existingRules = new Set(
    (await requestJson<AlarmRule[]>(serverUrl, "/api/alarm-rules?scope=device")).map(ruleKey),
  );
  const newRules = fleet.rules.filter((r) => r.scope === "device" && !existingRules.has(ruleKey(r)));
  for (const rule of newRules) {
    await requestJson(serverUrl, "/api/alarm-rules", { method: "POST", body: rule, token });
  }
  return {
    devicesCreated: newDevices.length,
    camerasCreated: newCameras.length,
    rulesCreated: newRules.length,
  };
}
