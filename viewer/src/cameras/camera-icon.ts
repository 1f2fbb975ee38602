import type { CameraStatus } from "../../../models/cameras.ts";

export const STATUS_COLORS: Record<CameraStatus, string> = {
  online: "#2ecc71",
  offline: "#9aa4b2",
  fault: "#ff5252",
};

const cache = new Map<CameraStatus, string>();

/** A surveillance-camera glyph on a round badge in the status colour, as an SVG data URL for a billboard. */
export function cameraIcon(status: CameraStatus): string {
  let url = cache.get(status);
  if (url === undefined) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">
<circle cx="20" cy="20" r="18" fill="${STATUS_COLORS[status]}" stroke="#0b0f17" stroke-width="2"/>
<rect x="8" y="14" width="17" height="12" rx="2" fill="#fff"/>
<path d="M25 18 L32 14 L32 26 L25 22 Z" fill="#fff"/>
<circle cx="14" cy="20" r="2.6" fill="${STATUS_COLORS[status]}"/>
</svg>`;
    url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    cache.set(status, url);
  }
  return url;
}
