import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import { PIPE_CLASS_COLORS, type PipeClassCode } from "./classes.ts";
import type { CrossSectionTool } from "./cross-section.ts";
import type { Excavation } from "./excavation.ts";
import type { PipeTools } from "./pipe-tools.ts";
import { RESULT_COLORS } from "./style.ts";

/** Legend rows: 排水 PS, 雨水 YS and 污水 WS share brown but are toggled separately. */
const LEGEND: PipeClassCode[] = ["JS", "PS", "YS", "WS", "RQ", "RL", "DL", "TX", "GY"];
/** At most this many ids per result list; the counts give the totals. */
const LIST_LIMIT = 200;

/** Localised pipe class name ("给水"), or the code itself. */
export function pipeClassLabel(code: string): string {
  const key = `pipes.class.${code}`;
  const label = t(key);
  return label === key ? code : label;
}

/**
 * The pipeline engineer panel: underground mode, flow animation, class legend with visibility
 * toggles, and trace / burst-isolation analyses of the selected pipe with their result lists.
 */
export class PipePanel {
  private tools: PipeTools | undefined;
  /** Opens the longitudinal profile of the current trace result (set by main when available). */
  onProfile: ((tools: PipeTools) => void) | undefined;
  /** Excavation and cross-section tools (set by main): their blocks become panel sections. */
  sceneTools: { excavation: Excavation; crossSection: CrossSectionTool } | undefined;

  constructor(private readonly root: HTMLElement) {
    onLangChange(() => this.build());
    this.build();
  }

  get activeTools(): PipeTools | undefined {
    return this.tools;
  }

  setTools(tools: PipeTools | undefined): void {
    this.tools = tools;
    tools?.onChange(() => {
      if (this.tools === tools) this.sync();
    });
    this.build();
  }

  private build(): void {
    const tools = this.tools;
    this.root.hidden = !tools;
    if (!tools) {
      this.root.replaceChildren();
      return;
    }
    this.root.dataset.layerId = tools.id;
    this.root.replaceChildren(
      this.header(tools),
      this.section("view", t("pipes.view.title"), this.viewBlock(tools)),
      this.section("legend", t("pipes.legend.title"), this.legendBlock(tools)),
      this.section("analysis", t("pipes.analysis.title"), this.analysisBlock(tools)),
    );
    if (this.sceneTools) {
      this.root.append(
        this.section("excavation", t("pipes.excavation.title"), this.sceneTools.excavation.block()),
        this.section("cross-section", t("pipes.section.heading"), this.sceneTools.crossSection.block()),
      );
    }
    this.sync();
  }

  private section(name: string, title: string, body: Node): HTMLElement {
    const details = h(
      "details",
      { class: "bim-section pipe-section", "data-section": name },
      h("summary", { class: "bim-section-title" }, title),
      body,
    );
    details.open = true;
    return details;
  }

  private header(tools: PipeTools): HTMLElement {
    const fly = h(
      "button",
      { type: "button", class: "pipe-fly", title: t("layers.flyToTitle") },
      t("layers.flyTo"),
    );
    fly.addEventListener("click", () => void tools.layer.flyTo());
    return h(
      "div",
      { class: "bim-header" },
      h("h2", { class: "panel-title" }, t("pipes.title")),
      h(
        "div",
        { class: "bim-layer-row" },
        h("span", { class: "bim-layer-name", title: tools.id }, tools.layer.layer.name),
        fly,
      ),
    );
  }

  private viewBlock(tools: PipeTools): HTMLElement {
    const under = h("input", { type: "checkbox", class: "pipe-underground-toggle" });
    under.addEventListener("change", () => tools.setUnderground(under.checked));
    const alpha = h("input", {
      type: "range",
      class: "pipe-ground-alpha",
      min: 0,
      max: 100,
      step: 1,
      "aria-label": t("pipes.view.groundAlpha"),
    });
    alpha.addEventListener("input", () => tools.setGroundAlpha(Number(alpha.value) / 100));
    const flow = h("input", { type: "checkbox", class: "pipe-flow-toggle" });
    flow.addEventListener("change", () => tools.setFlow(flow.checked));
    return h(
      "div",
      {},
      h(
        "label",
        { class: "bim-check", title: t("pipes.view.undergroundTitle") },
        under,
        h("span", {}, t("pipes.view.underground")),
      ),
      h(
        "div",
        { class: "bim-row" },
        h("span", { class: "bim-muted" }, t("pipes.view.groundAlpha")),
        alpha,
        h("output", { class: "pipe-ground-alpha-value" }),
      ),
      h(
        "label",
        { class: "bim-check", title: t("pipes.view.flowTitle") },
        flow,
        h("span", {}, t("pipes.view.flow")),
      ),
    );
  }

  private legendBlock(tools: PipeTools): HTMLElement {
    const rows = LEGEND.map((code) => {
      const show = h("input", {
        type: "checkbox",
        class: "pipe-class-show",
        title: t("pipes.legend.toggle"),
      });
      show.addEventListener("change", () => tools.setClassHidden(code, !show.checked));
      const swatch = h("span", { class: "pipe-swatch", "aria-hidden": "true" });
      swatch.style.background = PIPE_CLASS_COLORS[code];
      return h(
        "li",
        { class: "pipe-class", "data-class": code },
        h(
          "label",
          { class: "bim-check" },
          show,
          swatch,
          h("span", { class: "pipe-class-name" }, pipeClassLabel(code)),
          h("span", { class: "bim-class-ifc" }, code),
        ),
      );
    });
    const results = (["traced", "isolated", "valve", "customer"] as const).map((role) => {
      const swatch = h("span", { class: "pipe-swatch", "aria-hidden": "true" });
      swatch.style.background = RESULT_COLORS[role];
      return h("li", { class: "pipe-result-key" }, swatch, h("span", {}, t(`pipes.legend.${role}`)));
    });
    return h(
      "div",
      {},
      h("ul", { class: "pipe-legend" }, ...rows),
      h("ul", { class: "pipe-legend pipe-result-legend" }, ...results),
    );
  }

  private analysisBlock(tools: PipeTools): HTMLElement {
    const button = (cls: string, label: string, title: string, action: () => void) => {
      const b = h("button", { type: "button", class: cls, title }, label);
      b.addEventListener("click", action);
      return b;
    };
    return h(
      "div",
      {},
      h("p", { class: "pipe-target panel-note" }),
      h(
        "div",
        { class: "pipe-actions" },
        button(
          "pipe-trace-up",
          t("pipes.analysis.up"),
          t("pipes.analysis.upTitle"),
          () => void tools.trace("up"),
        ),
        button(
          "pipe-trace-down",
          t("pipes.analysis.down"),
          t("pipes.analysis.downTitle"),
          () => void tools.trace("down"),
        ),
        button(
          "pipe-isolate",
          t("pipes.analysis.isolate"),
          t("pipes.analysis.isolateTitle"),
          () => void tools.isolate(),
        ),
        button("pipe-clear", t("pipes.analysis.clear"), t("pipes.analysis.clearTitle"), () =>
          tools.clearResults(),
        ),
      ),
      h("div", { class: "pipe-result", "aria-live": "polite" }),
    );
  }

  private sync(): void {
    const tools = this.tools;
    if (!tools) return;
    const root = this.root;
    const q = <T extends Element>(sel: string) => root.querySelector<T>(sel);
    const under = q<HTMLInputElement>(".pipe-underground-toggle");
    if (under) under.checked = tools.underground;
    const alpha = q<HTMLInputElement>(".pipe-ground-alpha");
    if (alpha && document.activeElement !== alpha) alpha.value = String(Math.round(tools.groundAlpha * 100));
    if (alpha) alpha.disabled = !tools.underground;
    const alphaValue = q<HTMLOutputElement>(".pipe-ground-alpha-value");
    if (alphaValue) alphaValue.textContent = `${Math.round(tools.groundAlpha * 100)}%`;
    const flow = q<HTMLInputElement>(".pipe-flow-toggle");
    if (flow) flow.checked = tools.flowOn;
    for (const row of root.querySelectorAll<HTMLElement>(".pipe-class")) {
      const hidden = tools.hiddenClasses.has(row.dataset.class ?? "");
      row.querySelector<HTMLInputElement>(".pipe-class-show")!.checked = !hidden;
      row.classList.toggle("hidden-class", hidden);
    }

    const target = tools.target;
    const targetEl = q<HTMLElement>(".pipe-target");
    if (targetEl) {
      targetEl.dataset.id = target?.id ?? "";
      targetEl.textContent = target
        ? t(target.feature === "link" ? "pipes.analysis.targetLink" : "pipes.analysis.targetNode", {
            id: target.id,
            cls: pipeClassLabel(target.pipeClass),
          })
        : t("pipes.analysis.noTarget");
    }
    const busy = tools.analysis.kind === "running";
    for (const sel of [".pipe-trace-up", ".pipe-trace-down"]) {
      const b = q<HTMLButtonElement>(sel);
      if (b) b.disabled = !target || busy;
    }
    const iso = q<HTMLButtonElement>(".pipe-isolate");
    if (iso) iso.disabled = !target || target.feature !== "link" || busy;
    const clear = q<HTMLButtonElement>(".pipe-clear");
    if (clear) clear.disabled = tools.analysis.kind === "idle";
    this.renderResult(tools);
  }

  private renderResult(tools: PipeTools): void {
    const box = this.root.querySelector<HTMLElement>(".pipe-result");
    if (!box) return;
    const a = tools.analysis;
    if (
      box.dataset.rendered === a.kind &&
      box.dataset.kind === a.kind &&
      a.kind !== "running" &&
      box.dataset.for === resultKey(tools)
    )
      return;
    box.dataset.state = a.kind;
    box.dataset.kind = a.kind;
    box.dataset.rendered = a.kind;
    box.dataset.for = resultKey(tools);
    box.replaceChildren();
    if (a.kind === "idle") return;
    if (a.kind === "running") {
      box.append(h("p", { class: "panel-note" }, t("pipes.analysis.running")));
      return;
    }
    if (a.kind === "error") {
      box.append(h("p", { class: "panel-note error" }, t("pipes.analysis.error", { message: a.message })));
      return;
    }
    if (a.kind === "trace") {
      const r = a.result;
      box.append(
        h(
          "p",
          { class: "pipe-result-counts" },
          t(r.direction === "up" ? "pipes.result.traceUp" : "pipes.result.traceDown", {
            id: r.start.id,
            links: r.counts.links,
            nodes: r.counts.nodes,
          }),
          " · ",
          t(r.mode === "gravity" ? "pipes.result.gravity" : "pipes.result.pressure"),
        ),
      );
      if (r.mode === "gravity" && r.links.length > 0 && this.onProfile) {
        const profile = h("button", { type: "button", class: "pipe-profile" }, t("pipes.profile.open"));
        profile.addEventListener("click", () => this.onProfile?.(tools));
        box.append(h("div", { class: "bim-row" }, profile));
      }
      box.append(this.idList(tools, "pipe-traced-nodes", t("pipes.result.nodes"), r.nodes, "traced"));
      return;
    }
    const r = a.result;
    box.append(
      h(
        "p",
        { class: "pipe-result-counts" },
        t("pipes.result.isolate", {
          id: r.link,
          valves: r.counts.valves,
          links: r.counts.isolatedLinks,
          customers: r.counts.customers,
        }),
      ),
      this.idList(
        tools,
        "pipe-valves",
        t("pipes.result.valves", { count: r.counts.valves }),
        r.valves,
        "valve",
      ),
      this.idList(
        tools,
        "pipe-customers",
        t("pipes.result.customers", { count: r.counts.customers }),
        r.affected.customers,
        "customer",
      ),
      this.idList(
        tools,
        "pipe-isolated-links",
        t("pipes.result.links", { count: r.counts.isolatedLinks }),
        r.isolatedLinks,
        "isolated",
      ),
    );
  }

  private idList(
    tools: PipeTools,
    cls: string,
    title: string,
    ids: readonly string[],
    role: keyof typeof RESULT_COLORS,
  ): HTMLElement {
    const items = ids.slice(0, LIST_LIMIT).map((id) => {
      const b = h(
        "button",
        { type: "button", class: "pipe-result-item", "data-id": id, title: t("pipes.result.flyTo") },
        id,
      );
      b.style.borderColor = RESULT_COLORS[role];
      b.addEventListener("click", () => {
        for (const x of this.root.querySelectorAll(".pipe-result-item.active")) x.classList.remove("active");
        b.classList.add("active");
        void tools.flyToFeature(id);
      });
      return h("li", {}, b);
    });
    const details = h(
      "details",
      { class: `pipe-result-list ${cls}` },
      h("summary", {}, title),
      ids.length
        ? h("ul", { class: "pipe-ids" }, ...items)
        : h("p", { class: "panel-note" }, t("pipes.result.none")),
    );
    details.open = role === "valve" || ids.length <= 12;
    return details;
  }
}

function resultKey(tools: PipeTools): string {
  const a = tools.analysis;
  if (a.kind === "trace") return `trace:${a.result.start.id}:${a.result.direction}`;
  if (a.kind === "isolate") return `isolate:${a.result.link}`;
  return a.kind;
}
