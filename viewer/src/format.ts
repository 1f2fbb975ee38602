import { t } from "./i18n.ts";

/** Units for property keys whose meaning is unambiguous; anything else is shown bare. */
const UNIT_BY_KEY: Record<string, "m" | "m2" | "m3" | "floors"> = {
  height: "m",
  base: "m",
  elevation: "m",
  minheight: "m",
  maxheight: "m",
  groundheight: "m",
  roofheight: "m",
  area: "m2",
  floorarea: "m2",
  footprintarea: "m2",
  floors: "floors",
  // Heights the ingest derives (cim_height/cim_base) are metres too.
  cimheight: "m",
  cimbase: "m",
  // BIM: storey elevation and the IFC base quantities (Qto_*), which IFC defines in SI units.
  storeyelevation: "m",
  length: "m",
  width: "m",
  depth: "m",
  perimeter: "m",
  netarea: "m2",
  grossarea: "m2",
  netfloorarea: "m2",
  grossfloorarea: "m2",
  netsidearea: "m2",
  grosssidearea: "m2",
  netplannedarea: "m2",
  netvolume: "m3",
  grossvolume: "m3",
};

function unitFor(key: string): string {
  const unit = UNIT_BY_KEY[key.toLowerCase().replace(/[_\s-]/g, "")];
  return unit ? t(`units.${unit}`) : "";
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  // Identifiers and counts stay exact; measurements get at most two decimals, no trailing zeros.
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toFixed(2)));
}

/** Human-readable value of one metadata property; strings (Chinese included) pass through untouched. */
export function formatValue(key: string, value: unknown): string {
  if (value === undefined || value === null || value === "") return "—";
  if (typeof value === "number") {
    const unit = unitFor(key);
    const text = formatNumber(value);
    return unit ? `${text} ${unit}` : text;
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value ? t("values.yes") : t("values.no");
  if (Array.isArray(value)) return value.map((v) => formatValue("", v)).join(", ");
  if (ArrayBuffer.isView(value))
    return Array.from(value as unknown as ArrayLike<number>, formatNumber).join(", ");
  if (typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Translated label for well-known keys; unknown keys are data and are shown as they are. */
export function labelFor(key: string): string | undefined {
  const k = `keys.${key}`;
  const label = t(k);
  return label === k ? undefined : label;
}
