import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import type { MapLayer } from "../layers.ts";
import { POINT_COLOR_MODES, PointCloudStyle, type PointColorMode } from "./point-style.ts";

/** Point cloud display controls (colour by RGB / classification / height / intensity, point size, EDL). */
export class PointCloudPanel {
  private styles: PointCloudStyle[] = [];

  constructor(private readonly root: HTMLElement) {
    onLangChange(() => this.render());
  }

  /** Takes the point cloud layers; each is styled as soon as its tileset has loaded. */
  setLayers(layers: MapLayer[]): void {
    this.styles = layers.filter((l) => l.layer.type === "pointcloud").map((l) => new PointCloudStyle(l));
    for (const style of this.styles) {
      style.layer.onChange((change) => {
        if (change === "state") style.apply();
      });
      style.apply();
    }
    this.render();
  }

  private render(): void {
    this.root.hidden = this.styles.length === 0;
    this.root.replaceChildren(
      h("h2", { class: "panel-title" }, t("pointcloud.title")),
      ...this.styles.map((style) => this.controls(style)),
    );
  }

  private controls(style: PointCloudStyle): HTMLElement {
    const mode = h("select", { class: "pointcloud-mode", "aria-label": t("pointcloud.colorBy") });
    for (const m of POINT_COLOR_MODES) {
      const option = h("option", { value: m }, t(`pointcloud.mode.${m}`));
      option.selected = m === style.mode;
      mode.append(option);
    }
    mode.addEventListener("change", () => {
      style.mode = mode.value as PointColorMode;
      style.apply();
    });
    const size = h("input", {
      type: "range",
      class: "pointcloud-size",
      min: 1,
      max: 8,
      step: 1,
      value: style.pointSize,
      "aria-label": t("pointcloud.pointSize"),
    });
    const sizeValue = h("output", {}, `${style.pointSize} px`);
    size.addEventListener("input", () => {
      style.pointSize = Number(size.value);
      sizeValue.textContent = `${style.pointSize} px`;
      style.apply();
    });
    const edl = h("input", { type: "checkbox", class: "pointcloud-edl" });
    edl.checked = style.edl;
    edl.addEventListener("change", () => {
      style.edl = edl.checked;
      style.apply();
    });
    return h(
      "div",
      { class: "pointcloud-controls", "data-layer-id": style.layer.layer.id },
      h("div", { class: "layer-name" }, style.layer.layer.name),
      h("div", {}, h("label", {}, `${t("pointcloud.colorBy")} `, mode)),
      h("div", {}, h("label", {}, `${t("pointcloud.pointSize")} `, size), " ", sizeValue),
      h("div", {}, h("label", {}, edl, ` ${t("pointcloud.edl")}`)),
    );
  }
}
