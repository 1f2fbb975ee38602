import type { IfcValue } from "./ifc-types.ts";

/** web-ifc's attribute objects: {value} for labels and enums, {_representationValue} for measures. */
type Attr = { value?: unknown; _representationValue?: unknown; name?: string } | null | undefined;

export function attrText(a: Attr): string | null {
  if (a === null || a === undefined) return null;
  const v = a.value ?? a._representationValue;
  return v === null || v === undefined ? null : String(v);
}

export function attrNumber(a: Attr): number | null {
  if (a === null || a === undefined) return null;
  const v = a._representationValue ?? a.value;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

/** Typed value of an IFC measure/label/boolean as users expect to see it. */
export function ifcValue(a: Attr): IfcValue | null {
  if (a === null || a === undefined) return null;
  const kind = (a.name ?? "").toUpperCase();
  const raw = a._representationValue ?? a.value;
  if (raw === null || raw === undefined) return null;
  if (kind === "IFCBOOLEAN" || kind === "IFCLOGICAL") {
    if (typeof raw === "boolean") return raw;
    const t = String(raw).replace(/\./g, "").toUpperCase();
    if (t === "T" || t === "TRUE") return true;
    if (t === "F" || t === "FALSE") return false;
    return "UNKNOWN";
  }
  if (typeof raw === "number" || typeof raw === "boolean") return raw;
  return String(raw);
}

/** IfcCompoundPlaneAngleMeasure (degrees, minutes, seconds, millionths of a second) to decimal degrees. */
export function compoundAngle(parts: unknown): number | null {
  const v = (parts as { value?: unknown })?.value ?? parts;
  if (!Array.isArray(v) || v.length < 3) return null;
  const [d, m, s, us = 0] = v.map((x) => Number((x as { value?: unknown })?.value ?? x));
  const deg = d + m / 60 + s / 3600 + us / 3.6e9;
  return Number.isFinite(deg) ? deg : null;
}
