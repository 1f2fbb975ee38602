import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import type { BimElement } from "./api.ts";
import { type BimTools, MAX_EXPLODE_GAP } from "./bim-tools.ts";
import type { Axis, PlaneAxis, Section } from "./section.ts";

const AXES: Axis[] = ["x", "y", "z"];

type SearchState =
  | { kind: "idle" }
  | { kind: "searching" }
  | { kind: "done"; total: number; items: BimElement[] }
  | { kind: "error"; message: string };

/** Localised name of an IFC class ("墙"), or undefined for classes without a translation. */
export function ifcClassLabel(ifcClass: string): string | undefined {
  const key = `bim.ifc.${ifcClass}`;
  const label = t(key);
  return label === key ? undefined : label;
}

const metres = (m: number) => `${m.toFixed(1)} m`;

/** What a slider position means: height above the building's base, or metres from its west/south side. */
function offset(geometry: Section, axis: Axis, fraction: number): number {
  return axis === "z" ? geometry.at("z", fraction) : geometry.at(axis, fraction) - geometry.min[axis];
}

/**
 * The BIM tools panel: search, storey filter and explode, IFC classes, section box and plane.
 * It is built once per active layer and language; state changes update the controls in place so
 * a slider being dragged is never replaced under the pointer.
 */
export class BimPanel {
  private tools: BimTools[] = [];
  private active: BimTools | undefined;
  private search: SearchState = { kind: "idle" };
  private query = "";
  private searchAbort: AbortController | undefined;

  constructor(private readonly root: HTMLElement) {
    onLangChange(() => this.build());
    this.build();
  }

  get activeTools(): BimTools | undefined {
    return this.active;
  }

  setTools(tools: BimTools[]): void {
    this.tools = tools;
    for (const tool of tools) tool.onChange(() => this.toolsChanged(tool));
    if (!this.active || !tools.includes(this.active)) this.active = tools[0];
    this.build();
  }

  /** Makes one BIM layer's tools the ones shown (e.g. after one of its elements was clicked). */
  activate(tools: BimTools): void {
    if (this.active === tools || !this.tools.includes(tools)) return;
    this.active = tools;
    this.search = { kind: "idle" };
    this.build();
  }

  private toolsChanged(tool: BimTools): void {
    if (tool !== this.active) return;
    // Index arrival changes the structure (storey and class lists); anything else is in place.
    const built = this.root.dataset.index;
    if (built !== tool.index.kind) this.build();
    else this.sync();
  }

  private build(): void {
    const tools = this.active;
    this.root.hidden = !tools;
    if (!tools) {
      this.root.replaceChildren();
      return;
    }
    this.root.dataset.layerId = tools.id;
    this.root.dataset.index = tools.index.kind;
    this.root.replaceChildren(
      this.header(tools),
      this.section("search", t("bim.search.title"), this.searchBlock(tools)),
      this.section("storeys", t("bim.storeys.title"), this.storeyBlock(tools)),
      this.section("classes", t("bim.classes.title"), this.classBlock(tools)),
      this.section("clip", t("bim.section.title"), this.clipBlock(tools)),
    );
    this.sync();
  }

  private section(name: string, title: string, ...body: Node[]): HTMLElement {
    const details = h(
      "details",
      { class: "bim-section", "data-section": name },
      h("summary", { class: "bim-section-title" }, title),
      ...body,
    );
    details.open = true;
    return details;
  }

  private header(tools: BimTools): HTMLElement {
    let layerControl: HTMLElement;
    if (this.tools.length > 1) {
      const select = h("select", { class: "bim-layer-select", "aria-label": t("bim.layer") });
      for (const tool of this.tools) {
        const option = h("option", { value: tool.id }, tool.layer.layer.name);
        option.selected = tool === tools;
        select.append(option);
      }
      select.addEventListener("change", () => {
        const next = this.tools.find((x) => x.id === select.value);
        if (next) this.activate(next);
      });
      layerControl = select;
    } else {
      layerControl = h("span", { class: "bim-layer-name", title: tools.id }, tools.layer.layer.name);
    }
    const fly = h("button", { type: "button", class: "bim-fly", title: t("bim.flyToTitle") }, t("bim.flyTo"));
    fly.addEventListener("click", () => void tools.layer.flyTo());
    return h(
      "div",
      { class: "bim-header" },
      h("h2", { class: "panel-title" }, t("bim.title")),
      h("div", { class: "bim-layer-row" }, layerControl, fly),
    );
  }

  // ---- search -------------------------------------------------------------------------------

  private searchBlock(tools: BimTools): HTMLElement {
    const input = h("input", {
      type: "search",
      class: "bim-search-input",
      placeholder: t("bim.search.placeholder"),
      "aria-label": t("bim.search.placeholder"),
      maxlength: 200,
    });
    input.value = this.query;
    const form = h(
      "form",
      { class: "bim-search" },
      input,
      h("button", { type: "submit", class: "bim-search-submit" }, t("bim.search.submit")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.runSearch(tools, input.value.trim());
    });
    return h(
      "div",
      {},
      form,
      h("div", { class: "bim-search-status", "aria-live": "polite" }),
      h("ul", { class: "bim-search-results" }),
    );
  }

  private async runSearch(tools: BimTools, q: string): Promise<void> {
    this.query = q;
    this.searchAbort?.abort();
    if (!q) {
      this.search = { kind: "idle" };
      this.renderResults();
      return;
    }
    const abort = new AbortController();
    this.searchAbort = abort;
    this.search = { kind: "searching" };
    this.renderResults();
    try {
      const result = await tools.search(q, abort.signal);
      if (abort.signal.aborted) return;
      this.search = { kind: "done", total: result.total, items: result.items };
    } catch (err) {
      if (abort.signal.aborted) return;
      this.search = { kind: "error", message: err instanceof Error ? err.message : String(err) };
    }
    this.renderResults();
  }

  private renderResults(): void {
    const status = this.root.querySelector<HTMLElement>(".bim-search-status");
    const list = this.root.querySelector<HTMLElement>(".bim-search-results");
    const tools = this.active;
    if (!status || !list || !tools) return;
    const s = this.search;
    status.dataset.state = s.kind;
    list.replaceChildren();
    if (s.kind === "idle") status.textContent = "";
    else if (s.kind === "searching") status.textContent = t("bim.search.searching");
    else if (s.kind === "error") status.textContent = t("bim.error", { message: s.message });
    else {
      status.textContent =
        s.total === 0
          ? t("bim.search.none")
          : s.total > s.items.length
            ? t("bim.search.more", { total: s.total, shown: s.items.length })
            : t("bim.search.total", { total: s.total });
      for (const item of s.items) {
        const label = ifcClassLabel(item.ifcClass);
        const button = h(
          "button",
          {
            type: "button",
            class: "bim-result",
            "data-global-id": item.globalId,
            title: t("bim.search.resultTitle"),
          },
          h("span", { class: "bim-result-name" }, item.name || item.globalId),
          h(
            "span",
            { class: "bim-result-meta" },
            [label ?? item.ifcClass, item.storey ?? ""].filter(Boolean).join(" · "),
          ),
        );
        button.addEventListener("click", () => {
          for (const b of list.querySelectorAll(".bim-result.active")) b.classList.remove("active");
          button.classList.add("active");
          void tools.flyToElement(item);
        });
        list.append(h("li", {}, button));
      }
    }
  }

  // ---- storeys ------------------------------------------------------------------------------

  private indexNote(tools: BimTools): HTMLElement | undefined {
    if (tools.index.kind === "loading") return h("p", { class: "panel-note" }, t("bim.loading"));
    if (tools.index.kind === "error")
      return h("p", { class: "panel-note error" }, t("bim.error", { message: tools.index.message }));
    return undefined;
  }

  private storeyBlock(tools: BimTools): HTMLElement {
    const note = this.indexNote(tools);
    const storeys = tools.storeys.filter((s): s is typeof s & { name: string } => s.name !== null);
    const all = h(
      "button",
      { type: "button", class: "bim-storey", "data-storey": "", title: t("bim.storeys.allTitle") },
      t("bim.storeys.all"),
    );
    all.addEventListener("click", () => tools.setStorey(null));
    const buttons = storeys.map((s) => {
      const b = h(
        "button",
        {
          type: "button",
          class: "bim-storey",
          "data-storey": s.name,
          title: t("bim.storeys.onlyTitle", { name: s.name, count: s.count }),
        },
        s.name,
      );
      b.addEventListener("click", () => tools.setStorey(s.name));
      return b;
    });

    const explode = h("input", { type: "checkbox", class: "bim-explode-toggle" });
    explode.addEventListener("change", () => tools.setExploded(explode.checked));
    const gap = h("input", {
      type: "range",
      class: "bim-explode-gap",
      min: 0,
      max: MAX_EXPLODE_GAP,
      step: 0.5,
      "aria-label": t("bim.storeys.gap"),
    });
    gap.addEventListener("input", () => tools.setExplodeGap(Number(gap.value)));

    return h(
      "div",
      {},
      note ?? h("div", { class: "bim-storeys" }, ...(storeys.length ? [all, ...buttons] : [])),
      note || storeys.length ? undefined : h("p", { class: "panel-note" }, t("bim.storeys.none")),
      h(
        "div",
        { class: "bim-row" },
        h("label", { class: "bim-check" }, explode, h("span", {}, t("bim.storeys.explode"))),
        h("span", { class: "bim-muted" }, t("bim.storeys.gap")),
        gap,
        h("output", { class: "bim-explode-gap-value" }),
      ),
    );
  }

  // ---- classes ------------------------------------------------------------------------------

  private classBlock(tools: BimTools): HTMLElement {
    const note = this.indexNote(tools);
    const rows = tools.classes.map((c) => {
      const show = h("input", { type: "checkbox", class: "bim-class-show", title: t("bim.classes.hide") });
      show.addEventListener("change", () => tools.setClassHidden(c.ifcClass, !show.checked));
      const isolate = h("button", { type: "button", class: "bim-class-isolate" });
      isolate.addEventListener("click", () =>
        tools.isolate(tools.filter.isolatedClass === c.ifcClass ? null : c.ifcClass),
      );
      const label = ifcClassLabel(c.ifcClass);
      return h(
        "li",
        { class: "bim-class", "data-class": c.ifcClass },
        h(
          "label",
          { class: "bim-check bim-class-label" },
          show,
          h("span", { class: "bim-class-name" }, label ?? c.ifcClass),
          label ? h("span", { class: "bim-class-ifc" }, c.ifcClass) : undefined,
        ),
        h("span", { class: "bim-class-count" }, String(c.count)),
        isolate,
      );
    });
    const ghost = h("input", { type: "checkbox", class: "bim-ghost-toggle" });
    ghost.addEventListener("change", () => tools.setGhost(ghost.checked));
    const reset = h("button", { type: "button", class: "bim-classes-reset" }, t("bim.classes.reset"));
    reset.addEventListener("click", () => tools.showAllClasses());
    return h(
      "div",
      {},
      note ?? h("ul", { class: "bim-classes" }, ...rows),
      h(
        "div",
        { class: "bim-row" },
        h(
          "label",
          { class: "bim-check", title: t("bim.classes.ghostTitle") },
          ghost,
          h("span", {}, t("bim.classes.ghost")),
        ),
        reset,
      ),
    );
  }

  // ---- section ------------------------------------------------------------------------------

  private clipBlock(tools: BimTools): HTMLElement {
    const box = h("input", { type: "checkbox", class: "bim-box-toggle" });
    box.addEventListener("change", () => tools.setSectionBox(box.checked));
    const grid = h("div", { class: "bim-box-sliders" });
    for (const axis of AXES) {
      const cells: HTMLElement[] = [h("span", { class: "bim-muted" }, t(`bim.section.${axis}`))];
      for (const end of ["min", "max"] as const) {
        const slider = h("input", {
          type: "range",
          class: "bim-box-slider",
          min: 0,
          max: 100,
          step: 1,
          "data-axis": axis,
          "data-end": end,
          "aria-label": `${t(`bim.section.${axis}`)} ${t(`bim.section.${end}`)}`,
        });
        slider.addEventListener("input", () =>
          tools.setSectionBoxLimit(axis, end, Number(slider.value) / 100),
        );
        cells.push(slider);
      }
      grid.append(...cells);
    }

    const axis = h("select", { class: "bim-plane-axis", "aria-label": t("bim.section.plane") });
    const options: [PlaneAxis, string][] = [
      ["none", t("bim.section.planeNone")],
      ["z", t("bim.section.planeHorizontal")],
      ["x", t("bim.section.planeEastWest")],
      ["y", t("bim.section.planeNorthSouth")],
    ];
    for (const [value, label] of options) axis.append(h("option", { value }, label));
    axis.addEventListener("change", () => tools.setClipPlane({ axis: axis.value as PlaneAxis }));
    const position = h("input", {
      type: "range",
      class: "bim-plane-position",
      min: 0,
      max: 100,
      step: 1,
      "aria-label": t("bim.section.position"),
    });
    position.addEventListener("input", () => tools.setClipPlane({ position: Number(position.value) / 100 }));
    const flip = h("input", { type: "checkbox", class: "bim-plane-flip" });
    flip.addEventListener("change", () => tools.setClipPlane({ flip: flip.checked }));
    const reset = h("button", { type: "button", class: "bim-section-reset" }, t("bim.section.reset"));
    reset.addEventListener("click", () => tools.resetSection());

    return h(
      "div",
      {},
      h(
        "label",
        { class: "bim-check", title: t("bim.section.boxTitle") },
        box,
        h("span", {}, t("bim.section.box")),
      ),
      grid,
      h("div", { class: "bim-row" }, h("span", { class: "bim-muted" }, t("bim.section.plane")), axis),
      h(
        "div",
        { class: "bim-row bim-plane-row" },
        h("span", { class: "bim-muted" }, t("bim.section.position")),
        position,
        h("output", { class: "bim-plane-value" }),
      ),
      h(
        "div",
        { class: "bim-row" },
        h(
          "label",
          { class: "bim-check", title: t("bim.section.flipTitle") },
          flip,
          h("span", {}, t("bim.section.flip")),
        ),
        reset,
      ),
    );
  }

  // ---- in-place updates ---------------------------------------------------------------------

  private sync(): void {
    const tools = this.active;
    if (!tools) return;
    const root = this.root;
    const q = <T extends Element>(sel: string) => root.querySelector<T>(sel);
    const filter = tools.filter;

    for (const b of root.querySelectorAll<HTMLButtonElement>(".bim-storey")) {
      const on = (b.dataset.storey || null) === filter.storey;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", String(on));
    }
    const explode = q<HTMLInputElement>(".bim-explode-toggle");
    if (explode) explode.checked = tools.isExploded;
    const gap = q<HTMLInputElement>(".bim-explode-gap");
    if (gap && document.activeElement !== gap) gap.value = String(tools.gap);
    if (gap) gap.disabled = !tools.isExploded;
    const gapValue = q<HTMLOutputElement>(".bim-explode-gap-value");
    if (gapValue) gapValue.textContent = metres(tools.gap);

    for (const row of root.querySelectorAll<HTMLElement>(".bim-class")) {
      const c = row.dataset.class ?? "";
      const hidden = filter.hiddenClasses.has(c);
      const isolated = filter.isolatedClass === c;
      const show = row.querySelector<HTMLInputElement>(".bim-class-show")!;
      show.checked = !hidden;
      row.classList.toggle(
        "hidden-class",
        hidden || (filter.isolatedClass !== null && !isolated && !filter.ghost),
      );
      row.classList.toggle(
        "ghosted-class",
        !hidden && filter.isolatedClass !== null && !isolated && filter.ghost,
      );
      row.classList.toggle("isolated", isolated);
      const iso = row.querySelector<HTMLButtonElement>(".bim-class-isolate")!;
      iso.textContent = isolated ? t("bim.classes.unisolate") : t("bim.classes.isolate");
      iso.title = isolated ? t("bim.classes.unisolateTitle") : t("bim.classes.isolateTitle");
      iso.setAttribute("aria-pressed", String(isolated));
    }
    const ghost = q<HTMLInputElement>(".bim-ghost-toggle");
    if (ghost) ghost.checked = filter.ghost;

    const section = tools.section;
    const geometry = tools.sectionGeometry;
    const box = q<HTMLInputElement>(".bim-box-toggle");
    if (box) box.checked = section.box.enabled;
    for (const s of root.querySelectorAll<HTMLInputElement>(".bim-box-slider")) {
      const axis = s.dataset.axis as Axis;
      const end = s.dataset.end as "min" | "max";
      if (document.activeElement !== s) s.value = String(Math.round(section.box[end][axis] * 100));
      s.disabled = !section.box.enabled;
      if (geometry) s.title = metres(offset(geometry, axis, section.box[end][axis]));
    }
    const axis = q<HTMLSelectElement>(".bim-plane-axis");
    if (axis) axis.value = section.plane.axis;
    const position = q<HTMLInputElement>(".bim-plane-position");
    if (position && document.activeElement !== position)
      position.value = String(Math.round(section.plane.position * 100));
    if (position) position.disabled = section.plane.axis === "none";
    const flip = q<HTMLInputElement>(".bim-plane-flip");
    if (flip) {
      flip.checked = section.plane.flip;
      flip.disabled = section.plane.axis === "none";
    }
    const value = q<HTMLOutputElement>(".bim-plane-value");
    if (value) {
      const a = section.plane.axis;
      value.textContent =
        a === "none" || !geometry ? "—" : metres(offset(geometry, a, section.plane.position));
    }
    this.renderResultsIfBuilt();
  }

  private renderResultsIfBuilt(): void {
    const list = this.root.querySelector(".bim-search-results");
    if (list && list.childElementCount === 0 && this.search.kind !== "idle") this.renderResults();
  }
}
