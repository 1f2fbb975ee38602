import type { Viewer } from "cesium";

/** A result as a table (CSV) and as features (GeoJSON). */
export interface ExportableResult {
  name: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
  geojson: GeoJSON.FeatureCollection;
}

/** RFC 4180 CSV with a UTF-8 byte order mark, so spreadsheet programs read Chinese names correctly. */
export function toCsv(result: ExportableResult): string {
  const cell = (v: string | number | boolean | null) => {
    const s = v === null ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [result.columns, ...result.rows].map((r) => r.map(cell).join(","));
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

export function download(filename: string, data: Blob | string, type = "text/plain"): void {
  const blob = typeof data === "string" ? new Blob([data], { type }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * PNG of the 3D view. The WebGL drawing buffer is cleared after each frame is shown, so the frame is rendered
 * and read back in the same task instead of keeping preserveDrawingBuffer on (which costs every frame).
 */
export function snapshotPng(viewer: Viewer): string {
  // The viewer renders on demand: without a request, render() would draw nothing new into the cleared buffer.
  viewer.scene.requestRender();
  viewer.render();
  return viewer.scene.canvas.toDataURL("image/png");
}

export function dataUrlToBlob(dataUrl: string): Blob {
  const [head, body] = dataUrl.split(",");
  const type = /data:([^;]+)/.exec(head)?.[1] ?? "application/octet-stream";
  const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}
