import type { FeatureProperties } from "../../src/selection.ts";
import type { PickedFeature } from "./features.ts";

/** A feature found on screen: where a real mouse click (viewport CSS pixels) will pick it. */
export interface InspectFeatureOnScreen {
  x: number;
  y: number;
  properties: FeatureProperties;
}

/**
 * What automated browser tests may read on the inspection page. It only reports state and finds
 * things on screen; tests act through the real mouse and read the DOM.
 */
export interface CimInspectHook {
  /** Resolves once the layer is known and its root tileset is placed and framed (rejects on failure). */
  ready: Promise<void>;
  isReady(): boolean;
  layerId(): string | null;
  /** Every tile for the current view is loaded and drawn. */
  tilesLoaded(): boolean;
  /**
   * A viewport point squarely on a feature whose properties satisfy `predicate` (its neighbours pick
   * the same feature) and not covered by UI, scanning from the middle of the free canvas outwards.
   */
  screenPositionOf(predicate: (properties: FeatureProperties) => boolean): InspectFeatureOnScreen | null;
  /** Properties of the feature drawn at a viewport point, or null (background, UI). */
  featureAt(x: number, y: number): FeatureProperties | null;
  selectedProperties(): FeatureProperties | null;
}

declare global {
  interface Window {
    cimInspect?: CimInspectHook;
  }
}

export interface InspectHookDeps {
  ready: Promise<void>;
  layerId(): string | null;
  tilesLoaded(): boolean;
  canvas(): HTMLCanvasElement | undefined;
  /** Picks at a canvas point (CSS pixels relative to the canvas). */
  pickAt(x: number, y: number): PickedFeature | undefined;
  selected(): PickedFeature | undefined;
}

export function installInspectHook(deps: InspectHookDeps): void {
  let isReady = false;
  void deps.ready.then(
    () => {
      isReady = true;
    },
    () => {},
  );

  const featureAt = (x: number, y: number): PickedFeature | undefined => {
    const canvas = deps.canvas();
    if (!canvas || document.elementFromPoint(x, y) !== canvas) return undefined;
    const rect = canvas.getBoundingClientRect();
    return deps.pickAt(x - rect.left, y - rect.top);
  };
  const same = (a: PickedFeature | undefined, b: PickedFeature | undefined) =>
    a !== undefined && b !== undefined && a.tileScene === b.tileScene && a.featureId === b.featureId;

  window.cimInspect = {
    ready: deps.ready,
    isReady: () => isReady,
    layerId: deps.layerId,
    tilesLoaded: deps.tilesLoaded,
    featureAt: (x, y) => featureAt(x, y)?.properties ?? null,
    selectedProperties: () => deps.selected()?.properties ?? null,
    screenPositionOf(predicate) {
      const canvas = deps.canvas();
      if (!canvas) return null;
      const rect = canvas.getBoundingClientRect();
      const step = 16;
      const margin = 5;
      const points: [number, number][] = [];
      for (let y = rect.top + step; y < rect.bottom - step; y += step)
        for (let x = rect.left + step; x < rect.right - step; x += step) points.push([x, y]);
      const cx = rect.left + rect.width / 2;
      const cy = rect.top + rect.height / 2;
      points.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
      for (const [x, y] of points) {
        const feature = featureAt(x, y);
        if (!feature || !predicate(feature.properties)) continue;
        const around: [number, number][] = [
          [x - margin, y],
          [x + margin, y],
          [x, y - margin],
          [x, y + margin],
        ];
        if (around.every(([ax, ay]) => same(feature, featureAt(ax, ay))))
          return { x, y, properties: feature.properties };
      }
      return null;
    },
  };
}
