import {
  BoundingSphere,
  Cartesian3,
  Math as CesiumMath,
  Color,
  type Entity,
  HeadingPitchRange,
  HeightReference,
  type Viewer,
} from "cesium";
import type { Alarm } from "../../../models/alarms.ts";
import type { NearCamera } from "../../../models/cameras.ts";
import { flyToSphere } from "../camera-flight.ts";
import { fetchNearCameras } from "../cameras/api.ts";
import type { CameraPopups } from "../cameras/camera-popup.ts";
import { renderNearestCameras } from "../cameras/nearest-cameras.ts";
import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { fetchDevice } from "../iot/api.ts";
import {
  CITY_TIME_ZONE,
  deviceTypeLabel,
  formatTime,
  formatValue,
  levelLabel,
  statusLabel,
} from "../iot/labels.ts";
import { STATE_COLORS } from "../iot/sensor-state.ts";
import type { SceneStyle } from "./scene-style.ts";

/**
 * Where the camera stops: 260 m from the alarm, looking down steeply. Steep, so that it stays above the district's
 * tallest towers (170 m) and none of them stands between the camera and the spot.
 */
const VIEW_RANGE = 260;
const VIEW_PITCH = -65;

/** What the focus did, for the test hook. */
export interface FocusState {
  alarmId: number;
  deviceId: string;
  lon: number;
  lat: number;
  height: number;
  /** The highlighted asset as `layerId/featureId`, if the device is linked to one. */
  asset: string | null;
  /** The camera whose video was opened, if any camera near the alarm sees it. */
  cameraId: string | null;
  flown: boolean;
}

/**
 * Clicking an alarm: the scene flies there, the asset the sensor sits on is painted in the alarm's colour,
 * a pulsing ring marks the spot, and the video of the nearest camera that sees the spot opens (the other
 * nearby cameras are listed in the focus card).
 */
export class AlarmFocus {
  private marker: Entity | undefined;
  private stateNow: FocusState | undefined;
  private readonly listeners = new Set<(alarm: Alarm) => void>();

  constructor(
    private readonly viewer: Viewer,
    private readonly style: SceneStyle,
    private readonly card: HTMLElement,
    private readonly popups: CameraPopups,
  ) {}

  get state(): FocusState | undefined {
    return this.stateNow;
  }

  onFocus(listener: (alarm: Alarm) => void): void {
    this.listeners.add(listener);
  }

  async focus(alarm: Alarm, opts: { video?: boolean } = {}): Promise<void> {
    const state: FocusState = {
      alarmId: alarm.id,
      deviceId: alarm.deviceId,
      lon: alarm.lon,
      lat: alarm.lat,
      height: alarm.height,
      asset: null,
      cameraId: null,
      flown: false,
    };
    this.stateNow = state;
    for (const l of this.listeners) l(alarm);
    this.mark(alarm);
    this.renderCard(alarm);
    const flight = this.flyTo(alarm).then((arrived) => {
      state.flown = arrived;
    });
    const highlight = fetchDevice(alarm.deviceId).then((device) => {
      if (this.stateNow !== state) return;
      if (device?.layerId && device.featureId) {
        this.style.setFocus({ layerId: device.layerId, featureId: device.featureId, level: alarm.level });
        state.asset = `${device.layerId}/${device.featureId}`;
      } else this.style.setFocus(undefined);
    });
    const video = opts.video === false ? Promise.resolve() : this.openNearestVideo(alarm, state);
    await Promise.all([flight, highlight, video]);
  }

  clear(): void {
    this.stateNow = undefined;
    this.style.setFocus(undefined);
    if (this.marker) this.viewer.entities.remove(this.marker);
    this.marker = undefined;
    this.card.hidden = true;
    this.popups.close();
    this.viewer.scene.requestRender();
  }

  private flyTo(alarm: Alarm): Promise<boolean> {
    const sphere = new BoundingSphere(Cartesian3.fromDegrees(alarm.lon, alarm.lat, alarm.height), 20);
    return flyToSphere(
      this.viewer,
      sphere,
      new HeadingPitchRange(CesiumMath.toRadians(15), CesiumMath.toRadians(VIEW_PITCH), VIEW_RANGE),
      1.6,
    );
  }

  /**
   * A light column standing on the alarm and a point that stays visible through buildings. Static: animated
   * geometry is rebuilt every frame, too much for a screen rendered without a GPU.
   */
  private mark(alarm: Alarm): void {
    if (this.marker) this.viewer.entities.remove(this.marker);
    const color = Color.fromCssColorString(STATE_COLORS[alarm.level]);
    const ground = Math.max(alarm.height, 0);
    const length = 60;
    this.marker = this.viewer.entities.add({
      position: Cartesian3.fromDegrees(alarm.lon, alarm.lat, ground + length / 2),
      cylinder: {
        length,
        topRadius: 1,
        bottomRadius: 8,
        material: color.withAlpha(0.45),
        heightReference: HeightReference.NONE,
      },
      point: {
        pixelSize: 12,
        color,
        outlineColor: Color.WHITE,
        outlineWidth: 2,
        disableDepthTestDistance: 5000,
      },
    });
    this.viewer.scene.requestRender();
  }

  private async openNearestVideo(alarm: Alarm, state: FocusState): Promise<void> {
    let cameras: NearCamera[];
    try {
      cameras = await fetchNearCameras(alarm.lon, alarm.lat, { height: alarm.height, radius: 500, limit: 8 });
    } catch (err) {
      console.warn("nearest cameras:", err);
      return;
    }
    if (this.stateNow !== state) return;
    const seeing = cameras.find((c) => c.sees && c.streamUrl);
    if (!seeing) return;
    state.cameraId = seeing.id;
    this.popups.open(seeing);
  }

  /** A newer copy of an alarm (a lifecycle step done here or elsewhere): the card shows its status. */
  update(alarm: Alarm): void {
    if (this.card.hidden || this.card.dataset.alarmId !== String(alarm.id)) return;
    const status = this.card.querySelector<HTMLElement>(".cockpit-focus-status");
    if (!status) return;
    status.dataset.status = alarm.status;
    status.textContent = statusLabel(alarm.status);
  }

  private renderCard(alarm: Alarm): void {
    const close = h(
      "button",
      { type: "button", class: "cockpit-focus-close", title: t("cockpit.focus.close") },
      "×",
    );
    close.addEventListener("click", () => this.clear());
    const cameras = h("div", { class: "cockpit-focus-cameras" });
    this.card.replaceChildren(
      h(
        "div",
        { class: "cockpit-focus-head", style: `--level:${STATE_COLORS[alarm.level]}` },
        h("span", { class: "cockpit-focus-level" }, levelLabel(alarm.level)),
        h("h3", {}, alarm.deviceName ?? alarm.deviceId),
        close,
      ),
      h(
        "dl",
        { class: "cockpit-focus-facts" },
        h("dt", {}, t("cockpit.focus.type")),
        h("dd", {}, deviceTypeLabel(alarm.deviceType)),
        h("dt", {}, t("cockpit.focus.value")),
        h(
          "dd",
          {},
          `${formatValue(alarm.value)} ${alarm.unit ?? ""} (${t("cockpit.focus.limit")} ${formatValue(alarm.limit)})`,
        ),
        h("dt", {}, t("cockpit.focus.status")),
        h("dd", { class: "cockpit-focus-status", "data-status": alarm.status }, statusLabel(alarm.status)),
        h("dt", {}, t("cockpit.focus.raisedAt")),
        h("dd", {}, formatTime(alarm.raisedAt, CITY_TIME_ZONE)),
      ),
      cameras,
    );
    this.card.dataset.alarmId = String(alarm.id);
    this.card.hidden = false;
    void renderNearestCameras(cameras, alarm.lon, alarm.lat);
  }
}
