/**
 * The properties panel, shared by the Cesium city viewer (viewer/src/main.ts) and the three.js
 * close-inspection page (viewer/inspect/). It depends on the DOM, i18next (./i18n.ts) and the
 * classes of ./style.css only — no CesiumJS — so any page can use it:
 *
 * ```ts
 * const panel = new PropertiesPanel(panelEl, bodyEl, () => clearSelection());
 * panel.show(properties);                                   // generic: one flat list
 * panel.show(properties, { names: schemaNamesById });       // BIM: grouped by property set
 * panel.show(undefined);                                    // nothing selected (shows a hint)
 * ```
 *
 * - `panelEl` gets `data-selected="true|false"` and the class `has-selection`; a `.panel-close`
 *   button inside it, if any, calls `onClose`.
 * - `properties` maps property ids to values (3D Tiles metadata as read from the feature).
 * - BIM features (they have `IfcClass` and `GlobalId`) are shown grouped by property set, with the
 *   IFC class and GlobalId at the top. A group is the part of the property's display name before
 *   its first "." (`"Pset_WallCommon.IsExternal"` -> group `Pset_WallCommon`, row `IsExternal`);
 *   names without a dot form the first group, 基本属性 / Attributes. Display names come from
 *   `options.names` (id -> name, e.g. the metadata schema's `classes.element.properties[id].name`);
 *   without one, `Pset_*` / `Qto_*` ids are split after their second segment as a fallback.
 *   Undefined values (metadata noData) are hidden; the strings "true"/"false" read 是/否.
 * - DOM contract (tests rely on it): rows are `.prop-row[data-key=<property id>]` with `.prop-label`
 *   and `.prop-value`; groups are `details.prop-group[data-group=<group>]` whose
 *   `summary .prop-group-name` is the group name; `.feature-title`, `.bim-ifc-class`, `.bim-global-id`.
 */
import { h } from "./dom.ts";
import { formatValue, labelFor } from "./format.ts";
import { onLangChange, t } from "./i18n.ts";
import type { FeatureProperties } from "./selection.ts";

export type { FeatureProperties };

/** Display names of properties by property id, e.g. "Pset_WallCommon_IsExternal" -> "Pset_WallCommon.IsExternal". */
export type PropertyNames = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface ShowOptions {
  /** Display names by property id; used to group BIM properties by property set. */
  names?: PropertyNames;
  /** Force grouped (true) or flat (false) display; by default BIM features are grouped. */
  grouped?: boolean;
}

export interface PropertyRow {
  /** Property id as stored in the feature. */
  id: string;
  /** Name shown in the row (the part after the group's "."). */
  label: string;
  value: unknown;
}

export interface PropertyGroup {
  /** Property set name, or "" for the attributes without a set (基本属性). */
  name: string;
  rows: PropertyRow[];
}

/** Attribute ids every BIM feature carries; their presence marks a feature as BIM. */
export const BIM_KEYS = { ifcClass: "IfcClass", globalId: "GlobalId", name: "Name" } as const;

export function isBimFeature(props: FeatureProperties): boolean {
  return typeof props[BIM_KEYS.ifcClass] === "string" && typeof props[BIM_KEYS.globalId] === "string";
}

function nameOf(names: PropertyNames | undefined, id: string): string | undefined {
  if (!names) return undefined;
  return names instanceof Map ? names.get(id) : (names as Readonly<Record<string, string>>)[id];
}

/** "Pset_WallCommon_IsExternal" -> "Pset_WallCommon.IsExternal" when no schema name is known. */
function guessName(id: string): string {
  const m = /^((?:Pset|Qto)_[A-Za-z0-9]+)_(.+)$/.exec(id);
  return m ? `${m[1]}.${m[2]}` : id;
}

/**
 * Splits properties into groups by the part of their display name before the first ".". The
 * group of dot-less names comes first, then the other groups in the order of their first property,
 * quantity sets (`Qto_*`) last. Undefined values are dropped.
 */
export function groupProperties(props: FeatureProperties, names?: PropertyNames): PropertyGroup[] {
  const groups = new Map<string, PropertyGroup>([["", { name: "", rows: [] }]]);
  for (const [id, value] of Object.entries(props)) {
    if (value === undefined) continue;
    const name = nameOf(names, id) ?? guessName(id);
    const dot = name.indexOf(".");
    const group = dot > 0 ? name.slice(0, dot) : "";
    const label = dot > 0 ? name.slice(dot + 1) : name;
    let g = groups.get(group);
    if (!g) {
      g = { name: group, rows: [] };
      groups.set(group, g);
    }
    g.rows.push({ id, label, value });
  }
  // Property sets (what an element is) read before quantity sets (how big it is).
  const all = [...groups.values()].filter((g) => g.rows.length > 0);
  return [...all.filter((g) => !g.name.startsWith("Qto_")), ...all.filter((g) => g.name.startsWith("Qto_"))];
}

/** Optional IFC booleans arrive as the strings "true"/"false". */
function bimValue(value: unknown): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

/** Shows every metadata property of the selected feature: flat, or grouped by property set for BIM. */
export class PropertiesPanel {
  private props: FeatureProperties | undefined;
  private options: ShowOptions = {};
  /** Groups the user folded; they stay folded for the next selected element. */
  private readonly collapsed = new Set<string>();

  constructor(
    private readonly panel: HTMLElement,
    private readonly body: HTMLElement,
    onClose: () => void,
  ) {
    panel.querySelector(".panel-close")?.addEventListener("click", onClose);
    onLangChange(() => this.render());
    this.render();
  }

  show(props: FeatureProperties | undefined, options: ShowOptions = {}): void {
    this.props = props;
    this.options = options;
    this.render();
  }

  private render(): void {
    const props = this.props;
    this.panel.classList.toggle("has-selection", props !== undefined);
    this.panel.dataset.selected = props ? "true" : "false";
    if (!props) {
      this.body.replaceChildren(h("p", { class: "panel-note" }, t("props.hint")));
      return;
    }
    const keys = Object.keys(props);
    if (keys.length === 0) {
      this.body.replaceChildren(h("p", { class: "panel-note" }, t("props.empty")));
      return;
    }
    if (this.options.grouped ?? isBimFeature(props)) this.renderGrouped(props);
    else this.renderFlat(props, keys);
  }

  private renderFlat(props: FeatureProperties, keys: string[]): void {
    const title = typeof props.name === "string" && props.name ? props.name : String(props.id ?? "");
    const rows = keys.map((key) => {
      const label = labelFor(key);
      return this.row(
        key,
        label ?? key,
        label && label !== key ? key : undefined,
        formatValue(key, props[key]),
      );
    });
    this.body.replaceChildren(
      title ? h("h3", { class: "feature-title" }, title) : "",
      h("p", { class: "feature-count" }, t("props.count", { count: keys.length })),
      h("dl", { class: "prop-list" }, ...rows),
    );
  }

  private renderGrouped(props: FeatureProperties): void {
    const groups = groupProperties(props, this.options.names);
    const ifcClass = String(props[BIM_KEYS.ifcClass] ?? "");
    const globalId = String(props[BIM_KEYS.globalId] ?? "");
    const name = props[BIM_KEYS.name];
    const classLabel = t(`bim.ifc.${ifcClass}`);
    const count = groups.reduce((n, g) => n + g.rows.length, 0);

    const sections = groups.map((group) => {
      const basic = group.name === "";
      const rows = group.rows.map((r) => {
        // Attributes have translated labels; property set entries are data and stay as named.
        const label = basic ? labelFor(r.id) : undefined;
        const shortKey = r.label;
        return this.row(
          r.id,
          label ?? r.label,
          label && label !== r.label ? r.label : undefined,
          formatValue(shortKey, bimValue(r.value)),
        );
      });
      const details = h(
        "details",
        { class: basic ? "prop-group basic" : "prop-group", "data-group": group.name },
        h(
          "summary",
          { class: "prop-group-header" },
          h("span", { class: "prop-group-name" }, basic ? t("props.basicGroup") : group.name),
          h("span", { class: "prop-group-count" }, t("props.groupCount", { count: group.rows.length })),
        ),
        h("dl", { class: "prop-list" }, ...rows),
      );
      details.open = !this.collapsed.has(group.name);
      details.addEventListener("toggle", () => {
        if (details.open) this.collapsed.delete(group.name);
        else this.collapsed.add(group.name);
      });
      return details;
    });

    this.body.replaceChildren(
      h("h3", { class: "feature-title" }, typeof name === "string" && name ? name : globalId),
      h(
        "div",
        { class: "bim-identity" },
        h(
          "span",
          { class: "bim-class-badge", title: t("props.ifcClass") },
          h("span", { class: "bim-ifc-class" }, ifcClass),
          classLabel !== `bim.ifc.${ifcClass}`
            ? h("span", { class: "bim-class-title" }, classLabel)
            : undefined,
        ),
        h(
          "span",
          { class: "bim-global-id-row" },
          h("span", { class: "bim-global-id-label" }, t("props.globalId")),
          h("code", { class: "bim-global-id" }, globalId),
        ),
      ),
      h("p", { class: "feature-count" }, t("props.count", { count })),
      ...sections,
    );
  }

  private row(key: string, label: string, rawKey: string | undefined, value: string): HTMLElement {
    return h(
      "div",
      { class: "prop-row", "data-key": key },
      h(
        "dt",
        { class: "prop-key" },
        h("span", { class: "prop-label" }, label),
        rawKey ? h("span", { class: "prop-raw-key" }, rawKey) : undefined,
      ),
      h("dd", { class: "prop-value" }, value),
    );
  }
}
