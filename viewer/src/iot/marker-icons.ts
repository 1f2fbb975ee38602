import { type SensorState, STATE_COLORS } from "./sensor-state.ts";

/**
 * Marker images drawn once per state on a 2D canvas and handed to Cesium as data URLs: billboards with
 * the same URL share one texture-atlas slot, so 1000 markers cost 6 images, not 1000.
 */
const cache = new Map<string, string>();

function draw(key: string, size: number, paint: (g: CanvasRenderingContext2D, size: number) => void): string {
  let url = cache.get(key);
  if (url) return url;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  paint(canvas.getContext("2d")!, size);
  url = canvas.toDataURL("image/png");
  cache.set(key, url);
  return url;
}

/** A sensor: a filled dot with a dark rim (readable on white buildings and dark ground alike). */
export function sensorIcon(state: SensorState): string {
  return draw(`sensor:${state}`, 24, (g, s) => {
    g.beginPath();
    g.arc(s / 2, s / 2, s / 2 - 2, 0, Math.PI * 2);
    g.fillStyle = "rgba(10, 14, 22, 0.85)";
    g.fill();
    g.beginPath();
    g.arc(s / 2, s / 2, s / 2 - 5, 0, Math.PI * 2);
    g.fillStyle = STATE_COLORS[state];
    g.fill();
    g.lineWidth = 1.5;
    g.strokeStyle = "rgba(255, 255, 255, 0.9)";
    g.stroke();
  });
}

/** The ring that pulses around an alarming sensor (scaled and faded every frame). */
export function pulseIcon(state: SensorState): string {
  return draw(`pulse:${state}`, 64, (g, s) => {
    g.beginPath();
    g.arc(s / 2, s / 2, s / 2 - 4, 0, Math.PI * 2);
    g.lineWidth = 5;
    g.strokeStyle = STATE_COLORS[state];
    g.stroke();
  });
}

/** A cluster: the count in a disc coloured by its worst member. */
export function clusterIcon(state: SensorState, count: number): string {
  const text = count >= 1000 ? `${Math.floor(count / 1000)}k` : String(count);
  const size = count >= 100 ? 44 : 36;
  return draw(`cluster:${state}:${text}`, size, (g, s) => {
    g.beginPath();
    g.arc(s / 2, s / 2, s / 2 - 1, 0, Math.PI * 2);
    g.fillStyle = "rgba(10, 14, 22, 0.85)";
    g.fill();
    g.beginPath();
    g.arc(s / 2, s / 2, s / 2 - 4, 0, Math.PI * 2);
    g.fillStyle = STATE_COLORS[state];
    g.globalAlpha = 0.9;
    g.fill();
    g.globalAlpha = 1;
    g.font = `bold ${s >= 44 ? 14 : 13}px sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillStyle = state === "yellow" || state === "normal" ? "#101820" : "#ffffff";
    g.fillText(text, s / 2, s / 2 + 1);
  });
}
