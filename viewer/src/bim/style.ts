import { Cesium3DTileStyle } from "cesium";
import type { FeatureProperties } from "../selection.ts";

/** What the BIM tools show: a storey, hidden or isolated IFC classes, and "others transparent". */
export interface BimFilter {
  /** Only this storey (the `Storey` property) is shown; null shows every storey. */
  storey: string | null;
  /** IFC classes that are hidden. */
  hiddenClasses: ReadonlySet<string>;
  /** Only this class is shown (or, with `ghost`, drawn opaque while the rest is see-through). */
  isolatedClass: string | null;
  /** Draw the non-focused elements at low alpha instead of hiding them. */
  ghost: boolean;
  /** GlobalId of the selected element: with `ghost`, the rest of the building turns see-through. */
  focusGlobalId: string | null;
}

/** Alpha factor of the see-through ("ghosted") elements. */
export const GHOST_ALPHA = 0.12;

/** A string literal for a 3D Tiles style expression. */
export function styleString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** The style expression of the elements that pass the storey and class filters, or "true". */
export function showExpression(filter: BimFilter): string {
  const parts: string[] = [];
  if (filter.storey !== null) parts.push(`\${Storey} === ${styleString(filter.storey)}`);
  for (const c of [...filter.hiddenClasses].sort()) parts.push(`\${IfcClass} !== ${styleString(c)}`);
  if (filter.isolatedClass !== null && !filter.ghost)
    parts.push(`\${IfcClass} === ${styleString(filter.isolatedClass)}`);
  return parts.length ? parts.join(" && ") : "true";
}

/** With "others transparent": the expression of the elements drawn opaque, or null when nothing is in focus. */
export function focusExpression(filter: BimFilter): string | null {
  if (!filter.ghost) return null;
  const parts: string[] = [];
  if (filter.isolatedClass !== null) parts.push(`\${IfcClass} === ${styleString(filter.isolatedClass)}`);
  if (filter.focusGlobalId !== null) parts.push(`\${GlobalId} === ${styleString(filter.focusGlobalId)}`);
  return parts.length ? parts.map((p) => `(${p})`).join(" || ") : null;
}

/** Cesium style for a BIM layer drawn at `opacity`; white keeps each element's own material colour. */
export function bimStyle(filter: BimFilter, opacity: number): Cesium3DTileStyle {
  const a = opacity.toFixed(3);
  const focus = focusExpression(filter);
  const color = focus
    ? {
        conditions: [
          [focus, `color('white', ${a})`],
          ["true", `color('white', ${(opacity * GHOST_ALPHA).toFixed(3)})`],
        ],
      }
    : `color('white', ${a})`;
  return new Cesium3DTileStyle({ show: showExpression(filter), color });
}

/** Same decision as `showExpression`, for properties already read from a feature. */
export function passesFilter(props: FeatureProperties, filter: BimFilter): boolean {
  if (filter.storey !== null && props.Storey !== filter.storey) return false;
  const ifcClass = typeof props.IfcClass === "string" ? props.IfcClass : "";
  if (filter.hiddenClasses.has(ifcClass)) return false;
  if (filter.isolatedClass !== null && !filter.ghost && ifcClass !== filter.isolatedClass) return false;
  return true;
}
