/**
 * Deterministic, smooth sensor noise: a sum of slow sinusoids whose periods and phases come from a hash of the
 * device and quantity. Smooth on purpose: the alarm engine's rate rules divide the change between two readings by
 * the time between them, so white noise would look like a fast change whenever readings come close together; this
 * noise changes at most ~2.2 x its amplitude per minute, however often it is sampled.
 */

/** FNV-1a 32-bit hash of a string. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A number in [0, 1) fixed for a key: per-device constants such as a sensor's offset or a counter's capacity. */
export function unitHash(key: string): number {
  return hash32(key) / 4294967296;
}

/** Shortest period of the noise (s): bounds how fast it can change. */
export const NOISE_MIN_PERIOD_S = 90;
const PERIODS_S = [NOISE_MIN_PERIOD_S, 260, 1100] as const;
const WEIGHTS = [0.35, 0.4, 0.55] as const;

/**
 * Noise in about [-amplitude, +amplitude] (standard deviation ~0.5 x amplitude) at real time `epochMs`,
 * different for every key. Its rate of change stays below ~2.2 x amplitude per minute.
 */
export function smoothNoise(key: string, epochMs: number, amplitude: number): number {
  const t = epochMs / 1000;
  let sum = 0;
  for (let i = 0; i < PERIODS_S.length; i++) {
    const u = unitHash(`${key}#${i}`);
    const period = PERIODS_S[i] * (0.8 + 0.4 * u);
    sum += WEIGHTS[i] * Math.sin((2 * Math.PI * t) / period + 2 * Math.PI * unitHash(`${key}@${i}`));
  }
  return (amplitude * sum) / (WEIGHTS[0] + WEIGHTS[1] + WEIGHTS[2]);
}
