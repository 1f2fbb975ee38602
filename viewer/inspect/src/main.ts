import "../../src/style.css";
import "./inspect.css";
import i18next from "i18next";
import type { Layer } from "../../../models/layer.ts";
import { fetchLayers, tilesetUrl } from "../../src/catalog.ts";
import { currentLang, initI18n, onLangChange, setLang, t, translateDom } from "../../src/i18n.ts";
import { PropertiesPanel } from "../../src/properties-panel.ts";
import { FeatureHighlight, featureFromHit, type PickedFeature } from "./features.ts";
import { inspectEn, inspectZh } from "./locales.ts";
import { InspectScene } from "./scene.ts";
import { installInspectHook } from "./test-hook.ts";

const byId = (id: string) => document.getElementById(id)!;
/** A press that moves less than this (CSS px) before release is a click, not an orbit. */
const CLICK_TOLERANCE = 4;

type Status =
  | { kind: "loading" }
  | { kind: "ready" }
  | { kind: "error"; key: string; params?: Record<string, unknown> };

async function main(): Promise<void> {
  await initI18n();
  // This page's own strings (and its wording of the panel hint) on top of the shared ones.
  i18next.addResourceBundle("zh-CN", "translation", inspectZh, true, true);
  i18next.addResourceBundle("en", "translation", inspectEn, true, true);
  translateDom();
  onLangChange(() => translateDom());
  byId("lang-toggle").addEventListener("click", () => void setLang(currentLang() === "en" ? "zh-CN" : "en"));

  const statusEl = byId("inspect-status");
  let status: Status = { kind: "loading" };
  const showStatus = (next: Status) => {
    status = next;
    statusEl.dataset.loading = String(next.kind === "loading");
    statusEl.dataset.state = next.kind;
    statusEl.textContent =
      next.kind === "error"
        ? t(next.key, next.params)
        : t(next.kind === "ready" ? "inspect.ready" : "inspect.loading");
  };
  showStatus(status);
  onLangChange(() => showStatus(status));

  const highlight = new FeatureHighlight();
  let scene: InspectScene | undefined;
  const panel = new PropertiesPanel(byId("props-panel"), byId("props-body"), () => select(undefined));
  function select(feature: PickedFeature | undefined): void {
    highlight.show(feature);
    panel.show(feature?.properties, { names: feature?.names });
    scene?.invalidate();
  }

  let layer: Layer | undefined;
  const ready = (async () => {
    const layers = await fetchLayers();
    const wanted = new URLSearchParams(location.search).get("layer");
    layer = wanted
      ? layers.find((l) => l.id === wanted)
      : (layers.find((l) => l.type === "bim") ?? layers[0]);
    if (!layer) {
      showStatus(
        wanted
          ? { kind: "error", key: "inspect.unknownLayer", params: { id: wanted } }
          : { kind: "error", key: "inspect.noLayers" },
      );
      throw new Error(wanted ? `unknown layer ${wanted}` : "no layers");
    }
    byId("layer-name").textContent = layer.name;
    document.title = `${layer.name} · CIM Twin`;

    const propsPanel = byId("props-panel");
    const bar = document.querySelector<HTMLElement>(".inspect-bar")!;
    const statusBar = document.querySelector<HTMLElement>(".inspect-status")!;
    const inspect = new InspectScene(byId("inspect-view"), tilesetUrl(layer), {
      insets: () => {
        const wide = !window.matchMedia("(max-width: 760px)").matches;
        return {
          top: bar.getBoundingClientRect().bottom + 8,
          right: wide ? window.innerWidth - propsPanel.getBoundingClientRect().left + 12 : 0,
          bottom: statusBar.offsetHeight + (wide ? 0 : propsPanel.offsetHeight + 12),
        };
      },
    });
    scene = inspect;
    inspect.onTileDisposed((tileScene) => {
      if (highlight.current?.tileScene === tileScene) select(undefined);
    });
    inspect.onRender(() => {
      if (inspect.loadError && status.kind !== "error")
        showStatus({ kind: "error", key: "inspect.failed", params: { message: inspect.loadError } });
      else if (status.kind !== "error") showStatus({ kind: inspect.tilesLoaded() ? "ready" : "loading" });
    });
    byId("reset-view").addEventListener("click", () => inspect.resetView());

    const canvas = inspect.renderer.domElement;
    let press: { x: number; y: number; id: number } | undefined;
    canvas.addEventListener("pointerdown", (e) => {
      press = e.button === 0 ? { x: e.clientX, y: e.clientY, id: e.pointerId } : undefined;
    });
    canvas.addEventListener("pointerup", (e) => {
      const start = press;
      press = undefined;
      if (!start || start.id !== e.pointerId) return;
      if (Math.hypot(e.clientX - start.x, e.clientY - start.y) > CLICK_TOLERANCE) return;
      const rect = canvas.getBoundingClientRect();
      // Empty space clears the selection, as in the city viewer.
      select(pickAt(e.clientX - rect.left, e.clientY - rect.top));
    });

    await inspect.rootLoaded;
  })();
  ready.catch((err: unknown) => {
    console.error("inspect:", err);
    if (status.kind !== "error")
      showStatus({
        kind: "error",
        key: "inspect.failed",
        params: { message: err instanceof Error ? err.message : String(err) },
      });
  });

  function pickAt(x: number, y: number): PickedFeature | undefined {
    if (!scene) return undefined;
    const hit = scene.raycast(x, y);
    const inspect = scene;
    return hit ? featureFromHit(hit, (o) => inspect.tileSceneOf(o)) : undefined;
  }

  installInspectHook({
    ready,
    layerId: () => layer?.id ?? null,
    tilesLoaded: () => scene?.tilesLoaded() ?? false,
    canvas: () => scene?.renderer.domElement,
    pickAt,
    selected: () => highlight.current,
  });
}

main().catch((err) => {
  console.error(err);
  document.body.dataset.fatal = String(err);
});
