import type { NodeKind, PipeClass } from "../../../models/pipes.ts";

/**
 * Display colours of pipe classes after CJJ 61 (城市地下管线探测技术规程) map conventions, as sRGB 0-255:
 * 给水 JS blue (0,112,192); 排水 PS / 雨水 YS / 污水 WS brown (139,69,19); 燃气 RQ pink (255,105,180);
 * 热力 RL orange (255,140,0); 电力 DL red (220,20,60); 通信 TX green (34,139,34); 工业 GY black (30,30,30);
 * unknown grey (128,128,128).
 */
export const PIPE_CLASS_RGB: Readonly<Record<PipeClass, readonly [number, number, number]>> = {
  JS: [0, 112, 192],
  PS: [139, 69, 19],
  YS: [139, 69, 19],
  WS: [139, 69, 19],
  RQ: [255, 105, 180],
  RL: [255, 140, 0],
  DL: [220, 20, 60],
  TX: [34, 139, 34],
  GY: [30, 30, 30],
  UNKNOWN: [128, 128, 128],
};

/** Node symbols share their class colour, lightened a little per kind so kinds can be told apart. */
const NODE_LIGHTEN: Partial<Record<NodeKind, number>> = {
  well: 0.15,
  storage: 0.25,
  valve: 0.3,
  hydrant: 0.4,
  meter: 0.5,
  outfall: 0.35,
  reservoir: 0.2,
  tank: 0.45,
};

/** Linear RGBA (as glTF material factors) of a link (kind undefined) or a node symbol of the given class. */
export function pipeColor(pipeClass: PipeClass, nodeKind?: NodeKind): [number, number, number, number] {
  const t = nodeKind ? (NODE_LIGHTEN[nodeKind] ?? 0.2) : 0;
  const [r, g, b] = PIPE_CLASS_RGB[pipeClass].map((c) => srgbToLinear((c + (255 - c) * t) / 255));
  return [r, g, b, 1];
}

function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}
