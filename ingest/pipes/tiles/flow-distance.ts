/**
 * Distance along the flow for the flow-direction animation (shaders/pipe-flow.glsl): every vertex of a link gets
 * the distance in metres from the link's upstream end to the closest point of its centreline, so that stripes
 * whose phase is that distance minus time travel downstream. Nodes get NO_FLOW (no animation).
 */
export const NO_FLOW = -1;

type P3 = readonly [number, number, number];

/** Cumulative lengths of a polyline's vertices. */
export function cumulativeLengths(path: readonly P3[]): number[] {
  const cum = [0];
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1];
    const b = path[i];
    cum.push(cum[i - 1] + Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]));
  }
  return cum;
}

/** Distance along `path` (from its first point) of the point of the path closest to (x, y, z). */
export function distanceAlong(
  path: readonly P3[],
  cum: readonly number[],
  x: number,
  y: number,
  z: number,
): number {
  let best = Number.POSITIVE_INFINITY;
  let along = 0;
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1];
    const b = path[i];
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const dz = b[2] - a[2];
    const len2 = dx * dx + dy * dy + dz * dz;
    const t =
      len2 > 0 ? Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy + (z - a[2]) * dz) / len2)) : 0;
    const px = a[0] + dx * t - x;
    const py = a[1] + dy * t - y;
    const pz = a[2] + dz * t - z;
    const d2 = px * px + py * py + pz * pz;
    if (d2 < best) {
      best = d2;
      along = cum[i - 1] + t * (cum[i] - cum[i - 1]);
    }
  }
  return along;
}
