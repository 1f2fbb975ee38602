import type { Viewer } from "cesium";
import { renderNearestCameras } from "../cameras/nearest-cameras.ts";
import { h } from "../dom.ts";
import { onLangChange, t } from "../i18n.ts";
import type { MapLayer } from "../layers.ts";
import { AlarmPanel, type AlarmPanelState } from "./alarm-panel.ts";
import { AlarmStore } from "./alarm-store.ts";
import { AssetColouring } from "./asset-colouring.ts";
import { DeviceDirectory } from "./device-directory.ts";
import { type LiveClient, sharedLiveClient } from "./live-client.ts";
import { SensorChart, type SensorChartState } from "./sensor-chart.ts";
import { SensorLayer, type SensorLayerState } from "./sensor-layer.ts";

const DEVICE_REFRESH_MS = 5 * 60_000;

export interface IotOptions {
  /** Where the sensors toggle goes (the layer panel). */
  toggleParent: HTMLElement;
  /** The alarm list panel element. */
  alarmPanel: HTMLElement;
  /** The map layers (for asset colouring). */
  layers: () => MapLayer[];
  /** True while another tool owns clicks. */
  isBusy: () => boolean;
}

/** What the test hook reads. */
export interface IotState {
  sensors: SensorLayerState;
  chart: SensorChartState | null;
  alarms: AlarmPanelState;
  /** Assets painted by alarms, `layerId/featureId` → level. */
  paintedAssets: Record<string, string>;
}

/**
 * The viewer's live IoT part: one WebSocket, the device directory, the open alarms, the sensors layer,
 * the sensor chart popup, the alarm list and the alarm colouring of linked assets.
 */
export class IotViewer {
  readonly live: LiveClient;
  readonly directory: DeviceDirectory;
  readonly alarms: AlarmStore;
  readonly sensors: SensorLayer;
  readonly chart: SensorChart;
  readonly alarmPanel: AlarmPanel;
  readonly assets: AssetColouring;

  constructor(viewer: Viewer, options: IotOptions) {
    this.live = sharedLiveClient();
    this.directory = new DeviceDirectory(this.live);
    this.alarms = new AlarmStore(this.live);
    this.chart = new SensorChart(this.live, this.directory);
    this.sensors = new SensorLayer(viewer, this.directory, this.alarms, this.live, {
      isBusy: options.isBusy,
      onOpen: (device) => this.chart.open(device),
    });
    this.alarmPanel = new AlarmPanel(options.alarmPanel, this.alarms, {
      flyTo: (alarm) => this.sensors.flyTo(alarm.lon, alarm.lat, alarm.height),
      renderNearestCameras: (container, lon, lat) => void renderNearestCameras(container, lon, lat),
    });
    this.live.onStatus((status) => this.alarmPanel.setLiveStatus(status));
    this.alarmPanel.setLiveStatus(this.live.status);
    this.assets = new AssetColouring(this.alarms, this.directory, options.layers);
    this.renderToggle(options.toggleParent);
  }

  /** Reads devices and open alarms; the layer shows once both are in. */
  async start(): Promise<void> {
    await Promise.all([
      this.alarms.load(),
      this.directory.load().catch((err: unknown) => console.error("devices:", err)),
    ]);
    await this.sensors.start();
    // Devices registered meanwhile without sending anything yet (a reading or alarm brings one in sooner).
    setInterval(() => void this.reloadDevices(), DEVICE_REFRESH_MS);
  }

  /** Reads the device registry again. */
  async reloadDevices(): Promise<void> {
    await this.directory.load().catch((err: unknown) => console.error("devices:", err));
  }

  /** Call when the map layers are known and whenever one finished loading. */
  layersChanged(): void {
    this.assets.attach();
  }

  state(): IotState {
    return {
      sensors: this.sensors.state(),
      chart: this.chart.state(),
      alarms: this.alarmPanel.state(),
      paintedAssets: this.assets.painted(),
    };
  }

  private renderToggle(parent: HTMLElement): void {
    const root = h("div", { class: "iot-toggle", id: "iot-toggle" });
    parent.append(root);
    const render = () => {
      const checkbox = h("input", { type: "checkbox", class: "iot-sensors-toggle", title: t("layers.show") });
      checkbox.checked = this.sensors.show;
      checkbox.addEventListener("change", () => {
        this.sensors.show = checkbox.checked;
      });
      const s = this.sensors.state();
      const alarming = s.byState.red + s.byState.orange + s.byState.yellow + s.byState.blue;
      root.replaceChildren(
        h(
          "label",
          { class: "layer-label" },
          checkbox,
          h("span", { class: "layer-name" }, t("iot.sensors.title")),
        ),
        h(
          "span",
          { class: "iot-sensors-count", "data-count": s.count, "data-alarming": alarming },
          t("iot.sensors.count", { count: s.count, alarming }),
        ),
      );
    };
    this.sensors.onChange(render);
    this.directory.onChange((kind) => {
      if (kind === "devices") render();
    });
    onLangChange(render);
    render();
  }
}
