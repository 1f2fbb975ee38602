import { t } from "../i18n.ts";
import type { FeatureProperties } from "../selection.ts";
import { pipeClassLabel } from "./pipe-panel.ts";

/** Properties in metres whose values get the unit appended. */
const METRE_KEYS = new Set([
  "diameter",
  "width",
  "height",
  "fromInvert",
  "toInvert",
  "length",
  "groundElevation",
  "invertElevation",
]);

/** The common keys first, in reading order; the survey's own columns follow as the tiles list them. */
const ORDER = [
  "id",
  "feature",
  "kind",
  "pipeClass",
  "from",
  "to",
  "sectionShape",
  "diameter",
  "width",
  "height",
  "material",
  "length",
  "fromInvert",
  "toInvert",
  "groundElevation",
  "invertElevation",
];

function present(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  // metadata noData (-Number.MAX_VALUE) when the reader did not map it to undefined
  return !(typeof value === "number" && Math.abs(value) > 1e300);
}

/**
 * A pipe feature's properties as the properties panel should list them: empty survey columns
 * dropped, schema ids ("_____2") replaced by their Chinese column names ("管线类别"), the pipe class
 * named ("给水 (JS)") and metre values with their unit.
 */
export function pipeDisplayProperties(
  props: FeatureProperties,
  names: ReadonlyMap<string, string> | undefined,
): FeatureProperties {
  const out: FeatureProperties = {};
  const keys = [...ORDER.filter((k) => k in props), ...Object.keys(props).filter((k) => !ORDER.includes(k))];
  for (const id of keys) {
    const value = props[id];
    if (!present(value)) continue;
    const key = ORDER.includes(id) ? id : (names?.get(id) ?? id);
    if (key in out) continue;
    if (id === "pipeClass" && typeof value === "string") out[key] = `${pipeClassLabel(value)} (${value})`;
    else if (id === "feature" && typeof value === "string")
      out[key] = value === "node" ? t("pipes.feature.node") : t("pipes.feature.link");
    else if (METRE_KEYS.has(id) && typeof value === "number") out[key] = `${Number(value.toFixed(3))} m`;
    else out[key] = value;
  }
  return out;
}
