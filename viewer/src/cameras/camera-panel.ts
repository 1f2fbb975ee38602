import { h } from "../dom.ts";
import "./cameras.css";
import { onLangChange, t } from "../i18n.ts";
import type { CameraLayer } from "./camera-layer.ts";

/** The cameras' row in the layer panel: show the layer, show every frustum or only the focused one. */
export class CameraPanel {
  constructor(
    private readonly root: HTMLElement,
    private readonly layer: CameraLayer,
  ) {
    root.classList.add("camera-panel");
    onLangChange(() => this.render());
    layer.onChange(() => this.update());
    this.render();
  }

  private render(): void {
    const show = h("input", { type: "checkbox", class: "camera-layer-toggle" });
    show.addEventListener("change", () => {
      this.layer.show = show.checked;
    });
    const all = h("input", { type: "checkbox", class: "camera-frustum-toggle" });
    all.addEventListener("change", () => {
      this.layer.frustumMode = all.checked ? "all" : "focus";
    });
    this.root.replaceChildren(
      h(
        "div",
        { class: "layer-head" },
        h("label", { class: "layer-label" }, show, h("span", { class: "layer-name" }, t("cameras.layer"))),
        h("span", { class: "layer-type camera-count" }),
      ),
      h("label", { class: "camera-frustum-label" }, all, t("cameras.allFrustums")),
      h("div", { class: "layer-error camera-error", hidden: true }),
    );
    this.update();
  }

  private update(): void {
    const state = this.layer.state();
    const q = <T extends HTMLElement>(sel: string) => this.root.querySelector<T>(sel)!;
    q<HTMLInputElement>(".camera-layer-toggle").checked = state.show;
    q<HTMLInputElement>(".camera-frustum-toggle").checked = state.frustumMode === "all";
    q(".camera-count").textContent = t("cameras.count", { count: state.count });
    const error = q(".camera-error");
    error.hidden = state.error === null;
    error.textContent = state.error ? t("cameras.loadFailed", { message: state.error }) : "";
  }
}
