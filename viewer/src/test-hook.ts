import {
  Cartesian2,
  Cartesian3,
  type Cesium3DTile,
  type Cesium3DTileFeature,
  type Cesium3DTileset,
  SceneTransforms,
  type Viewer,
} from "cesium";
import type { BimTools, BimToolsState } from "./bim/bim-tools.ts";
import type { CameraLayer, CameraLayerState } from "./cameras/camera-layer.ts";
import { renderNearestCameras } from "./cameras/nearest-cameras.ts";
import type { IotState, IotViewer } from "./iot/iot-viewer.ts";
import type { MapLayer } from "./layers.ts";
import type { CrossSectionState, CrossSectionTool } from "./pipes/cross-section.ts";
import type { Excavation, ExcavationState } from "./pipes/excavation.ts";
import type { PipeTools, PipeToolsState } from "./pipes/pipe-tools.ts";
import type { PlanningState, PlanningTools } from "./planning/planning-tools.ts";
import type { MeshSample, RealityFlatten, RealityFlattenState } from "./reality/reality-flatten.ts";
import { type FeatureProperties, featureProperties, pickFeature, type Selection } from "./selection.ts";
import { openVideoPopup } from "./video/video-player.ts";

/** A feature found on screen: where a real mouse click (viewport CSS pixels) will hit it. */
export interface FeatureOnScreen {
  x: number;
  y: number;
  properties: FeatureProperties;
}

/**
 * What automated browser tests may read. It only reports state and locates things on screen;
 * the tests themselves act through the real mouse and read the DOM.
 */
export interface CimViewerHook {
  viewer: Viewer;
  /** Planning analysis results (measurements, height limit, sunlight, ...), once the planning tools exist. */
  planning?(): PlanningState;
  /** Colour (CSS rgba) the buildings layer gives the loaded building with this id (height-limit highlight), or null. */
  planningBuildingColor?(id: string): string | null;
  /** Reality-mesh flatten / clip tool: polygons, mode, heights, flattened copies; set when the tool exists. */
  reality?(): RealityFlattenState;
  /**
   * The reality mesh straight down at a point as it is shown (flattened, cut), or the globe where it
   * is cut away (onMesh false); null where nothing is rendered.
   */
  realitySampleAt?(lon: number, lat: number): MeshSample | null;
  /** Resolves once the catalog is read, tilesets are added and the first flight has finished. */
  ready: Promise<void>;
  isReady(): boolean;
  layerIds(): string[];
  /** All (or one layer's) tiles for the current view are loaded. */
  tilesLoaded(layerId?: string): boolean;
  /**
   * A point squarely on a feature, scanning from the canvas centre outwards; with `predicate`, on a
   * feature whose properties satisfy it, e.g. `(p) => p.IfcClass === "IfcWall"`.
   */
  findFeatureOnScreen(
    predicate?: (properties: FeatureProperties) => boolean,
    options?: ScanOptions,
  ): FeatureOnScreen | null;
  /** Properties of the feature drawn at a viewport point, or null (globe, sky, UI panel). */
  featureAt(x: number, y: number): FeatureProperties | null;
  /** Viewport point where a geographic position (degrees, metres) is drawn, or null if not on the canvas. */
  screenPosition(lon: number, lat: number, height: number): { x: number; y: number } | null;
  selectedProperties(): FeatureProperties | null;
  /** State of the BIM tools panel's layer (storey filter, classes, explode, section), or null without BIM layer. */
  bim(): BimToolsState | null;
  /** State of the pipeline tools panel's layer (underground mode, classes, analysis), or null without pipes. */
  pipes(): PipeToolsState | null;
  /**
   * Colour (CSS rgba) the pipes layer's style gives the loaded feature with this id, or null when no
   * such feature is loaded: tells whether an analysis result is highlighted.
   */
  pipeFeatureColor(id: string): string | null;
  /** Flies the camera close to a pipe node or link (as a listed result does); resolves when it arrives. */
  pipesFlyTo(id: string): Promise<boolean>;
  /** Pits dug (outlines, depth) and the globe's clipping polygons, or null without pipe tools. */
  excavation(): ExcavationState | null;
  /** Cross-section tool: drawn line, crossed pipe ids, whether the chart is open; null without pipe tools. */
  crossSection(): CrossSectionState | null;
  /**
   * Opens the camera video popup on a stream URL, as a camera click will; the test then reads the
   * `.video-popup video` element itself. Until camera icons exist this is the only way in.
   */
  openVideo(url: string, title?: string): void;
  /** Cameras layer: shown, count, drawn frustums, open popup and the video projection; null without it. */
  cameras(): CameraLayerState | null;
  /** Viewport point of a camera's icon, for a real mouse click (null when not on the canvas). */
  cameraIconOnScreen(id: string): { x: number; y: number } | null;
  /** Reads the camera registry again (a test registers its cameras after the page opened). */
  reloadCameras(): Promise<void>;
  /** Flies the view straight above a camera's frustum; resolves true when it arrives. */
  cameraFrame(id: string): Promise<boolean>;
  /**
   * Renders the nearest-cameras list of a point (renderNearestCameras, as the alarm popup does) into a
   * panel `#nearest-cameras-test`; the test then reads and clicks it.
   */
  showNearestCameras(lon: number, lat: number): Promise<void>;
  /**
   * Live IoT: sensors layer (count, clustering, markers by state), open sensor chart, alarm list and the
   * assets painted by alarms; null without it. The red-pipe check reads `pipeFeatureColor`.
   */
  iot(): IotState | null;
  /** Viewport point of a sensor's marker (null when not on the canvas). */
  sensorOnScreen(deviceId: string): { x: number; y: number } | null;
  /** Reads the device registry again (a test registers many sensors after the page opened). */
  reloadSensors(): Promise<void>;
  /** The text of a sensor's map label; null for a sensor not on the map. */
  sensorLabel(deviceId: string): string | null;
}

/** Grid step and "squarely on" margin (CSS pixels) of findFeatureOnScreen; thin pipes need small ones. */
export interface ScanOptions {
  step?: number;
  margin?: number;
}

declare global {
  interface Window {
    cimViewer?: CimViewerHook;
  }
}

export function installTestHook(
  viewer: Viewer,
  layers: () => MapLayer[],
  selection: Selection,
  ready: Promise<void>,
  bimTools: () => BimTools | undefined = () => undefined,
  pipeTools: () => PipeTools | undefined = () => undefined,
  sceneTools?: { excavation: Excavation; crossSection: CrossSectionTool },
  cameraLayer?: CameraLayer,
  iot?: IotViewer,
): void {
  let isReady = false;
  void ready.then(() => {
    isReady = true;
  });
  window.cimViewer = {
    viewer,
    ready,
    isReady: () => isReady,
    layerIds: () => layers().map((l) => l.layer.id),
    tilesLoaded: (layerId) =>
      layers()
        .filter((l) => layerId === undefined || l.layer.id === layerId)
        .every((l) => l.tilesLoaded()),
    findFeatureOnScreen: (predicate, options) => findFeatureOnScreen(viewer, predicate, options),
    featureAt: (x, y) => {
      const rect = viewer.scene.canvas.getBoundingClientRect();
      if (document.elementFromPoint(x, y) !== viewer.scene.canvas) return null;
      const feature = pickFeature(viewer, new Cartesian2(x - rect.left, y - rect.top));
      return feature ? featureProperties(feature) : null;
    },
    screenPosition: (lon, lat, height) => {
      const canvas = viewer.scene.canvas;
      const rect = canvas.getBoundingClientRect();
      const p = SceneTransforms.worldToWindowCoordinates(
        viewer.scene,
        Cartesian3.fromDegrees(lon, lat, height),
      );
      if (!p || p.x < 0 || p.y < 0 || p.x > rect.width || p.y > rect.height) return null;
      return { x: rect.left + p.x, y: rect.top + p.y };
    },
    selectedProperties: () => (selection.current ? featureProperties(selection.current) : null),
    bim: () => bimTools()?.state() ?? null,
    pipes: () => pipeTools()?.state() ?? null,
    pipeFeatureColor: (id) => {
      const tools = pipeTools();
      const tileset = tools?.layer.tileset;
      if (!tools || !tileset) return null;
      const feature = drawnFeatureById(viewer, tileset, id) ?? tools.featureById(id);
      return feature?.color.toCssColorString() ?? null;
    },
    pipesFlyTo: async (id) => (await pipeTools()?.flyToFeature(id)) ?? false,
    excavation: () => sceneTools?.excavation.state() ?? null,
    crossSection: () => sceneTools?.crossSection.state() ?? null,
    openVideo: (url, title) => {
      openVideoPopup(document.body, { url, title: title ?? url });
    },
    cameras: () => cameraLayer?.state() ?? null,
    cameraIconOnScreen: (id) => cameraLayer?.iconOnScreen(id) ?? null,
    reloadCameras: async () => cameraLayer?.load(),
    cameraFrame: async (id) => (await cameraLayer?.frame(id)) ?? false,
    showNearestCameras: async (lon, lat) => {
      let host = document.getElementById("nearest-cameras-test");
      if (!host) {
        host = Object.assign(document.createElement("aside"), {
          id: "nearest-cameras-test",
          className: "panel side-panel right",
        });
        document.body.append(host);
      }
      await renderNearestCameras(host, lon, lat);
    },
    iot: () => iot?.state() ?? null,
    reloadSensors: async () => iot?.reloadDevices(),
    sensorLabel: (deviceId) => iot?.sensors.labelOf(deviceId) ?? null,
    sensorOnScreen: (deviceId) => {
      const device = iot?.directory.get(deviceId);
      return device ? window.cimViewer!.screenPosition(device.lon, device.lat, device.height) : null;
    },
  };
}

/**
 * Scans the canvas from the centre outwards for a point that is squarely on a feature (its
 * neighbours pick the same feature) and not covered by a UI panel, so a click there selects it.
 */
function findFeatureOnScreen(
  viewer: Viewer,
  predicate?: (properties: FeatureProperties) => boolean,
  options: ScanOptions = {},
): FeatureOnScreen | null {
  const canvas = viewer.scene.canvas;
  const rect = canvas.getBoundingClientRect();
  const step = Math.max(2, options.step ?? 24);
  const margin = Math.max(0, options.margin ?? 6);
  const points: [number, number][] = [];
  for (let y = step; y < rect.height - step; y += step) {
    for (let x = step; x < rect.width - step; x += step) points.push([x, y]);
  }
  const cx = rect.width / 2;
  const cy = rect.height / 2;
  points.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));

  const same = (f: Cesium3DTileFeature, x: number, y: number) =>
    pickFeature(viewer, new Cartesian2(x, y)) === f;
  // Each feature's properties are read once, however many grid points it covers.
  const accepted = new Map<Cesium3DTileFeature, boolean>();
  const accepts = (f: Cesium3DTileFeature) => {
    let ok = accepted.get(f);
    if (ok === undefined) {
      ok = predicate ? predicate(featureProperties(f)) : true;
      accepted.set(f, ok);
    }
    return ok;
  };
  for (const [x, y] of points) {
    if (document.elementFromPoint(rect.left + x, rect.top + y) !== canvas) continue;
    const feature = pickFeature(viewer, new Cartesian2(x, y));
    if (!feature || !accepts(feature)) continue;
    if (
      !same(feature, x - margin, y) ||
      !same(feature, x + margin, y) ||
      !same(feature, x, y - margin) ||
      !same(feature, x, y + margin)
    )
      continue;
    return { x: rect.left + x, y: rect.top + y, properties: featureProperties(feature) };
  }
  return null;
}

/** Adds the planning tools' state to the hook (installed after installTestHook, from main). */
export function installPlanningHook(tools: PlanningTools): void {
  const hook = window.cimViewer;
  if (!hook) return;
  hook.planning = () => tools.state();
  hook.planningBuildingColor = (id) => tools.buildingColor(id);
}

/** Adds the reality-mesh flatten tool's state and mesh sampling to the hook (installed after installTestHook). */
export function installRealityHook(tool: RealityFlatten): void {
  const hook = window.cimViewer;
  if (!hook) return;
  hook.reality = () => tool.state();
  hook.realitySampleAt = (lon, lat) => tool.sampleAt(lon, lat) ?? null;
}

/** Frame (counted by the hook) in which each tile was last drawn, for the tilesets the hook was asked about. */
const drawnInFrame = new WeakMap<Cesium3DTile, number>();
const watchedTilesets = new WeakSet<Cesium3DTileset>();
let frameCount = 0;
let countingFrames = false;

/**
 * The feature with this `id` in a tile drawn in the latest frame. A replaced ancestor tile stays loaded
 * but is no longer drawn, and Cesium restyles only drawn tiles: its copy of the feature keeps the colour
 * of an older style, so it says nothing about what the user sees.
 */
function drawnFeatureById(
  viewer: Viewer,
  tileset: Cesium3DTileset,
  id: string,
): Cesium3DTileFeature | undefined {
  if (!countingFrames) {
    countingFrames = true;
    viewer.scene.preRender.addEventListener(() => frameCount++);
  }
  if (!watchedTilesets.has(tileset)) {
    watchedTilesets.add(tileset);
    tileset.tileVisible.addEventListener((tile: Cesium3DTile) => drawnInFrame.set(tile, frameCount));
    viewer.scene.requestRender();
    return undefined;
  }
  let latest = -1;
  let found: Cesium3DTileFeature | undefined;
  const stack: Cesium3DTile[] = tileset.root ? [tileset.root] : [];
  while (stack.length) {
    const tile = stack.pop()!;
    stack.push(...tile.children);
    const frame = drawnInFrame.get(tile) ?? -1;
    if (frame <= latest) continue;
    const n = tile.content?.featuresLength ?? 0;
    for (let i = 0; i < n; i++) {
      const feature = tile.content.getFeature(i);
      if (feature?.getProperty("id") !== id) continue;
      latest = frame;
      found = feature;
      break;
    }
  }
  return found;
}
