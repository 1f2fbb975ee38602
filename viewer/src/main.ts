import "cesium/Build/Cesium/Widgets/widgets.css";
import "./style.css";
import { type Cartesian2, ScreenSpaceEventHandler, ScreenSpaceEventType } from "cesium";
import { BimPanel } from "./bim/bim-panel.ts";
import { BimTools } from "./bim/bim-tools.ts";
import { propertyNames } from "./bim/features.ts";
import { fetchLayers } from "./catalog.ts";
import { currentLang, initI18n, onLangChange, setLang, t, translateDom } from "./i18n.ts";
import { LayerPanel } from "./layer-panel.ts";
import { MapLayer } from "./layers.ts";
import { CrossSectionTool } from "./pipes/cross-section.ts";
import { DrawTool } from "./pipes/draw-tool.ts";
import { Excavation } from "./pipes/excavation.ts";
import { PipePanel } from "./pipes/pipe-panel.ts";
import { PipeTools } from "./pipes/pipe-tools.ts";
import { openProfile } from "./pipes/profile.ts";
import { pipeDisplayProperties } from "./pipes/properties.ts";
import { PointCloudPanel } from "./pointcloud/point-cloud-panel.ts";
import { PropertiesPanel } from "./properties-panel.ts";
import { createOfflineViewer } from "./scene.ts";
import { pickFeature, Selection } from "./selection.ts";
import { StatusBar } from "./status-bar.ts";
import { installTestHook } from "./test-hook.ts";

const byId = (id: string) => document.getElementById(id)!;

async function main(): Promise<void> {
  await initI18n();
  translateDom();
  onLangChange(() => translateDom());

  const langButton = byId("lang-toggle");
  langButton.addEventListener("click", () => void setLang(currentLang() === "en" ? "zh-CN" : "en"));

  const viewer = createOfflineViewer(byId("cesium"), byId("credits"));
  const selection = new Selection(viewer);
  const propsPanel = new PropertiesPanel(byId("props-panel"), byId("props-body"), () => selection.clear());
  let pipeTools: PipeTools[] = [];
  selection.onChange((props) => {
    const tileset = selection.current?.tileset;
    const names = tileset ? propertyNames(tileset) : undefined;
    // Pipe features: Chinese survey column names and units instead of raw schema ids.
    if (props && tileset && pipeTools.some((p) => p.layer.tileset === tileset))
      propsPanel.show(pipeDisplayProperties(props, names), { grouped: false });
    else propsPanel.show(props, { names });
  });
  new StatusBar(viewer, byId("status-bar"));

  const drawTool = new DrawTool(viewer);
  const clicks = new ScreenSpaceEventHandler(viewer.scene.canvas);
  clicks.setInputAction((click: { position: Cartesian2 }) => {
    // Clicks while drawing a pit or a section line are points, not picks.
    if (drawTool.active) return;
    // Empty space (globe or sky) clears the selection.
    selection.select(pickFeature(viewer, click.position));
  }, ScreenSpaceEventType.LEFT_CLICK);

  const layerPanel = new LayerPanel(byId("layer-list"));
  const bimPanel = new BimPanel(byId("bim-panel"));
  const pipePanel = new PipePanel(byId("pipe-panel"));
  const pointCloudPanel = new PointCloudPanel(
    byId("layer-panel").appendChild(Object.assign(document.createElement("div"), { id: "pointcloud-panel" })),
  );
  pipePanel.onProfile = (tools) => void openProfile(tools);
  let mapLayers: MapLayer[] = [];
  const excavation = new Excavation(viewer, drawTool, () =>
    mapLayers.flatMap((l) => (l.layer.type !== "pipes" && l.tileset ? [l.tileset] : [])),
  );
  const crossSection = new CrossSectionTool(viewer, drawTool, () => pipePanel.activeTools);
  pipePanel.sceneTools = { excavation, crossSection };
  let bimTools: BimTools[] = [];
  // Clicking an element of another BIM layer brings that layer's tools forward.
  selection.onChange(() => {
    const tools = bimTools.find((b) => b.layer.tileset && b.layer.tileset === selection.current?.tileset);
    if (tools) bimPanel.activate(tools);
  });
  const ready = loadLayers();
  installTestHook(
    viewer,
    () => mapLayers,
    selection,
    ready,
    () => bimPanel.activeTools,
    () => pipePanel.activeTools,
    { excavation, crossSection },
  );

  const tilesStatus = byId("tiles-status");
  viewer.scene.postRender.addEventListener(() => {
    const loading = mapLayers.some((l) => !l.tilesLoaded());
    if (tilesStatus.dataset.loading !== String(loading)) {
      tilesStatus.dataset.loading = String(loading);
      tilesStatus.textContent = loading ? t("status.tilesLoading") : t("status.tilesReady");
    }
  });
  onLangChange(() => {
    tilesStatus.textContent =
      tilesStatus.dataset.loading === "true" ? t("status.tilesLoading") : t("status.tilesReady");
  });

  async function loadLayers(): Promise<void> {
    try {
      const layers = await fetchLayers();
      mapLayers = layers.map((layer) => new MapLayer(layer, viewer));
      for (const layer of mapLayers) {
        layer.onChange((change) => {
          if ((change === "opacity" || change === "style") && layer.tileset)
            selection.restyled(layer.tileset);
          if (change === "show" && !layer.show && selection.current?.tileset === layer.tileset)
            selection.clear();
        });
      }
      layerPanel.setState({ kind: "ready" });
      layerPanel.setLayers(mapLayers);
      pointCloudPanel.setLayers(mapLayers);
      bimTools = mapLayers
        .filter((l) => l.layer.type === "bim")
        .map((l) => new BimTools(l, viewer, selection));
      bimPanel.setTools(bimTools);
      for (const tools of bimTools) void tools.loadIndex();
      pipeTools = mapLayers
        .filter((l) => l.layer.type === "pipes")
        .map((l) => new PipeTools(l, viewer, selection));
      pipePanel.setTools(pipeTools[0]);
      const loads = mapLayers.map((l) => l.load());
      // Fly as soon as the first tileset's bounds are known; the others keep loading meanwhile.
      if (mapLayers[0]) {
        await loads[0];
        await mapLayers[0].flyTo(1.5);
      }
      await Promise.all(loads);
    } catch (err) {
      console.error("layer catalog:", err);
      layerPanel.setState({ kind: "error", message: err instanceof Error ? err.message : String(err) });
    }
  }
}

main().catch((err) => {
  console.error(err);
  document.body.dataset.fatal = String(err);
});
