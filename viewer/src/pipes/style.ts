import { type Cesium3DTileFeature, Cesium3DTileStyle, Color } from "cesium";

/** Colours of analysis results drawn over the pipes' own class colours. */
export const RESULT_COLORS = {
  traced: "#00e5ff",
  isolated: "#ff8c1a",
  valve: "#ff1f1f",
  customer: "#ffe600",
} as const;
export type ResultRole = keyof typeof RESULT_COLORS;

/**
 * Colour that live state gives a feature regardless of the analysis (a pipe segment with an open alarm on
 * a sensor linked to it), or undefined. Set by the IoT asset colouring (viewer/src/iot/asset-colouring.ts).
 */
export type FeatureColorOverlay = (feature: Cesium3DTileFeature) => Color | undefined;
let overlay: FeatureColorOverlay | undefined;

/** Installs (or removes) the overlay; callers restyle the pipes layers when what it returns changes. */
export function setFeatureColorOverlay(fn: FeatureColorOverlay | undefined): void {
  overlay = fn;
}

/** What the pipes layer style depends on. */
export interface PipeStyleState {
  hiddenClasses: ReadonlySet<string>;
  /** Feature ids by highlight role; a feature in several roles takes the first of valve, customer, isolated, traced. */
  highlight: Partial<Record<ResultRole, readonly string[]>>;
}

const ROLE_ORDER: ResultRole[] = ["valve", "customer", "isolated", "traced"];
const ROLE_COLORS = Object.fromEntries(
  ROLE_ORDER.map((r) => [r, Color.fromCssColorString(RESULT_COLORS[r])]),
) as Record<ResultRole, Color>;

/**
 * Pipes style: classes can be hidden; analysis results are painted in their role colour (the tileset
 * mixes feature colours into the materials), everything else keeps its class colour (white).
 *
 * A city-wide trace returns some 100,000 ids. The 3D Tiles style language can only test them one by one (a regular
 * expression or a chain of conditions, evaluated per feature), so the style is given as Cesium's StyleExpression
 * objects instead (`evaluate` / `evaluateColor`), which look each feature up in a Map.
 *
 * An alarm colour from the feature colour overlay wins over analysis roles: it is usually why the analysis is run.
 */
export function pipesStyle(state: PipeStyleState, opacity: number): Cesium3DTileStyle {
  const roleOf = new Map<string, ResultRole>();
  // Later roles must not override earlier ones: fill from the lowest priority up.
  for (const role of [...ROLE_ORDER].reverse())
    for (const id of state.highlight[role] ?? []) roleOf.set(id, role);
  // With a result shown, the other pipes fade a little so the result reads at a glance.
  const rest = new Color(1, 1, 1, roleOf.size > 0 ? opacity * 0.55 : opacity);
  const hidden = state.hiddenClasses;
  const style = new Cesium3DTileStyle();
  style.show = {
    evaluate: (feature: Cesium3DTileFeature) =>
      hidden.size === 0 || !hidden.has(String(feature.getProperty("pipeClass"))),
  } as unknown as Cesium3DTileStyle["show"];
  style.color = {
    evaluateColor: (feature: Cesium3DTileFeature, result?: Color) => {
      const alarm = overlay?.(feature);
      if (alarm) return Color.clone(alarm, result);
      const role = roleOf.get(String(feature.getProperty("id")));
      return Color.clone(role ? ROLE_COLORS[role] : rest, result);
    },
  } as unknown as Cesium3DTileStyle["color"];
  return style;
}
