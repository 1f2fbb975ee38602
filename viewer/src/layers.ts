import {
  BoundingSphere,
  Cesium3DTileStyle,
  Cesium3DTileset,
  Math as CesiumMath,
  Ellipsoid,
  HeadingPitchRange,
  Rectangle,
  type Viewer,
} from "cesium";
import type { Layer } from "../../models/layer.ts";
import { flyToSphere } from "./camera-flight.ts";
import { tilesetUrl } from "./catalog.ts";

export type LayerState = "loading" | "ready" | "error";
export type LayerChange = "state" | "show" | "opacity" | "style";
/** Builds a layer's style for its current opacity (0..1); BIM tools use it to filter and ghost elements. */
export type StyleBuilder = (opacity: number) => Cesium3DTileStyle;

/** Priority of a style shown for a while over the layer's usual one (an analysis result over alarm colours). */
export const RESULT_STYLE_PRIORITY = 10;

/** One catalog layer on the globe: its tileset and the user's display choices. */
export class MapLayer {
  tileset: Cesium3DTileset | undefined;
  state: LayerState = "loading";
  error: string | undefined;
  opacity = 1;
  private visible = true;
  /** Style builders by priority: the highest one present styles the layer. */
  private readonly styleBuilders = new Map<number, StyleBuilder>();
  private readonly listeners = new Set<(change: LayerChange) => void>();

  constructor(
    readonly layer: Layer,
    private readonly viewer: Viewer,
  ) {}

  async load(): Promise<void> {
    try {
      const tileset = await Cesium3DTileset.fromUrl(tilesetUrl(this.layer), {
        // Building heights are absolute (the ingest writes real elevations): no terrain clamping needed.
        maximumScreenSpaceError: 8,
      });
      if (this.viewer.isDestroyed()) return;
      tileset.show = this.visible;
      tileset.style = this.styleFor(this.opacity);
      this.viewer.scene.primitives.add(tileset);
      this.tileset = tileset;
      this.state = "ready";
    } catch (err) {
      this.state = "error";
      this.error = err instanceof Error ? err.message : String(err);
      console.error(`layer ${this.layer.id}:`, err);
    }
    this.changed("state");
  }

  get show(): boolean {
    return this.visible;
  }

  set show(value: boolean) {
    this.visible = value;
    if (this.tileset) this.tileset.show = value;
    this.viewer.scene.requestRender();
    this.changed("show");
  }

  setOpacity(alpha: number): void {
    this.opacity = Math.min(1, Math.max(0, alpha));
    if (this.tileset) this.tileset.style = this.styleFor(this.opacity);
    this.viewer.scene.requestRender();
    this.changed("opacity");
  }

  /**
   * Sets (or with undefined removes) how the layer's style is built at a priority; the highest one present wins,
   * the default being plain opacity. A tool that shows a result for a while sets it above the layer's usual
   * style, so removing it brings that style back (alarm colours after a height-limit result is cleared).
   * The layer's opacity still applies: the builder receives it.
   */
  setStyleBuilder(builder: StyleBuilder | undefined, priority = 0): void {
    if (builder) this.styleBuilders.set(priority, builder);
    else this.styleBuilders.delete(priority);
    this.restyle();
  }

  /** Re-applies the style (call when what the style builder depends on changed). */
  restyle(): void {
    if (this.tileset) this.tileset.style = this.styleFor(this.opacity);
    this.viewer.scene.requestRender();
    this.changed("style");
  }

  /** True once every tile needed for the current view has loaded (or the layer is hidden/failed). */
  tilesLoaded(): boolean {
    if (this.state === "loading") return false;
    if (!this.tileset || !this.visible) return true;
    return this.tileset.tilesLoaded;
  }

  /** Oblique view of the whole layer, so building heights read at a glance. */
  flyTo(duration = 1.5): Promise<boolean> {
    const sphere = this.boundingSphere();
    return flyToSphere(
      this.viewer,
      sphere,
      new HeadingPitchRange(CesiumMath.toRadians(20), CesiumMath.toRadians(-38), sphere.radius * 2.0),
      duration,
    );
  }

  onChange(listener: (change: LayerChange) => void): void {
    this.listeners.add(listener);
  }

  private boundingSphere(): BoundingSphere {
    if (this.tileset) return this.tileset.boundingSphere;
    // The catalog bbox is known before the tileset loads (and still when it failed).
    const [west, south, east, north, minH, maxH] = this.layer.bbox;
    const sphere = BoundingSphere.fromRectangle3D(
      Rectangle.fromDegrees(west, south, east, north),
      Ellipsoid.WGS84,
      (minH + maxH) / 2,
    );
    sphere.radius = Math.max(sphere.radius, (maxH - minH) / 2, 50);
    return sphere;
  }

  private styleFor(alpha: number): Cesium3DTileStyle {
    if (this.styleBuilders.size > 0)
      return this.styleBuilders.get(Math.max(...this.styleBuilders.keys()))!(alpha);
    // White keeps each model's own material colour; only the alpha changes.
    return new Cesium3DTileStyle({ color: `color('white', ${alpha.toFixed(3)})` });
  }

  private changed(change: LayerChange): void {
    for (const l of this.listeners) l(change);
  }
}
