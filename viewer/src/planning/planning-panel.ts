import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import { dataUrlToBlob, download, snapshotPng, toCsv } from "./export.ts";
import type { HeightLimitRow } from "./height-limit.ts";
import type { MeasureKind } from "./measure.ts";
import type { PlanningTools, SwipeSide } from "./planning-tools.ts";
import { openSkylineChart } from "./skyline-chart.ts";
import { SwipeDivider } from "./swipe-divider.ts";

type SortKey = "excess" | "height" | "name";

/**
 * The 规划分析 panel: one section per tool. It only wires the DOM to PlanningTools and re-renders from its
 * state; every number shown comes from the tools.
 */
export class PlanningPanel {
  private sort: { key: SortKey; descending: boolean } = { key: "excess", descending: true };
  private readonly divider: SwipeDivider;

  constructor(
    private readonly root: HTMLElement,
    private readonly tools: PlanningTools,
  ) {
    this.divider = new SwipeDivider(tools);
    tools.onChange(() => this.render());
    onLangChange(() => this.render());
    this.render();
  }

  toggle(): void {
    this.root.hidden = !this.root.hidden;
    if (!this.root.hidden) this.render();
  }

  private render(): void {
    if (this.root.hidden) return;
    const s = this.tools.state();
    const scroll = this.root.scrollTop;
    const busy = s.mode !== "idle";
    const button = (cls: string, label: string, action: () => void, active = false) => {
      const b = h("button", { type: "button", class: `${cls}${active ? " active" : ""}` }, label);
      b.addEventListener("click", action);
      return b;
    };
    const section = (title: string, ...children: (Node | string | undefined)[]) =>
      h("section", { class: "planning-section" }, h("h3", { class: "planning-heading" }, title), ...children);

    const measureKinds: MeasureKind[] = ["distance", "area", "height", "angle"];
    const measures = section(
      t("planning.measure.title"),
      h(
        "div",
        { class: "pipe-actions" },
        ...measureKinds.map((k) =>
          button(
            `planning-measure-${k}`,
            t(`planning.measure.${k}`),
            () => void this.tools.startMeasure(k),
            s.mode === `measure-${k}`,
          ),
        ),
        button("planning-measure-clear", t("planning.clear"), () => this.tools.clearMeasurements()),
      ),
      s.mode.startsWith("measure-")
        ? h("p", { class: "planning-hint" }, t("planning.measure.hint"))
        : undefined,
      s.measurements.length
        ? h(
            "ul",
            { class: "planning-list planning-measurements" },
            ...s.measurements.map((m) =>
              h(
                "li",
                { "data-kind": m.kind, "data-value": m.value },
                measurementText(m.kind, m.value, m.secondary),
              ),
            ),
          )
        : undefined,
    );

    const limitInput = h("input", {
      type: "number",
      class: "planning-limit",
      min: 0,
      step: 1,
      value: this.tools.limit,
    }) as HTMLInputElement;
    limitInput.addEventListener("change", () => void this.tools.setLimit(Number(limitInput.value)));
    const limit = s.heightLimit;
    const limitSection = section(
      t("planning.limit.title"),
      h("label", { class: "planning-field" }, t("planning.limit.height"), limitInput, t("units.m")),
      h(
        "div",
        { class: "pipe-actions" },
        button(
          "planning-limit-draw",
          t("planning.limit.draw"),
          () => void this.tools.startHeightLimit(),
          s.mode === "height-limit",
        ),
        button("planning-limit-clear", t("planning.clear"), () => this.tools.clearHeightLimit()),
      ),
      s.mode === "height-limit" ? h("p", { class: "planning-hint" }, t("planning.limit.hint")) : undefined,
      limit
        ? h(
            "p",
            { class: "planning-summary planning-limit-summary", "data-over": limit.rows.length },
            t("planning.limit.summary", {
              over: limit.rows.length,
              inArea: limit.inArea,
              limit: limit.limit,
            }),
          )
        : undefined,
      limit?.rows.length ? this.limitTable(limit.rows) : undefined,
    );

    const radius = h("input", {
      type: "number",
      class: "planning-radius",
      min: 20,
      max: 1000,
      step: 10,
      value: this.tools.viewshedRadius,
    }) as HTMLInputElement;
    radius.addEventListener("change", () => {
      const v = Number(radius.value);
      if (Number.isFinite(v) && v >= 20) this.tools.viewshedRadius = Math.min(1000, v);
    });
    const visibility = section(
      t("planning.visibility.title"),
      h(
        "div",
        { class: "pipe-actions" },
        button(
          "planning-los",
          t("planning.los.start"),
          () => void this.tools.startLineOfSight(),
          s.mode === "line-of-sight",
        ),
        button(
          "planning-viewshed",
          t("planning.viewshed.start"),
          () => void this.tools.startViewshed(),
          s.mode === "viewshed",
        ),
        button("planning-visibility-clear", t("planning.clear"), () => this.tools.clearVisibility()),
      ),
      h("label", { class: "planning-field" }, t("planning.viewshed.radius"), radius, t("units.m")),
      s.lineOfSight
        ? h(
            "p",
            { class: "planning-summary planning-los-result", "data-visible": String(s.lineOfSight.visible) },
            s.lineOfSight.visible
              ? t("planning.los.visibleText", { distance: s.lineOfSight.distance.toFixed(1) })
              : t("planning.los.blockedText", { id: s.lineOfSight.blockedBy }),
          )
        : undefined,
      s.viewshed
        ? h(
            "p",
            { class: "planning-summary planning-viewshed-result" },
            t("planning.viewshed.share", { share: Math.round(s.viewshed.visibleShare * 100) }),
          )
        : undefined,
    );

    const o = this.tools.sunlightOptions;
    const date = h("input", { type: "date", class: "planning-sun-date", value: o.date }) as HTMLInputElement;
    const from = h("input", {
      type: "number",
      class: "planning-sun-from",
      min: 0,
      max: 24,
      step: 0.5,
      value: o.fromHour,
    }) as HTMLInputElement;
    const to = h("input", {
      type: "number",
      class: "planning-sun-to",
      min: 0,
      max: 24,
      step: 0.5,
      value: o.toHour,
    }) as HTMLInputElement;
    const step = h("input", {
      type: "number",
      class: "planning-sun-step",
      min: 1,
      max: 60,
      step: 1,
      value: o.stepMinutes,
    }) as HTMLInputElement;
    const readOptions = () => {
      const f = Number(from.value);
      const e = Number(to.value);
      const st = Number(step.value);
      if (/^\d{4}-\d{2}-\d{2}$/.test(date.value)) o.date = date.value;
      if (Number.isFinite(f) && Number.isFinite(e) && f >= 0 && e <= 24 && f < e) {
        o.fromHour = f;
        o.toHour = e;
      }
      if (Number.isFinite(st) && st >= 1) o.stepMinutes = Math.min(60, st);
      if (s.sunlight) void this.tools.sunlightFor(s.sunlight.point);
    };
    for (const input of [date, from, to, step]) input.addEventListener("change", readOptions);
    const sun = s.sunlight;
    const sunSection = section(
      t("planning.sun.title"),
      h(
        "div",
        { class: "planning-grid" },
        h("label", {}, t("planning.sun.date"), date),
        h("label", {}, t("planning.sun.from"), from),
        h("label", {}, t("planning.sun.to"), to),
        h("label", {}, t("planning.sun.step"), step),
      ),
      h(
        "div",
        { class: "pipe-actions" },
        button(
          "planning-sun-pick",
          t("planning.sun.pick"),
          () => void this.tools.startSunlight(),
          s.mode === "sunlight",
        ),
        button("planning-sun-animate", t("planning.sun.animate"), () => this.tools.animateShadows()),
        button("planning-sun-clear", t("planning.clear"), () => this.tools.clearSunlight()),
      ),
      s.mode === "sunlight" ? h("p", { class: "planning-hint" }, t("planning.sun.hint")) : undefined,
      sun
        ? h(
            "p",
            { class: "planning-summary planning-sun-result", "data-hours": sun.sunHours },
            t("planning.sun.result", { hours: sun.sunHours, date: sun.options.date }),
          )
        : undefined,
      sun
        ? h(
            "div",
            { class: "planning-sun-slots" },
            ...sun.slots.map((slot) => {
              const el = h("span", {
                class: `planning-sun-slot ${slot.sunny ? "sunny" : "shaded"}`,
                "data-time": slot.time,
                title: `${slot.time} ${slot.sunny ? t("planning.sun.sunny") : t("planning.sun.shaded")}${slot.shadedBy ? ` (${slot.shadedBy})` : ""}`,
              });
              el.addEventListener("click", () => {
                const [hh, mm] = slot.time.split(":").map(Number);
                this.tools.showShadowsAt(hh + mm / 60);
              });
              return el;
            }),
          )
        : undefined,
    );

    const skyline = section(
      t("planning.skyline.title"),
      h(
        "div",
        { class: "pipe-actions" },
        button("planning-skyline", t("planning.skyline.start"), () => {
          void this.tools.computeSkyline().then((r) => r && openSkylineChart(r));
        }),
        button("planning-skyline-clear", t("planning.clear"), () => this.tools.clearSkyline()),
      ),
    );

    const swipeToggle = h("input", {
      type: "checkbox",
      class: "planning-swipe-toggle",
      checked: s.swipe.enabled,
    }) as HTMLInputElement;
    swipeToggle.addEventListener("change", () => {
      this.tools.setSwipe(swipeToggle.checked);
      this.divider.show(swipeToggle.checked);
    });
    const layerSides = Object.entries(s.swipe.sides).map(([id, side]) => {
      const select = h("select", { class: "planning-swipe-side", "data-layer": id }) as HTMLSelectElement;
      for (const v of ["both", "left", "right"] as SwipeSide[])
        select.append(h("option", { value: v, selected: v === side }, t(`planning.swipe.${v}`)));
      select.addEventListener("change", () => this.tools.setSwipeSide(id, select.value as SwipeSide));
      return h("label", { class: "planning-field" }, h("span", { class: "planning-layer-name" }, id), select);
    });
    const swipe = section(
      t("planning.swipe.title"),
      h("label", { class: "planning-field" }, swipeToggle, t("planning.swipe.enable")),
      s.swipe.enabled ? h("div", { class: "planning-swipe-layers" }, ...layerSides) : undefined,
    );

    const exportable = this.tools.exportable();
    const exportSection = section(
      t("planning.export.title"),
      h(
        "div",
        { class: "pipe-actions" },
        button("planning-export-geojson", "GeoJSON", () => {
          if (exportable)
            download(
              `${exportable.name}.geojson`,
              JSON.stringify(exportable.geojson, null, 1),
              "application/geo+json",
            );
        }),
        button("planning-export-csv", "CSV", () => {
          if (exportable) download(`${exportable.name}.csv`, toCsv(exportable), "text/csv;charset=utf-8");
        }),
        button("planning-export-png", "PNG", () =>
          download("cim-snapshot.png", dataUrlToBlob(snapshotPng(this.tools.viewer))),
        ),
      ),
      h(
        "p",
        { class: "planning-hint" },
        exportable
          ? t("planning.export.what", { name: t(`planning.export.${exportable.name}`) })
          : t("planning.export.none"),
      ),
    );
    for (const b of exportSection.querySelectorAll<HTMLButtonElement>(
      ".planning-export-geojson, .planning-export-csv",
    ))
      b.disabled = !exportable;

    this.root.replaceChildren(
      ...[
        h(
          "div",
          { class: "panel-header" },
          h("h2", { class: "panel-title" }, t("planning.title")),
          busy
            ? h(
                "span",
                { class: "planning-busy", "data-mode": s.mode },
                t(`planning.mode.${s.mode.split("-")[0]}`),
              )
            : undefined,
        ),
        s.error ? h("p", { class: "planning-error" }, s.error) : undefined,
        measures,
        limitSection,
        visibility,
        sunSection,
        skyline,
        swipe,
        exportSection,
      ].filter((n): n is HTMLElement => n !== undefined),
    );
    this.root.dataset.mode = s.mode;
    this.root.scrollTop = scroll;
  }

  private limitTable(rows: HeightLimitRow[]): HTMLElement {
    const { key, descending } = this.sort;
    const sorted = [...rows].sort((a, b) => {
      const d = key === "name" ? a.name.localeCompare(b.name, "zh-CN") : a[key] - b[key];
      return descending ? -d : d;
    });
    const header = (k: SortKey, label: string) => {
      const th = h(
        "th",
        { class: `planning-sort${k === key ? " sorted" : ""}`, "data-sort": k },
        label,
        k === key ? (descending ? " ▼" : " ▲") : "",
      );
      th.addEventListener("click", () => {
        this.sort = { key: k, descending: k === key ? !descending : k !== "name" };
        this.render();
      });
      return th;
    };
    const body = sorted.map((r) => {
      const tr = h(
        "tr",
        { class: "planning-limit-row", "data-id": r.id },
        h("td", {}, r.name),
        h("td", { class: "num" }, r.height.toFixed(1)),
        h("td", { class: "num excess" }, `+${r.excess.toFixed(2)}`),
      );
      tr.addEventListener("click", () => void this.tools.flyToBuilding(r.id));
      return tr;
    });
    const table = h(
      "table",
      { class: "planning-table planning-limit-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          header("name", t("planning.limit.name")),
          header("height", t("planning.limit.top")),
          header("excess", t("planning.limit.excess")),
        ),
      ),
      h("tbody", {}, ...body),
    );
    return h("div", { class: "planning-limit-table-wrap" }, table);
  }
}

function measurementText(kind: MeasureKind, value: number, secondary?: number): string {
  switch (kind) {
    case "distance":
      return t("planning.measure.distanceLabel", { space: value, ground: secondary });
    case "area":
      return t("planning.measure.areaLabel", { area: value });
    case "height":
      return t("planning.measure.heightLabel", { height: value, plan: secondary });
    case "angle":
      return t("planning.measure.angleLabel", { angle: value });
  }
}
