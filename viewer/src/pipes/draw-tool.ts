import {
  CallbackProperty,
  type Cartesian2,
  Cartesian3,
  Cartographic,
  Math as CesiumMath,
  Color,
  ColorMaterialProperty,
  type Entity,
  PolylineDashMaterialProperty,
  ScreenSpaceEventHandler,
  ScreenSpaceEventType,
  type Viewer,
} from "cesium";
import { pickObject } from "../scene-pick.ts";

/** A clicked ground point: degrees and metres (the globe surface there). */
export interface GroundPoint {
  lon: number;
  lat: number;
  height: number;
}

export type DrawShape = "polygon" | "polyline" | "point";

export interface DrawOptions {
  shape: DrawShape;
  color: Color;
  /** Pick points on what is drawn (roofs, facades) where there is something, else the ground. Default: ground only. */
  surface?: boolean;
  /** Finish by itself once this many points are placed (a height takes 2, an angle 3). */
  maxPoints?: number;
}

/** Lift of the preview above the clicked surface, so it does not flicker against the ground. */
const LIFT = 0.15;
/** Two clicks closer than this (metres) are one point: a double click also fires two single clicks. */
const SAME_POINT = 0.05;

/**
 * Clicking points on the ground with a rubber-band preview, shared by the excavation (polygon) and
 * cross-section (polyline) tools: left click adds a point, the mouse drags a line to the next one,
 * double click or finish() ends, Esc or cancel() abandons. One drawing at a time.
 */
export class DrawTool {
  private handler: ScreenSpaceEventHandler | undefined;
  private entities: Entity[] = [];
  private pts: GroundPoint[] = [];
  private floating: GroundPoint | undefined;
  private shape: DrawShape | undefined;
  private done: ((points: GroundPoint[] | null) => void) | undefined;
  private savedDoubleClick: unknown;
  private readonly listeners = new Set<() => void>();
  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") this.cancel();
    else if (e.key === "Enter") this.finish();
  };

  constructor(private readonly viewer: Viewer) {}

  /** The shape being drawn, or undefined when idle. */
  get active(): DrawShape | undefined {
    return this.shape;
  }

  get points(): readonly GroundPoint[] {
    return this.pts;
  }

  /** Enough points to finish: 3 for a polygon, 2 for a line, 1 for a point. */
  get canFinish(): boolean {
    const needed = { polygon: 3, polyline: 2, point: 1 } as const;
    return this.shape !== undefined && this.pts.length >= needed[this.shape];
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Starts drawing (cancelling any drawing in progress); resolves with the points, or null when cancelled. */
  start(options: DrawOptions): Promise<GroundPoint[] | null> {
    this.cancel();
    this.shape = options.shape;
    this.pts = [];
    this.floating = undefined;
    const scene = this.viewer.scene;
    const widgetHandler = this.viewer.cesiumWidget.screenSpaceEventHandler;
    // The viewer's own double click zooms to / tracks an entity, e.g. the preview itself.
    this.savedDoubleClick = widgetHandler.getInputAction(ScreenSpaceEventType.LEFT_DOUBLE_CLICK);
    widgetHandler.removeInputAction(ScreenSpaceEventType.LEFT_DOUBLE_CLICK);

    const handler = new ScreenSpaceEventHandler(scene.canvas);
    this.handler = handler;
    const pointAt = (position: Cartesian2) =>
      options.surface ? this.surfaceAt(position) : this.groundAt(position);
    handler.setInputAction((e: { position: Cartesian2 }) => {
      const p = pointAt(e.position);
      if (!p) return;
      const last = this.pts[this.pts.length - 1];
      if (last && distance(last, p) < SAME_POINT) return;
      this.pts.push(p);
      this.entities.push(
        this.viewer.entities.add({
          position: toCartesian(p),
          point: {
            pixelSize: 8,
            color: options.color,
            outlineColor: Color.BLACK,
            outlineWidth: 1,
            disableDepthTestDistance: Number.POSITIVE_INFINITY,
          },
        }),
      );
      this.changed();
      if (options.maxPoints && this.pts.length >= options.maxPoints) this.finish();
    }, ScreenSpaceEventType.LEFT_CLICK);
    handler.setInputAction((e: { endPosition: Cartesian2 }) => {
      if (!this.pts.length) return;
      this.floating = pointAt(e.endPosition);
      scene.requestRender();
    }, ScreenSpaceEventType.MOUSE_MOVE);
    handler.setInputAction(() => this.finish(), ScreenSpaceEventType.LEFT_DOUBLE_CLICK);
    document.addEventListener("keydown", this.onKey);
    scene.canvas.style.cursor = "crosshair";

    const withFloating = () => {
      const all = this.floating ? [...this.pts, this.floating] : [...this.pts];
      if (options.shape === "polygon" && all.length > 2) all.push(all[0]);
      return all.map(toCartesian);
    };
    const line = this.viewer.entities.add({
      polyline: {
        positions: new CallbackProperty(withFloating, false),
        width: 2.5,
        material: new ColorMaterialProperty(options.color),
        // Visible through buildings and the ground alike while drawing.
        depthFailMaterial: new PolylineDashMaterialProperty({ color: options.color.withAlpha(0.7) }),
      },
    });
    this.entities.push(line);
    this.changed();
    return new Promise((resolve) => {
      this.done = resolve;
    });
  }

  /** Ends the drawing with the points so far (false if there are too few). */
  finish(): boolean {
    if (!this.canFinish) return false;
    const points = this.pts;
    this.stop();
    this.resolve(points);
    return true;
  }

  cancel(): void {
    if (!this.shape) return;
    this.stop();
    this.resolve(null);
  }

  /** The globe surface under a canvas point (ground under buildings too), or undefined off the globe. */
  groundAt(position: Cartesian2): GroundPoint | undefined {
    const scene = this.viewer.scene;
    const ray = scene.camera.getPickRay(position);
    const hit = (ray && scene.globe.pick(ray, scene)) ?? scene.camera.pickEllipsoid(position);
    if (!hit) return undefined;
    const c = Cartographic.fromCartesian(hit);
    return {
      lon: CesiumMath.toDegrees(c.longitude),
      lat: CesiumMath.toDegrees(c.latitude),
      height: c.height,
    };
  }

  /** The drawn surface (3D tiles) under a canvas point where there is one, else the globe. */
  surfaceAt(position: Cartesian2): GroundPoint | undefined {
    const scene = this.viewer.scene;
    if (scene.pickPositionSupported && pickObject(scene, position)) {
      const hit = scene.pickPosition(position);
      if (hit) {
        const c = Cartographic.fromCartesian(hit);
        return {
          lon: CesiumMath.toDegrees(c.longitude),
          lat: CesiumMath.toDegrees(c.latitude),
          height: c.height,
        };
      }
    }
    return this.groundAt(position);
  }

  private resolve(points: GroundPoint[] | null): void {
    const done = this.done;
    this.done = undefined;
    done?.(points);
    this.changed();
  }

  private stop(): void {
    const widgetHandler = this.viewer.cesiumWidget.screenSpaceEventHandler;
    if (this.savedDoubleClick)
      widgetHandler.setInputAction(
        this.savedDoubleClick as (e: unknown) => void,
        ScreenSpaceEventType.LEFT_DOUBLE_CLICK,
      );
    this.savedDoubleClick = undefined;
    this.handler?.destroy();
    this.handler = undefined;
    document.removeEventListener("keydown", this.onKey);
    for (const e of this.entities) this.viewer.entities.remove(e);
    this.entities = [];
    this.shape = undefined;
    this.floating = undefined;
    this.viewer.scene.canvas.style.cursor = "";
    this.viewer.scene.requestRender();
  }

  private changed(): void {
    this.viewer.scene.requestRender();
    for (const l of this.listeners) l();
  }
}

export function toCartesian(p: GroundPoint, lift = LIFT): Cartesian3 {
  return Cartesian3.fromDegrees(p.lon, p.lat, p.height + lift);
}

/** Plan distance in metres (equirectangular: exact enough for points a few hundred metres apart). */
export function distance(a: { lon: number; lat: number }, b: { lon: number; lat: number }): number {
  const k = (Math.PI / 180) * 6378137;
  const dx = (b.lon - a.lon) * k * Math.cos(((a.lat + b.lat) / 2) * (Math.PI / 180));
  return Math.hypot(dx, (b.lat - a.lat) * k);
}
