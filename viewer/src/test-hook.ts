import { Cartesian2, Cartesian3, type Cesium3DTileFeature, SceneTransforms, type Viewer } from "cesium";
import type { BimTools, BimToolsState } from "./bim/bim-tools.ts";
import type { MapLayer } from "./layers.ts";
import type { CrossSectionState, CrossSectionTool } from "./pipes/cross-section.ts";
import type { Excavation, ExcavationState } from "./pipes/excavation.ts";
import type { PipeTools, PipeToolsState } from "./pipes/pipe-tools.ts";
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
    pipeFeatureColor: (id) => pipeTools()?.featureById(id)?.color.toCssColorString() ?? null,
    pipesFlyTo: async (id) => (await pipeTools()?.flyToFeature(id)) ?? false,
    excavation: () => sceneTools?.excavation.state() ?? null,
    crossSection: () => sceneTools?.crossSection.state() ?? null,
    openVideo: (url, title) => {
      openVideoPopup(document.body, { url, title: title ?? url });
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
