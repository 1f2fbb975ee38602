import { type Layer, LayerSchema } from "../../models/layer.ts";

/** Reads the layer catalog of the server that served this page. */
export async function fetchLayers(signal?: AbortSignal): Promise<Layer[]> {
  const res = await fetch(new URL("api/layers", baseUrl()), {
    signal,
    headers: { Accept: "application/json" },
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return LayerSchema.array().parse(await res.json());
}

/** URL of a server API path such as "api/bim/demo-bim/storeys" (the API lives at the server root). */
export function apiUrl(path: string): URL {
  return new URL(path, baseUrl());
}

/** Tileset URL of a layer, resolved against the server root (layer URLs are root-relative). */
export function tilesetUrl(layer: Layer): string {
  return new URL(layer.url, baseUrl()).href;
}

// The page may be mounted under a sub-path behind a proxy; the API lives at the server root.
function baseUrl(): string {
  return `${location.origin}/`;
}
