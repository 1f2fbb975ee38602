import {
  Cartesian2,
  type Cartesian3,
  Cartographic,
  Math as CesiumMath,
  ScreenSpaceEventHandler,
  ScreenSpaceEventType,
  type Viewer,
} from "cesium";
import { onLangChange, t } from "./i18n.ts";

/** World position under a window point: a model surface if there is one, else the globe. */
export function positionAt(viewer: Viewer, point: Cartesian2): Cartesian3 | undefined {
  const scene = viewer.scene;
  if (scene.pickPositionSupported) {
    const onModel = scene.pickPosition(point);
    if (onModel) return onModel;
  }
  const ray = viewer.camera.getPickRay(point);
  return ray ? scene.globe.pick(ray, scene) : undefined;
}

/** Bottom bar with the pointer's longitude, latitude and height, updated as the mouse moves. */
export class StatusBar {
  private last: Cartographic | undefined;
  private pending: Cartesian2 | undefined;
  private frame = 0;

  constructor(
    private readonly viewer: Viewer,
    private readonly el: HTMLElement,
  ) {
    const handler = new ScreenSpaceEventHandler(viewer.scene.canvas);
    handler.setInputAction((move: { endPosition: Cartesian2 }) => {
      this.pending = Cartesian2.clone(move.endPosition, this.pending);
      // One pick per animation frame at most: mouse events come much faster than software rendering.
      if (!this.frame) this.frame = requestAnimationFrame(() => this.update());
    }, ScreenSpaceEventType.MOUSE_MOVE);
    onLangChange(() => this.render());
    this.render();
  }

  private update(): void {
    this.frame = 0;
    if (!this.pending) return;
    const world = positionAt(this.viewer, this.pending);
    this.last = world ? Cartographic.fromCartesian(world) : undefined;
    this.render();
  }

  private render(): void {
    const c = this.last;
    const set = (field: string, label: string, value: string) => {
      const item = this.el.querySelector<HTMLElement>(`[data-field="${field}"]`);
      if (!item) return;
      item.querySelector(".status-label")!.textContent = label;
      item.querySelector(".status-value")!.textContent = value;
    };
    if (!c) {
      this.el.dataset.onGlobe = "false";
      set("lon", t("status.lon"), "—");
      set("lat", t("status.lat"), "—");
      set("height", t("status.height"), "—");
      return;
    }
    this.el.dataset.onGlobe = "true";
    const lon = CesiumMath.toDegrees(c.longitude);
    const lat = CesiumMath.toDegrees(c.latitude);
    set("lon", t("status.lon"), `${Math.abs(lon).toFixed(6)}° ${lon >= 0 ? "E" : "W"}`);
    set("lat", t("status.lat"), `${Math.abs(lat).toFixed(6)}° ${lat >= 0 ? "N" : "S"}`);
    set("height", t("status.height"), `${c.height.toFixed(1)} m`);
  }
}
