import { z } from "zod";
import {
  type BimClassCount,
  BimClassCountSchema,
  type BimElement,
  BimElementSchema,
  type BimElementSearchResult,
  BimElementSearchResultSchema,
  type BimStorey,
  BimStoreySchema,
} from "../../../models/bim.ts";
import { apiUrl } from "../catalog.ts";

export type { BimClassCount, BimElement, BimElementSearchResult, BimStorey };

async function getJson<T>(path: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path), { signal, headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return schema.parse(await res.json());
}

const base = (layerId: string) => `api/bim/${encodeURIComponent(layerId)}`;

/** Storeys of a BIM layer, ordered by elevation (a last `name: null` entry counts elements outside storeys). */
export function fetchStoreys(layerId: string, signal?: AbortSignal): Promise<BimStorey[]> {
  return getJson(`${base(layerId)}/storeys`, z.array(BimStoreySchema), signal);
}

export function fetchClasses(layerId: string, signal?: AbortSignal): Promise<BimClassCount[]> {
  return getJson(`${base(layerId)}/classes`, z.array(BimClassCountSchema), signal);
}

/** Elements whose name contains `q` (case-insensitive) or whose GlobalId starts with it. */
export function searchElements(
  layerId: string,
  q: string,
  limit = 50,
  signal?: AbortSignal,
): Promise<BimElementSearchResult> {
  const params = new URLSearchParams({ q, limit: String(limit) });
  return getJson(`${base(layerId)}/elements?${params}`, BimElementSearchResultSchema, signal);
}

export function fetchElement(layerId: string, globalId: string, signal?: AbortSignal): Promise<BimElement> {
  return getJson(`${base(layerId)}/elements/${encodeURIComponent(globalId)}`, BimElementSchema, signal);
}
