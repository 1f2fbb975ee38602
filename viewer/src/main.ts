import "cesium/Build/Cesium/Widgets/widgets.css";
import "./style.css";
import { type Cartesian2, ScreenSpaceEventHandler, ScreenSpaceEventType } from "cesium";
import { BimPanel } from "./bim/bim-panel.ts";
import { BimTools } from "./bim/bim-tools.ts";
import { propertyNames } from "./bim/features.ts";
import { CameraLayer } from "./cameras/camera-layer.ts";
import { CameraPanel } from "./cameras/camera-panel.ts";
import { CameraPopups, installCameraPopups } from "./cameras/camera-popup.ts";
import { fetchLayers } from "./catalog.ts";
import { currentLang, initI18n, onLangChange, setLang, t, translateDom } from "./i18n.ts";
import { IotViewer } from "./iot/iot-viewer.ts";
import { LayerPanel } from "./layer-panel.ts";
import { MapLayer } from "./layers.ts";
import { CrossSectionTool } from "./pipes/cross-section.ts";
import { DrawTool } from "./pipes/draw-tool.ts";
import { Excavation } from "./pipes/excavation.ts";
import { PipePanel } from "./pipes/pipe-panel.ts";
import { PipeTools } from "./pipes/pipe-tools.ts";
import { openProfile } from "./pipes/profile.ts";
import { pipeDisplayProperties } from "./pipes/properties.ts";
import { PlanningPanel } from "./planning/planning-panel.ts";
import { PlanningTools } from "./planning/planning-tools.ts";
import { PointCloudPanel } from "./pointcloud/point-cloud-panel.ts";
import { PropertiesPanel } from "./properties-panel.ts";
import { RealityFlatten } from "./reality/reality-flatten.ts";
import { RealityPanel } from "./reality/reality-panel.ts";
import { createOfflineViewer } from "./scene.ts";
import { pickFeature, Selection } from "./selection.ts";
import { StatusBar } from "./status-bar.ts";
import { installPlanningHook, installRealityHook, installTestHook } from "./test-hook.ts";
import { replayIntoIot } from "./timeline/iot-replay.ts";
import { TimeTravel } from "./timeline/time-travel.ts";
import { TimelineBar } from "./timeline/timeline-bar.ts";

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
  const reality = new RealityFlatten(viewer, drawTool);
  new RealityPanel(byId("reality-panel"), reality);
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
    mapLayers
      .flatMap((l) => (l.layer.type !== "pipes" && l.tileset ? [l.tileset] : []))
      .concat(reality.flatTilesets()),
  );
  const crossSection = new CrossSectionTool(viewer, drawTool, () => pipePanel.activeTools);
  pipePanel.sceneTools = { excavation, crossSection };
  let bimTools: BimTools[] = [];
  // Clicking an element of another BIM layer brings that layer's tools forward.
  selection.onChange(() => {
    const tools = bimTools.find((b) => b.layer.tileset && b.layer.tileset === selection.current?.tileset);
    if (tools) bimPanel.activate(tools);
  });
  const cameraPopups = new CameraPopups(viewer);
  installCameraPopups(cameraPopups);
  const cameraLayer = new CameraLayer(viewer, cameraPopups, () => drawTool.active !== undefined);
  new CameraPanel(
    byId("layer-panel").appendChild(Object.assign(document.createElement("div"), { id: "camera-panel" })),
    cameraLayer,
  );
  const iot = new IotViewer(viewer, {
    toggleParent: byId("layer-panel"),
    alarmPanel: byId("alarm-panel"),
    layers: () => mapLayers,
    isBusy: () => drawTool.active !== undefined,
  });
  const ready = Promise.all([loadLayers(), cameraLayer.load(), iot.start()]).then(() => undefined);
  // Time travel: the last 24 h replayed on the sensors, the alarm list and the alarm colours.
  const timeTravel = new TimeTravel();
  replayIntoIot(timeTravel, iot);
  const timelineBar = new TimelineBar(timeTravel);
  document.body.append(timelineBar.element);
  onLangChange(() => timelineBar.render());
  installTestHook(
    viewer,
    () => mapLayers,
    selection,
    ready,
    () => bimPanel.activeTools,
    () => pipePanel.activeTools,
    { excavation, crossSection },
    cameraLayer,
    iot,
  );

  const planningTools = new PlanningTools(viewer, drawTool, () => mapLayers);
  const planningPanel = new PlanningPanel(byId("planning-panel"), planningTools);
  byId("planning-toggle").addEventListener("click", () => planningPanel.toggle());
  installPlanningHook(planningTools);
  installRealityHook(reality);

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
          if (change === "state") iot.layersChanged();
        });
      }
      iot.layersChanged();
      layerPanel.setState({ kind: "ready" });
      layerPanel.setLayers(mapLayers);
      pointCloudPanel.setLayers(mapLayers);
      reality.setLayers(mapLayers);
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
