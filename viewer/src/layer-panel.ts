import { h } from "./dom.ts";
import { onLangChange, t } from "./i18n.ts";
import type { MapLayer } from "./layers.ts";

export type CatalogState = { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready" };

/** The layer tree: one row per catalog layer with visibility, opacity and fly-to. */
export class LayerPanel {
  private layers: MapLayer[] = [];
  private state: CatalogState = { kind: "loading" };

  constructor(private readonly list: HTMLElement) {
    onLangChange(() => this.render());
    this.render();
  }

  setState(state: CatalogState): void {
    this.state = state;
    this.render();
  }

  setLayers(layers: MapLayer[]): void {
    this.layers = layers;
    for (const layer of layers) layer.onChange(() => this.updateRow(layer));
    this.render();
  }

  private render(): void {
    if (this.state.kind === "loading") {
      this.list.replaceChildren(h("li", { class: "panel-note" }, t("layers.loading")));
    } else if (this.state.kind === "error") {
      this.list.replaceChildren(
        h("li", { class: "panel-note error" }, t("layers.error", { message: this.state.message })),
      );
    } else if (this.layers.length === 0) {
      this.list.replaceChildren(h("li", { class: "panel-note" }, t("layers.empty")));
    } else {
      this.list.replaceChildren(...this.layers.map((l) => this.row(l)));
    }
  }

  private row(layer: MapLayer): HTMLElement {
    const { id, name, type } = layer.layer;
    const checkbox = h("input", { type: "checkbox", class: "layer-toggle", title: t("layers.show") });
    checkbox.checked = layer.show;
    checkbox.addEventListener("change", () => {
      layer.show = checkbox.checked;
    });

    const slider = h("input", {
      type: "range",
      class: "layer-opacity",
      min: 0,
      max: 100,
      step: 5,
      value: Math.round(layer.opacity * 100),
      "aria-label": t("layers.opacity"),
    });
    slider.addEventListener("input", () => layer.setOpacity(Number(slider.value) / 100));

    const fly = h(
      "button",
      { type: "button", class: "layer-fly", title: t("layers.flyToTitle") },
      t("layers.flyTo"),
    );
    fly.addEventListener("click", () => void layer.flyTo());

    return h(
      "li",
      { class: layer.show ? "layer" : "layer hidden-layer", "data-layer-id": id, "data-state": layer.state },
      h(
        "div",
        { class: "layer-head" },
        h("label", { class: "layer-label" }, checkbox, h("span", { class: "layer-name", title: id }, name)),
        h("span", { class: "layer-type" }, t(`layers.type.${type}`)),
      ),
      h(
        "div",
        { class: "layer-controls" },
        h("span", { class: "layer-opacity-label" }, t("layers.opacity")),
        slider,
        h("output", { class: "layer-opacity-value" }, `${Math.round(layer.opacity * 100)}%`),
        fly,
      ),
      layer.state === "error" ? h("div", { class: "layer-error" }, t("layers.loadFailed")) : undefined,
    );
  }

  /** Refreshes one row in place so an active slider drag is not interrupted by a full re-render. */
  private updateRow(layer: MapLayer): void {
    const row = this.list.querySelector<HTMLElement>(`li[data-layer-id="${CSS.escape(layer.layer.id)}"]`);
    if (!row) return;
    if (row.dataset.state !== layer.state) {
      row.replaceWith(this.row(layer));
      return;
    }
    const value = row.querySelector("output");
    if (value) value.textContent = `${Math.round(layer.opacity * 100)}%`;
    row.classList.toggle("hidden-layer", !layer.show);
  }
}
