/**
 * Pipe classes after CJJ 61 and their map colours (the same sRGB colours the pipes ingest bakes into
 * the tiles' materials): 给水 blue, 排水/雨水/污水 brown, 燃气 pink, 热力 orange, 电力 red, 通信 green,
 * 工业 black.
 */
export const PIPE_CLASS_CODES = ["JS", "PS", "YS", "WS", "RQ", "RL", "DL", "TX", "GY", "UNKNOWN"] as const;
export type PipeClassCode = (typeof PIPE_CLASS_CODES)[number];

export const PIPE_CLASS_COLORS: Readonly<Record<PipeClassCode, string>> = {
  JS: "#0070c0",
  PS: "#8b4513",
  YS: "#8b4513",
  WS: "#8b4513",
  RQ: "#ff69b4",
  RL: "#ff8c00",
  DL: "#dc143c",
  TX: "#228b22",
  GY: "#1e1e1e",
  UNKNOWN: "#808080",
};

/** Gravity networks (traced by inverts): the ones a longitudinal profile makes sense for. */
export const GRAVITY_CLASSES: ReadonlySet<string> = new Set(["PS", "YS", "WS"]);

export function isPipeClass(value: unknown): value is PipeClassCode {
  return typeof value === "string" && (PIPE_CLASS_CODES as readonly string[]).includes(value);
}
