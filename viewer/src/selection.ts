import { type Cartesian2, Cesium3DTileFeature, type Cesium3DTileset, Color, type Viewer } from "cesium";

import { pickObject } from "./scene-pick.ts";

export type FeatureProperties = Record<string, unknown>;

const HIGHLIGHT = Color.fromCssColorString("#ffd23f");

/** All metadata properties of a picked feature, in the order the tileset declares them. */
export function featureProperties(feature: Cesium3DTileFeature): FeatureProperties {
  const props: FeatureProperties = {};
  for (const id of feature.getPropertyIds()) props[id] = feature.getProperty(id);
  return props;
}

/** The 3D Tiles feature at a window position, if any (ignores the globe and other primitives). */
export function pickFeature(viewer: Viewer, position: Cartesian2): Cesium3DTileFeature | undefined {
  const picked = pickObject(viewer.scene, position);
  return picked instanceof Cesium3DTileFeature ? picked : undefined;
}

/**
 * Keeps one highlighted feature. Tile styles overwrite feature colours whenever they are
 * re-applied (opacity change), so the highlight is re-asserted after such a frame.
 */
export class Selection {
  private feature: Cesium3DTileFeature | undefined;
  private original = new Color();
  private readonly listeners = new Set<(props: FeatureProperties | undefined) => void>();

  constructor(private readonly viewer: Viewer) {}

  get current(): Cesium3DTileFeature | undefined {
    return this.feature;
  }

  select(feature: Cesium3DTileFeature | undefined): void {
    this.restore();
    this.feature = feature;
    if (feature) {
      Color.clone(feature.color, this.original);
      this.paint();
    }
    this.viewer.scene.requestRender();
    const props = feature ? featureProperties(feature) : undefined;
    for (const l of this.listeners) l(props);
  }

  clear(): void {
    this.select(undefined);
  }

  /** Call after the feature's tileset got a new style: remember the styled colour, then paint again. */
  restyled(tileset: Cesium3DTileset): void {
    const feature = this.feature;
    if (!feature || feature.tileset !== tileset) return;
    const remove = this.viewer.scene.postRender.addEventListener(() => {
      remove();
      if (this.feature !== feature) return;
      Color.clone(feature.color, this.original);
      this.paint();
      this.viewer.scene.requestRender();
    });
  }

  onChange(listener: (props: FeatureProperties | undefined) => void): void {
    this.listeners.add(listener);
  }

  private paint(): void {
    const feature = this.feature;
    if (!feature) return;
    try {
      // Nearly opaque even in a faded layer: the selected building should stand out from the rest.
      feature.color = HIGHLIGHT.withAlpha(Math.max(this.original.alpha, 0.85));
    } catch {
      // The tile was unloaded since the pick; nothing left to colour.
      this.feature = undefined;
    }
  }

  private restore(): void {
    if (!this.feature) return;
    try {
      this.feature.color = this.original;
    } catch {
      // Tile already unloaded: its colour went with it.
    }
    this.feature = undefined;
  }
}
