import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import type { FlattenMode, FlattenPolygon, RealityFlatten } from "./reality-flatten.ts";

const MODES: FlattenMode[] = ["flatten", "clip"];

/**
 * The 倾斜摄影压平 panel, shown while a reality-mesh layer exists: mode and height for the next
 * polygon, draw / finish / clear, and the polygons drawn, each with its own height, mode and delete.
 */
export class RealityPanel {
  private sync: (() => void) | undefined;
  private listed = "";

  constructor(
    private readonly root: HTMLElement,
    private readonly tool: RealityFlatten,
  ) {
    onLangChange(() => this.build());
    tool.onChange(() => this.refresh());
    this.build();
  }

  /** Call when the layers changed (the panel shows only with reality-mesh layers). */
  refresh(): void {
    const key = JSON.stringify([
      this.tool.realityLayers.length,
      this.tool.polygons.map((p) => [p.id, p.mode, p.height]),
    ]);
    if (key !== this.listed) this.build();
    else this.sync?.();
  }

  private build(): void {
    const tool = this.tool;
    this.listed = JSON.stringify([
      tool.realityLayers.length,
      tool.polygons.map((p) => [p.id, p.mode, p.height]),
    ]);
    this.root.hidden = tool.realityLayers.length === 0;
    if (this.root.hidden) {
      this.root.replaceChildren();
      this.sync = undefined;
      return;
    }

    const mode = h("select", { class: "reality-mode", "aria-label": t("reality.mode") });
    for (const m of MODES) mode.append(h("option", { value: m }, t(`reality.modes.${m}`)));
    mode.addEventListener("change", () => tool.setMode(mode.value as FlattenMode));

    const auto = h("input", { type: "checkbox", class: "reality-auto-height" });
    auto.addEventListener("change", () => tool.setAutoHeight(auto.checked));
    const height = h("input", {
      type: "number",
      class: "reality-height",
      step: 0.1,
      "aria-label": t("reality.height"),
    });
    height.addEventListener("change", () => tool.setHeight(Number(height.value)));

    const draw = h(
      "button",
      { type: "button", class: "reality-draw", title: t("reality.drawTitle") },
      t("reality.draw"),
    );
    draw.addEventListener("click", () => void tool.drawPolygon());
    const finish = h("button", { type: "button", class: "reality-finish" }, t("reality.finish"));
    finish.addEventListener("click", () => tool.finishDrawing());
    const clear = h("button", { type: "button", class: "reality-clear" }, t("reality.clear"));
    clear.addEventListener("click", () => tool.clear());
    const note = h("p", { class: "panel-note reality-note" });

    const list = h("ul", { class: "reality-list" }, ...tool.polygons.map((p, i) => this.item(p, i + 1)));

    this.root.replaceChildren(
      h("h2", { class: "panel-title" }, t("reality.title")),
      h("div", { class: "bim-row" }, h("span", { class: "bim-muted" }, t("reality.mode")), mode),
      h(
        "div",
        { class: "bim-row" },
        h("span", { class: "bim-muted" }, t("reality.height")),
        height,
        h("span", { class: "bim-muted" }, "m"),
        h(
          "label",
          { class: "bim-check", title: t("reality.autoTitle") },
          auto,
          h("span", {}, t("reality.auto")),
        ),
      ),
      h("div", { class: "pipe-actions" }, draw, finish, clear),
      note,
      list,
    );

    this.sync = () => {
      const drawing = tool.isDrawing;
      mode.value = tool.mode;
      auto.checked = tool.autoHeight;
      if (document.activeElement !== height) height.value = tool.height.toFixed(2);
      draw.disabled = drawing;
      finish.disabled = !tool.canFinish;
      clear.disabled = !tool.polygons.length && !drawing;
      note.dataset.polygons = String(tool.polygons.length);
      note.textContent = drawing
        ? t("reality.hint", { count: tool.drawnPoints })
        : t("reality.count", { count: tool.polygons.length });
    };
    this.sync();
  }

  private item(polygon: FlattenPolygon, n: number): HTMLElement {
    const tool = this.tool;
    const mode = h("select", { class: "reality-item-mode", "aria-label": t("reality.mode") });
    for (const m of MODES) mode.append(h("option", { value: m }, t(`reality.modes.${m}`)));
    mode.value = polygon.mode;
    mode.addEventListener("change", () => tool.setPolygonMode(polygon.id, mode.value as FlattenMode));
    const height = h("input", {
      type: "number",
      class: "reality-item-height",
      step: 0.1,
      value: polygon.height.toFixed(2),
      disabled: polygon.mode === "clip",
      "aria-label": t("reality.height"),
    });
    height.addEventListener("change", () => tool.setPolygonHeight(polygon.id, Number(height.value)));
    const remove = h(
      "button",
      { type: "button", class: "reality-item-delete", title: t("reality.delete") },
      "×",
    );
    remove.addEventListener("click", () => tool.removePolygon(polygon.id));
    return h(
      "li",
      { class: "reality-item", "data-polygon-id": polygon.id, "data-mode": polygon.mode },
      h("span", { class: "reality-item-name" }, t("reality.polygon", { n })),
      mode,
      height,
      h("span", { class: "bim-muted" }, "m"),
      remove,
    );
  }
}
