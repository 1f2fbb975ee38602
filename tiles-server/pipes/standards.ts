import type { PipeClass } from "../../models/pipes.ts";

export interface Clearance {
  /** Minimum clear horizontal distance between outer walls, metres. */
  horizontal: number;
  /** Minimum clear vertical distance between outer walls where they cross, metres. */
  vertical: number;
}

/**
 * Default minimum clearances between pipelines of different classes, simplified from GB 50289-2016
 * 《城市工程管线综合规划规范》 table 4.1.9 (horizontal) and table 4.1.14 (vertical, crossing): the values for
 * ordinary cases (给水 d ≤ 200 mm, 中低压燃气, 直埋电力/通信). Check the standard for a specific project;
 * the table can be replaced per request later. Key: the two classes in PIPE_CLASSES order joined by "-".
 *
 * | pair   | horiz. | vert. |   | pair   | horiz. | vert. |
 * |--------|--------|-------|---|--------|--------|-------|
 * | JS-PS  | 1.0    | 0.40  |   | RQ-RL  | 1.0    | 0.15  |
 * | JS-YS  | 1.0    | 0.40  |   | RQ-DL  | 1.0    | 0.50  |
 * | JS-WS  | 1.0    | 0.40  |   | RQ-TX  | 1.0    | 0.50  |
 * | JS-RQ  | 0.5    | 0.15  |   | RL-DL  | 2.0    | 0.50  |
 * | JS-RL  | 1.5    | 0.15  |   | RL-TX  | 1.0    | 0.25  |
 * | JS-DL  | 0.5    | 0.50  |   | DL-TX  | 0.5    | 0.50  |
 * | JS-TX  | 1.0    | 0.50  |   | drainage-drainage (PS/YS/WS) | 0.5 | 0.15 |
 * | PS/YS/WS-RQ | 1.0 | 0.15 | | PS/YS/WS-RL | 1.5 | 0.15 |
 * | PS/YS/WS-DL | 0.5 | 0.50 | | PS/YS/WS-TX | 1.0 | 0.50 |
 * | GY with anything: DEFAULT_CLEARANCE (1.0 / 0.25); UNKNOWN is never checked |
 */
export const DEFAULT_CLEARANCE: Clearance = { horizontal: 1.0, vertical: 0.25 };

const c = (horizontal: number, vertical: number): Clearance => ({ horizontal, vertical });
const DRAINAGE = ["PS", "YS", "WS"] as const;

function buildClearanceTable(): Record<string, Clearance> {
  const t: Record<string, Clearance> = {
    "JS-RQ": c(0.5, 0.15),
    "JS-RL": c(1.5, 0.15),
    "JS-DL": c(0.5, 0.5),
    "JS-TX": c(1.0, 0.5),
    "RQ-RL": c(1.0, 0.15),
    "RQ-DL": c(1.0, 0.5),
    "RQ-TX": c(1.0, 0.5),
    "RL-DL": c(2.0, 0.5),
    "RL-TX": c(1.0, 0.25),
    "DL-TX": c(0.5, 0.5),
    "PS-YS": c(0.5, 0.15),
    "PS-WS": c(0.5, 0.15),
    "YS-WS": c(0.5, 0.15),
  };
  for (const d of DRAINAGE) {
    t[`JS-${d}`] = c(1.0, 0.4);
    t[`${d}-RQ`] = c(1.0, 0.15);
    t[`${d}-RL`] = c(1.5, 0.15);
    t[`${d}-DL`] = c(0.5, 0.5);
    t[`${d}-TX`] = c(1.0, 0.5);
  }
  return t;
}

export const DEFAULT_CLEARANCE_TABLE: Readonly<Record<string, Clearance>> = buildClearanceTable();

/**
 * Default minimum cover depth (ground to top of pipe) by class, metres, after GB 50289-2016 table 4.1.1
 * (under carriageways): 给水 0.70, 排水 (PS/YS/WS) 0.70, 燃气 0.90, 热力 0.70, 电力 0.70, 通信 0.70, 工业 0.70.
 * UNKNOWN is not checked.
 */
export const DEFAULT_MIN_COVER: Readonly<Partial<Record<PipeClass, number>>> = {
  JS: 0.7,
  PS: 0.7,
  YS: 0.7,
  WS: 0.7,
  RQ: 0.9,
  RL: 0.7,
  DL: 0.7,
  TX: 0.7,
  GY: 0.7,
};
