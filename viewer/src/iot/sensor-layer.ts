import {
  type Billboard,
  BillboardCollection,
  BoundingSphere,
  Cartesian2,
  Cartesian3,
  Math as CesiumMath,
  Color,
  ConstantProperty,
  CustomDataSource,
  DistanceDisplayCondition,
  Entity,
  HeadingPitchRange,
  LabelStyle,
  NearFarScalar,
  ScreenSpaceEventHandler,
  ScreenSpaceEventType,
  VerticalOrigin,
  type Viewer,
} from "cesium";
import type { Alarm } from "../../../models/alarms.ts";
import { flyToSphere } from "../camera-flight.ts";
import { pickObject } from "../scene-pick.ts";
import type { AlarmStore } from "./alarm-store.ts";
import type { Device } from "./api.ts";
import type { DeviceDirectory } from "./device-directory.ts";
import { deviceUnit, formatValue } from "./labels.ts";
import type { LiveClient } from "./live-client.ts";
import { clusterIcon, pulseIcon, sensorIcon } from "./marker-icons.ts";
import { SENSOR_STATES, type SensorState, sensorState, stateRank } from "./sensor-state.ts";

/** Labels beyond this camera distance (m) would overlap into noise; the coloured dot says enough there. */
export const LABEL_MAX_DISTANCE = 600;
/** Markers closer than this on screen (px) merge into a cluster. */
const CLUSTER_PIXEL_RANGE = 36;
const PULSE_PERIOD_MS = 1400;
const PULSE_FRAME_MS = 100;

/** Snapshot for the test hook. */
export interface SensorLayerState {
  show: boolean;
  count: number;
  clustering: boolean;
  /** Cluster markers drawn in the last clustering pass. */
  clusters: number;
  byState: Record<SensorState, number>;
  pulsing: number;
}

export interface SensorLayerOptions {
  /** True while another tool owns clicks (drawing a pit or section line). */
  isBusy(): boolean;
  /** A sensor marker was clicked. */
  onOpen(device: Device): void;
}

/**
 * Live sensors on the globe: one marker per device coloured by its state, its latest value and unit as
 * a label when the camera is close, Cesium's EntityCluster merging markers that crowd the screen (cluster
 * colour = its worst member), and a pulsing ring on alarming sensors. Markers ignore depth so sensors
 * in pipes below the ground stay visible.
 */
export class SensorLayer {
  readonly dataSource = new CustomDataSource("iot-sensors");
  private readonly entities = new Map<string, Entity>();
  private readonly states = new Map<string, SensorState>();
  private readonly pulses: BillboardCollection;
  private readonly pulseByDevice = new Map<string, Billboard>();
  private pulseTimer: ReturnType<typeof setInterval> | undefined;
  private visible = true;
  private added = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly viewer: Viewer,
    private readonly directory: DeviceDirectory,
    private readonly alarms: AlarmStore,
    private readonly live: LiveClient,
    private readonly options: SensorLayerOptions,
  ) {
    const clustering = this.dataSource.clustering;
    clustering.enabled = true;
    clustering.pixelRange = CLUSTER_PIXEL_RANGE;
    clustering.minimumClusterSize = 3;
    clustering.clusterEvent.addEventListener((members: Entity[], cluster) => {
      let worst: SensorState = "normal";
      for (const e of members) {
        const s = this.states.get(e.id) ?? "normal";
        if (stateRank(s) > stateRank(worst)) worst = s;
      }
      cluster.label.show = false;
      cluster.billboard.show = true;
      cluster.billboard.image = clusterIcon(worst, members.length);
      cluster.billboard.verticalOrigin = VerticalOrigin.CENTER;
      cluster.billboard.disableDepthTestDistance = Number.POSITIVE_INFINITY;
      // Cesium labels the cluster's label with its members but not the billboard: picks need them.
      cluster.billboard.id = members;
    });
    this.pulses = viewer.scene.primitives.add(new BillboardCollection({ scene: viewer.scene }));
    directory.onChange((kind, ids) => (kind === "devices" ? this.syncDevices() : this.updateLabels(ids)));
    alarms.onChange(() => this.updateStates());
    viewer.camera.moveEnd.addEventListener(() => this.subscribe());
    this.listenForClicks();
  }

  async start(): Promise<void> {
    if (!this.added) {
      await this.viewer.dataSources.add(this.dataSource);
      this.added = true;
    }
    this.syncDevices();
    this.subscribe();
  }

  get show(): boolean {
    return this.visible;
  }

  set show(value: boolean) {
    this.visible = value;
    this.dataSource.show = value;
    this.pulses.show = value;
    this.runPulse();
    this.subscribe();
    this.viewer.scene.requestRender();
    this.changed();
  }

  get count(): number {
    return this.entities.size;
  }

  state(): SensorLayerState {
    const byState = Object.fromEntries(SENSOR_STATES.map((s) => [s, 0])) as Record<SensorState, number>;
    for (const s of this.states.values()) byState[s]++;
    // EntityCluster keeps its cluster markers in an internal collection; only the count is read.
    const clusterMarkers = (
      this.dataSource.clustering as unknown as { _clusterBillboardCollection?: { length: number } }
    )._clusterBillboardCollection;
    return {
      show: this.visible,
      count: this.entities.size,
      clustering: this.dataSource.clustering.enabled,
      clusters: clusterMarkers?.length ?? 0,
      byState,
      pulsing: this.pulseByDevice.size,
    };
  }

  /** The text of a sensor's map label ("" while it has no value); undefined for a sensor not on the map. */
  labelOf(deviceId: string): string | undefined {
    const device = this.directory.get(deviceId);
    return device && this.entities.has(deviceId) ? this.labelText(device) : undefined;
  }

  stateOf(deviceId: string): SensorState | undefined {
    return this.states.get(deviceId);
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Flies to a sensor (or any position), looking down at it at an angle from ~150 m. */
  flyTo(lon: number, lat: number, height: number): Promise<boolean> {
    const sphere = new BoundingSphere(Cartesian3.fromDegrees(lon, lat, height), 20);
    return flyToSphere(
      this.viewer,
      sphere,
      new HeadingPitchRange(this.viewer.camera.heading, CesiumMath.toRadians(-45), 150),
      1.2,
    );
  }

  private syncDevices(): void {
    const ids = new Set<string>();
    for (const device of this.directory.all()) {
      ids.add(device.id);
      if (!this.entities.has(device.id)) this.addEntity(device);
    }
    for (const [id, entity] of this.entities) {
      if (ids.has(id)) continue;
      this.dataSource.entities.remove(entity);
      this.entities.delete(id);
      this.states.delete(id);
    }
    this.updateStates();
  }

  private addEntity(device: Device): void {
    const entity = new Entity({
      id: device.id,
      name: device.name,
      position: Cartesian3.fromDegrees(device.lon, device.lat, device.height),
      billboard: {
        image: sensorIcon("normal"),
        verticalOrigin: VerticalOrigin.CENTER,
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
        scaleByDistance: new NearFarScalar(200, 1.0, 20_000, 0.6),
      },
      label: {
        text: this.labelText(device),
        font: "13px sans-serif",
        fillColor: Color.WHITE,
        outlineColor: Color.fromCssColorString("#0b0f17"),
        outlineWidth: 3,
        style: LabelStyle.FILL_AND_OUTLINE,
        verticalOrigin: VerticalOrigin.BOTTOM,
        pixelOffset: new Cartesian2(0, -14),
        distanceDisplayCondition: new DistanceDisplayCondition(0, LABEL_MAX_DISTANCE),
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
        show: this.labelText(device) !== "",
      },
    });
    this.dataSource.entities.add(entity);
    this.entities.set(device.id, entity);
  }

  private labelText(device: Device): string {
    const latest = this.directory.latestValue(device.id);
    if (!latest) return "";
    return `${formatValue(latest.value)} ${deviceUnit(device)}`.trim();
  }

  private updateLabels(ids: readonly string[] | undefined): void {
    const list = ids ?? [...this.entities.keys()];
    for (const id of list) {
      const entity = this.entities.get(id);
      const device = this.directory.get(id);
      if (!entity?.label || !device) continue;
      const text = this.labelText(device);
      entity.label.text = new ConstantProperty(text);
      entity.label.show = new ConstantProperty(text !== "");
    }
    // A first reading turns a silent (offline) sensor normal.
    this.updateStates(list);
    this.viewer.scene.requestRender();
  }

  private updateStates(only?: readonly string[]): void {
    const byDevice = this.alarms.byDevice();
    let changed = false;
    for (const id of only ?? this.entities.keys()) {
      const entity = this.entities.get(id);
      if (!entity?.billboard) continue;
      const alarms: Alarm[] = byDevice.get(id) ?? [];
      const next = sensorState(alarms, this.directory.hasReported(id));
      if (this.states.get(id) === next) continue;
      this.states.set(id, next);
      entity.billboard.image = new ConstantProperty(sensorIcon(next));
      changed = true;
    }
    if (!changed) return;
    this.updatePulses();
    this.viewer.scene.requestRender();
    this.changed();
  }

  private updatePulses(): void {
    for (const [id, billboard] of this.pulseByDevice) {
      const s = this.states.get(id);
      if (s && stateRank(s) >= 1) continue;
      this.pulses.remove(billboard);
      this.pulseByDevice.delete(id);
    }
    for (const [id, s] of this.states) {
      if (stateRank(s) < 1) continue;
      const device = this.directory.get(id);
      if (!device) continue;
      const existing = this.pulseByDevice.get(id);
      if (existing) {
        existing.image = pulseIcon(s);
        continue;
      }
      this.pulseByDevice.set(
        id,
        this.pulses.add({
          position: Cartesian3.fromDegrees(device.lon, device.lat, device.height),
          image: pulseIcon(s),
          verticalOrigin: VerticalOrigin.CENTER,
          disableDepthTestDistance: Number.POSITIVE_INFINITY,
          scale: 0.5,
        }),
      );
    }
    this.runPulse();
  }

  /**
   * The viewer renders on demand (no GPU on many of these machines), so the pulse asks for ~10 frames a
   * second, and only while an alarming sensor is shown.
   */
  private runPulse(): void {
    const wanted = this.visible && this.pulseByDevice.size > 0;
    if (wanted && !this.pulseTimer) {
      this.pulseTimer = setInterval(() => {
        if (document.hidden || this.viewer.isDestroyed()) return;
        const phase = (performance.now() % PULSE_PERIOD_MS) / PULSE_PERIOD_MS;
        const scale = 0.45 + phase * 0.9;
        const alpha = 1 - phase;
        for (const b of this.pulseByDevice.values()) {
          b.scale = scale;
          b.color = Color.WHITE.withAlpha(alpha, b.color);
        }
        this.viewer.scene.requestRender();
      }, PULSE_FRAME_MS);
    } else if (!wanted && this.pulseTimer) {
      clearInterval(this.pulseTimer);
      this.pulseTimer = undefined;
    }
  }

  /** Readings for the part of the city in view (the whole world when the horizon is in view). */
  private subscribe(): void {
    if (!this.visible) {
      this.live.setSubscriptions("sensors", []);
      return;
    }
    const rect = this.viewer.camera.computeViewRectangle();
    let bbox: [number, number, number, number] = [-180, -90, 180, 90];
    if (rect && rect.east > rect.west) {
      const pad = 0.2 * Math.max(rect.east - rect.west, rect.north - rect.south);
      const deg = CesiumMath.toDegrees;
      bbox = [
        Math.max(-180, deg(rect.west - pad)),
        Math.max(-90, deg(rect.south - pad)),
        Math.min(180, deg(rect.east + pad)),
        Math.min(90, deg(rect.north + pad)),
      ];
    }
    this.live.setSubscriptions("sensors", [{ bbox }]);
  }

  private listenForClicks(): void {
    const handler = new ScreenSpaceEventHandler(this.viewer.scene.canvas);
    handler.setInputAction((click: { position: Cartesian2 }) => {
      if (!this.visible || this.options.isBusy()) return;
      const picked = pickObject(this.viewer.scene, click.position);
      const id = (picked as { id?: unknown } | undefined)?.id;
      if (id instanceof Entity && this.entities.get(id.id) === id) {
        const device = this.directory.get(id.id);
        if (device) this.options.onOpen(device);
      } else if (Array.isArray(id) && id.every((e) => e instanceof Entity && this.entities.has(e.id))) {
        void this.zoomToCluster(id as Entity[]);
      }
    }, ScreenSpaceEventType.LEFT_CLICK);
  }

  private zoomToCluster(members: Entity[]): Promise<boolean> {
    const now = this.viewer.clock.currentTime;
    const points = members.flatMap((e) => {
      const p = e.position?.getValue(now);
      return p ? [p] : [];
    });
    if (points.length === 0) return Promise.resolve(false);
    const sphere = BoundingSphere.fromPoints(points);
    sphere.radius = Math.max(sphere.radius, 30);
    return flyToSphere(
      this.viewer,
      sphere,
      new HeadingPitchRange(this.viewer.camera.heading, CesiumMath.toRadians(-60), sphere.radius * 2.5),
      1.0,
    );
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
