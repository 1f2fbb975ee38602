import type { Layer } from "../../../models/layer.ts";
import {
  type PipeIsolationResult,
  PipeIsolationResultSchema,
  type PipeTraceResult,
  PipeTraceResultSchema,
} from "../../../models/pipe-analysis.ts";
import { apiUrl, tilesetUrl } from "../catalog.ts";

export type { PipeIsolationResult, PipeTraceResult };

export async function getJson(url: URL | string, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(url, { signal, headers: { Accept: "application/json" } });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: string };
      if (body.error) message = body.error;
    } catch {
      // Not JSON: the status says enough.
    }
    throw new Error(message);
  }
  return res.json();
}

const base = (layerId: string) => `api/pipes/${encodeURIComponent(layerId)}`;

export async function fetchTrace(
  layerId: string,
  from: string,
  fromType: "link" | "node",
  direction: "up" | "down",
  signal?: AbortSignal,
): Promise<PipeTraceResult> {
  const q = new URLSearchParams({ from, fromType, direction });
  return PipeTraceResultSchema.parse(await getJson(apiUrl(`${base(layerId)}/trace?${q}`), signal));
}

export async function fetchIsolation(
  layerId: string,
  link: string,
  signal?: AbortSignal,
): Promise<PipeIsolationResult> {
  const q = new URLSearchParams({ link });
  return PipeIsolationResultSchema.parse(await getJson(apiUrl(`${base(layerId)}/isolate?${q}`), signal));
}

/** The parts of network.json (written next to tileset.json) the viewer uses: positions and elevations. */
export interface NetworkNode {
  id: string;
  kind: string;
  pipeClass: string;
  lon: number;
  lat: number;
  groundElevation: number | null;
  invertElevation: number | null;
}
export interface NetworkLink {
  id: string;
  pipeClass: string;
  from: string;
  to: string;
  fromInvert: number | null;
  toInvert: number | null;
  path: [number, number, number][];
}
export interface PipeNetwork {
  nodes: Map<string, NetworkNode>;
  links: Map<string, NetworkLink>;
}

export async function fetchNetwork(layer: Layer, signal?: AbortSignal): Promise<PipeNetwork> {
  const url = tilesetUrl(layer).replace(/tileset\.json(\?.*)?$/, "network.json");
  const raw = (await getJson(url, signal)) as { nodes?: NetworkNode[]; links?: NetworkLink[] };
  return {
    nodes: new Map((raw.nodes ?? []).map((n) => [n.id, n])),
    links: new Map((raw.links ?? []).map((l) => [l.id, l])),
  };
}
