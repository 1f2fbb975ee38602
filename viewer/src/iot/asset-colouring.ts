import { type Cesium3DTileFeature, Cesium3DTileStyle, type Cesium3DTileset, Color } from "cesium";
import { type AlarmLevel, levelSeverity } from "../../../models/alarms.ts";
import type { MapLayer } from "../layers.ts";
import { setFeatureColorOverlay } from "../pipes/style.ts";
import type { AlarmStore } from "./alarm-store.ts";
import type { DeviceDirectory } from "./device-directory.ts";
import { STATE_COLORS, worstLevel } from "./sensor-state.ts";

const LEVEL_COLORS = Object.fromEntries(
  (["red", "orange", "yellow", "blue"] as const).map((l) => [l, Color.fromCssColorString(STATE_COLORS[l])]),
) as Record<AlarmLevel, Color>;

/** The feature id a device's `featureId` names: pipes and white models use `id`, BIM elements `GlobalId`. */
function featureKey(feature: Cesium3DTileFeature): string | undefined {
  const id = feature.getProperty("id") ?? feature.getProperty("GlobalId");
  return id === undefined || id === null ? undefined : String(id);
}

/**
 * Paints the assets that have a sensor with an open alarm (device `layerId` + `featureId`) in the alarm's
 * level colour through their layer's 3D Tiles style, until the alarm is closed.
 *
 * Pipes layers keep their own style (class visibility, analysis results): the colour enters through the
 * pipes style's feature-colour overlay. White-model layers, which have no style of their own, get a style
 * that is the default (white at the layer opacity) plus the alarm colours. Other layer types (BIM, meshes)
 * are not painted yet: their styles are string expressions owned by their tools.
 */
export class AssetColouring {
  private levels = new Map<string, Map<string, AlarmLevel>>();
  private readonly layerOfTileset = new WeakMap<Cesium3DTileset, string>();
  private readonly styled = new WeakSet<MapLayer>();

  constructor(
    private readonly alarms: AlarmStore,
    private readonly directory: DeviceDirectory,
    private readonly layers: () => MapLayer[],
  ) {
    setFeatureColorOverlay((feature) => this.colorOf(feature));
    alarms.onChange(() => this.update());
    directory.onChange((kind) => {
      if (kind === "devices") this.update();
    });
  }

  /** Call when the layers are known or a tileset finished loading. */
  attach(): void {
    for (const layer of this.layers()) {
      if (layer.tileset) this.layerOfTileset.set(layer.tileset, layer.layer.id);
      if (layer.layer.type === "buildings" && !this.styled.has(layer)) {
        this.styled.add(layer);
        layer.setStyleBuilder((opacity) => this.whiteModelStyle(opacity));
      }
    }
    this.update(true);
  }

  /** Alarm level painted on a feature of a layer, if any (for the test hook and popups). */
  levelOf(layerId: string, featureId: string): AlarmLevel | undefined {
    return this.levels.get(layerId)?.get(featureId);
  }

  /** Assets painted now, as `layerId/featureId` → level. */
  painted(): Record<string, AlarmLevel> {
    const out: Record<string, AlarmLevel> = {};
    for (const [layerId, features] of this.levels)
      for (const [featureId, level] of features) out[`${layerId}/${featureId}`] = level;
    return out;
  }

  private colorOf(feature: Cesium3DTileFeature): Color | undefined {
    if (this.levels.size === 0) return undefined;
    const layerId = this.layerOfTileset.get(feature.tileset);
    if (layerId === undefined) return undefined;
    const byFeature = this.levels.get(layerId);
    if (!byFeature) return undefined;
    const key = featureKey(feature);
    const level = key === undefined ? undefined : byFeature.get(key);
    return level ? LEVEL_COLORS[level] : undefined;
  }

  private whiteModelStyle(opacity: number): Cesium3DTileStyle {
    const base = new Color(1, 1, 1, opacity);
    const style = new Cesium3DTileStyle();
    style.color = {
      evaluateColor: (feature: Cesium3DTileFeature, result?: Color) =>
        Color.clone(this.colorOf(feature) ?? base, result),
    } as unknown as Cesium3DTileStyle["color"];
    return style;
  }

  private update(force = false): void {
    const next = new Map<string, Map<string, AlarmLevel>>();
    for (const [deviceId, alarms] of this.alarms.byDevice()) {
      const device = this.directory.get(deviceId);
      if (!device?.layerId || !device.featureId) {
        if (!device) this.directory.ensure([deviceId]);
        continue;
      }
      const level = worstLevel(alarms);
      if (!level) continue;
      let byFeature = next.get(device.layerId);
      if (!byFeature) {
        byFeature = new Map();
        next.set(device.layerId, byFeature);
      }
      const known = byFeature.get(device.featureId);
      // Several sensors on one asset: the most severe alarm wins.
      if (!known || levelSeverity(level) > levelSeverity(known)) byFeature.set(device.featureId, level);
    }
    const touched = new Set<string>();
    for (const id of new Set([...this.levels.keys(), ...next.keys()])) {
      if (force || !sameLevels(this.levels.get(id), next.get(id))) touched.add(id);
    }
    this.levels = next;
    for (const layer of this.layers()) {
      if (layer.tileset) this.layerOfTileset.set(layer.tileset, layer.layer.id);
      if (touched.has(layer.layer.id)) layer.restyle();
    }
  }
}

function sameLevels(a: Map<string, AlarmLevel> | undefined, b: Map<string, AlarmLevel> | undefined): boolean {
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  for (const [k, v] of a ?? []) if (b?.get(k) !== v) return false;
  return true;
}
