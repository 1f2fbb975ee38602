import type { NodeKind, PipeClass } from "../../../models/pipes.ts";

/** Pipe class codes and names of CJJ 61-2017 (and the sub-classes surveys use), node kinds, depth conventions. */

const CODES: ReadonlySet<string> = new Set(["JS", "PS", "YS", "WS", "RQ", "RL", "DL", "TX", "GY"]);

/** Sub-class codes seen in survey deliverables, folded into the nine classes. */
const SUB_CODES: Record<string, PipeClass> = {
  SS: "JS", // 上水
  ZS: "JS", // 中水
  XS: "JS", // 循环水
  HS: "PS", // 合流
  MQ: "RQ", // 煤气
  TR: "RQ", // 天然气
  YH: "RQ", // 液化气
  RS: "RL", // 热水
  ZQ: "RL", // 蒸汽
  LD: "DL", // 路灯
  XH: "DL", // 交通信号
  GD: "DL", // 供电
  DX: "TX", // 电信
  YD: "TX", // 移动
  LT: "TX", // 联通
  DS: "TX", // 有线电视
};

/** Chinese names, most specific first (雨水 / 污水 before 排水). */
const NAMES: readonly [string, PipeClass][] = [
  ["雨水", "YS"],
  ["雨污合流", "PS"],
  ["污水", "WS"],
  ["合流", "PS"],
  ["排水", "PS"],
  ["给水", "JS"],
  ["上水", "JS"],
  ["供水", "JS"],
  ["自来水", "JS"],
  ["中水", "JS"],
  ["再生水", "JS"],
  ["燃气", "RQ"],
  ["煤气", "RQ"],
  ["天然气", "RQ"],
  ["液化气", "RQ"],
  ["热力", "RL"],
  ["供热", "RL"],
  ["热水", "RL"],
  ["蒸汽", "RL"],
  ["电力", "DL"],
  ["供电", "DL"],
  ["路灯", "DL"],
  ["信号", "DL"],
  ["通信", "TX"],
  ["通讯", "TX"],
  ["电信", "TX"],
  ["移动", "TX"],
  ["联通", "TX"],
  ["有线电视", "TX"],
  ["广电", "TX"],
  ["工业", "GY"],
  ["化工", "GY"],
  ["输油", "GY"],
];

function codeClass(code: string): PipeClass | undefined {
  const c = code.toUpperCase();
  if (CODES.has(c)) return c as PipeClass;
  return SUB_CODES[c];
}

/** A class column value (code like "JS", name like "给水" / "雨水管线", or a user-mapped value) → class. */
export function classFromValue(
  value: string,
  userClasses?: Record<string, PipeClass>,
): PipeClass | undefined {
  const v = value.replace(/\s+/g, "");
  if (!v) return undefined;
  if (userClasses) {
    for (const [k, c] of Object.entries(userClasses)) if (k.replace(/\s+/g, "") === v) return c;
  }
  if (v.toUpperCase() === "UNKNOWN") return "UNKNOWN";
  const code = codeClass(v);
  if (code) return code;
  for (const [name, c] of NAMES) if (v.includes(name)) return c;
  return undefined;
}

/**
 * A point id's class prefix: a class code followed by a non-letter ("JS12", "YS-003", "WS_5"); user-mapped prefixes
 * (mapping.classes keys) are tried first, longest first.
 */
export function classFromPointId(id: string, userClasses?: Record<string, PipeClass>): PipeClass | undefined {
  const v = id.trim();
  if (userClasses) {
    const keys = Object.keys(userClasses).sort((a, b) => b.length - a.length);
    for (const k of keys) {
      if (k && v.toUpperCase().startsWith(k.toUpperCase()) && !/^[A-Z]/i.test(v.slice(k.length))) {
        return userClasses[k];
      }
    }
  }
  const m = /^([A-Za-z]{2})(?![A-Za-z])/.exec(v);
  return m ? codeClass(m[1]) : undefined;
}

/** A class from a file name: a code as a separate token ("JS_点.csv", "管线点_YS.xlsx") or a Chinese name. */
export function classFromFileName(file: string): PipeClass | undefined {
  const stem = file.replace(/#.*$/, "").replace(/\.[^.]+$/, "");
  for (const m of stem.matchAll(/(?<![A-Za-z])([A-Za-z]{2})(?![A-Za-z])/g)) {
    const c = codeClass(m[1]);
    if (c) return c;
  }
  for (const [name, c] of NAMES) if (stem.includes(name)) return c;
  // A worksheet named after the class ("file.xlsx#给水").
  const sheet = /#(.*)$/.exec(file)?.[1];
  return sheet ? classFromValue(sheet) : undefined;
}

/** Keyword → node kind for 附属物 / 特征 values, checked in order (阀门井 is a valve, 水表井 a meter). */
const KIND_WORDS: readonly [RegExp, NodeKind][] = [
  [/排放口|出水口|排出口|出口/, "outfall"],
  [/消防栓|消火栓/, "hydrant"],
  [/水表|流量计|计量/, "meter"],
  [/阀/, "valve"],
  [/化粪池|调蓄池|蓄水池|隔油池|沉淀池/, "storage"],
  [/水塔|水箱/, "tank"],
  [/井|篦|箅|雨水口|人孔|手孔/, "well"],
  [/^(直线点|直通|三通|四通|五通|多通|弯头|弯管|拐点|转折点|变径|变材|交叉点?|连接点|管线点)$/, "junction"],
];

/** Node kind from 附属物 (first) and 特征; a plain connection or nothing is a junction, anything else a feature. */
export function nodeKind(
  appurtenance: string | null,
  feature: string | null,
  userKinds?: Record<string, NodeKind>,
): NodeKind {
  for (const value of [appurtenance, feature]) {
    const v = value?.replace(/\s+/g, "");
    if (!v) continue;
    if (userKinds && v in userKinds) return userKinds[v];
    for (const [re, kind] of KIND_WORDS) if (re.test(v)) return kind;
  }
  if (appurtenance?.trim() || feature?.trim()) return "feature";
  return "junction";
}

/** What a recorded depth (埋深) measures to: the pipe bottom (invert) or the top of the pipe / duct. */
export type DepthReference = "invert" | "top";

/**
 * CJJ 61-2017: drainage depths are to the inside bottom of the pipe (管内底), pressure pipes, cables and ducts to
 * the top (管顶 / 管块顶). Unknown classes are treated as the majority (top).
 */
export const DEFAULT_DEPTH_CONVENTION: Readonly<Record<PipeClass, DepthReference>> = {
  JS: "top",
  PS: "invert",
  YS: "invert",
  WS: "invert",
  RQ: "top",
  RL: "top",
  DL: "top",
  TX: "top",
  GY: "top",
  UNKNOWN: "top",
};
