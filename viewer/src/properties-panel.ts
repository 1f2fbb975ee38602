import { h } from "./dom.ts";
import { formatValue, labelFor } from "./format.ts";
import { onLangChange, t } from "./i18n.ts";
import type { FeatureProperties } from "./selection.ts";

/** Shows every metadata property of the selected feature, generically (keys are data). */
export class PropertiesPanel {
  private props: FeatureProperties | undefined;

  constructor(
    private readonly panel: HTMLElement,
    private readonly body: HTMLElement,
    onClose: () => void,
  ) {
    panel.querySelector(".panel-close")?.addEventListener("click", onClose);
    onLangChange(() => this.render());
    this.render();
  }

  show(props: FeatureProperties | undefined): void {
    this.props = props;
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
    const title = typeof props.name === "string" && props.name ? props.name : String(props.id ?? "");
    const rows = keys.map((key) => {
      const label = labelFor(key);
      return h(
        "div",
        { class: "prop-row", "data-key": key },
        h(
          "dt",
          { class: "prop-key" },
          h("span", { class: "prop-label" }, label ?? key),
          label && label !== key ? h("span", { class: "prop-raw-key" }, key) : undefined,
        ),
        h("dd", { class: "prop-value" }, formatValue(key, props[key])),
      );
    });
    this.body.replaceChildren(
      title ? h("h3", { class: "feature-title" }, title) : "",
      h("p", { class: "feature-count" }, t("props.count", { count: keys.length })),
      h("dl", { class: "prop-list" }, ...rows),
    );
  }
}
