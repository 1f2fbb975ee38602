import { Cesium3DTileStyle } from "cesium";
import { styleString } from "../bim/style.ts";

/** Colours of analysis results drawn over the pipes' own class colours. */
export const RESULT_COLORS = {
  traced: "#00e5ff",
  isolated: "#ff8c1a",
  valve: "#ff1f1f",
  customer: "#ffe600",
} as const;
export type ResultRole = keyof typeof RESULT_COLORS;

/** What the pipes layer style depends on. */
export interface PipeStyleState {
  hiddenClasses: ReadonlySet<string>;
  /** Feature ids by highlight role; a feature in several roles takes the first of valve, customer, isolated, traced. */
  highlight: Partial<Record<ResultRole, readonly string[]>>;
}

const ROLE_ORDER: ResultRole[] = ["valve", "customer", "isolated", "traced"];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Style expression true for features whose `id` is one of `ids`. */
export function idInExpression(ids: readonly string[]): string {
  const pattern = `^(?:${ids.map(escapeRegExp).join("|")})$`;
  return `regExp(${styleString(pattern)}).test(\${id})`;
}

export function showExpression(hidden: ReadonlySet<string>): string {
  const parts = [...hidden].sort().map((c) => `\${pipeClass} !== ${styleString(c)}`);
  return parts.length ? parts.join(" && ") : "true";
}

/**
 * Pipes style: classes can be hidden; analysis results are painted in their role colour (the tileset
 * mixes feature colours into the materials), everything else keeps its class colour (white).
 */
export function pipesStyle(state: PipeStyleState, opacity: number): Cesium3DTileStyle {
  const a = opacity.toFixed(3);
  const conditions: [string, string][] = [];
  for (const role of ROLE_ORDER) {
    const ids = state.highlight[role];
    if (ids?.length) conditions.push([idInExpression(ids), `color('${RESULT_COLORS[role]}', 1.0)`]);
  }
  const any = conditions.length > 0;
  // With a result shown, the other pipes fade a little so the result reads at a glance.
  conditions.push(["true", `color('white', ${(any ? opacity * 0.55 : opacity).toFixed(3)})`]);
  return new Cesium3DTileStyle({
    show: showExpression(state.hiddenClasses),
    color: any ? { conditions } : `color('white', ${a})`,
  });
}
