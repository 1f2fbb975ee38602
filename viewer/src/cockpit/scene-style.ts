import {
  Cartesian3,
  type Cesium3DTileFeature,
  Cesium3DTileStyle,
  Color,
  CustomShader,
  CustomShaderTranslucencyMode,
  UniformType,
  type Viewer,
} from "cesium";
import type { AlarmLevel } from "../../../models/alarms.ts";
import buildingsGlsl from "../../../shaders/cockpit-buildings.glsl?raw";
import pipesGlsl from "../../../shaders/cockpit-pipes.glsl?raw";
import { STATE_COLORS } from "../iot/sensor-state.ts";
import type { MapLayer } from "../layers.ts";

/** Building colours by height (m): deep blue low-rise to pale cyan towers, the big-screen palette. */
const HEIGHT_RAMP: [number, Color][] = [
  [0, Color.fromCssColorString("#1d4f91")],
  [20, Color.fromCssColorString("#2a7fd4")],
  [50, Color.fromCssColorString("#38b6ff")],
  [100, Color.fromCssColorString("#8fe3ff")],
];

function heightColor(height: number, result: Color): Color {
  if (!(height > HEIGHT_RAMP[0]![0])) return Color.clone(HEIGHT_RAMP[0]![1], result);
  for (let i = 1; i < HEIGHT_RAMP.length; i++) {
    const [h1, c1] = HEIGHT_RAMP[i]!;
    if (height <= h1) {
      const [h0, c0] = HEIGHT_RAMP[i - 1]!;
      return Color.lerp(c0, c1, (height - h0) / (h1 - h0), result);
    }
  }
  return Color.clone(HEIGHT_RAMP[HEIGHT_RAMP.length - 1]![1], result);
}

/** The asset an alarm is about, painted in its level colour. */
export interface FocusedAsset {
  layerId: string;
  featureId: string;
  level: AlarmLevel;
}

const featureKey = (f: Cesium3DTileFeature) => String(f.getProperty("id") ?? f.getProperty("GlobalId") ?? "");

/**
 * The cockpit's scene: a dark globe without imagery, buildings shaded by height with a scanning ring,
 * glowing pipes with a flow pulse (shaders/cockpit-*.glsl), and the focused alarm's asset in its level colour.
 *
 * The viewer renders on demand; while the animation runs a timer asks for frames, spaced by what a frame
 * costs (a software-rendered screen is not kept busy drawing the ring).
 */
export class SceneStyle {
  readonly buildingsShader: CustomShader;
  readonly pipesShader: CustomShader;
  private focus: FocusedAsset | undefined;
  private layers: MapLayer[] = [];
  private readonly start = performance.now();
  private animating = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private frameMs = 0;

  constructor(private readonly viewer: Viewer) {
    const scene = viewer.scene;
    viewer.imageryLayers.removeAll();
    scene.globe.baseColor = Color.fromCssColorString("#06101f");
    scene.globe.showGroundAtmosphere = false;
    scene.globe.enableLighting = false;
    if (scene.skyAtmosphere) scene.skyAtmosphere.show = false;
    // No stars: a plain night-blue background.
    scene.skyBox = undefined as unknown as typeof scene.skyBox;
    if (scene.sun) scene.sun.show = false;
    scene.backgroundColor = Color.fromCssColorString("#020814");
    scene.fog.enabled = false;

    this.buildingsShader = new CustomShader({
      uniforms: {
        u_time: { type: UniformType.FLOAT, value: 0 },
        u_groundRadius: { type: UniformType.FLOAT, value: 6_378_137 },
        u_gradientHeight: { type: UniformType.FLOAT, value: 60 },
        u_ringCenter: { type: UniformType.VEC3, value: new Cartesian3() },
        u_ringSpeed: { type: UniformType.FLOAT, value: 220 },
        u_ringMaxRadius: { type: UniformType.FLOAT, value: 1500 },
        u_ringWidth: { type: UniformType.FLOAT, value: 40 },
        u_ringStrength: { type: UniformType.FLOAT, value: 1.6 },
        u_ringColor: { type: UniformType.VEC3, value: new Cartesian3(0.45, 0.95, 1.0) },
      },
      translucencyMode: CustomShaderTranslucencyMode.INHERIT,
      fragmentShaderText: buildingsGlsl,
    });
    this.pipesShader = new CustomShader({
      uniforms: {
        u_time: { type: UniformType.FLOAT, value: 0 },
        u_glow: { type: UniformType.FLOAT, value: 0.6 },
        u_pulse: { type: UniformType.FLOAT, value: 0.9 },
        u_spacing: { type: UniformType.FLOAT, value: 30 },
        u_speed: { type: UniformType.FLOAT, value: 0.5 },
      },
      translucencyMode: CustomShaderTranslucencyMode.INHERIT,
      fragmentShaderText: pipesGlsl,
    });
    let started = 0;
    scene.preRender.addEventListener(() => {
      started = performance.now();
      const time = (started - this.start) / 1000;
      this.buildingsShader.setUniform("u_time", time);
      this.pipesShader.setUniform("u_time", time);
    });
    scene.postRender.addEventListener(() => {
      this.frameMs = performance.now() - started;
    });
  }

  /** Styles the catalog's layers once they are known (shaders are attached as each tileset loads). */
  setLayers(layers: MapLayer[]): void {
    this.layers = layers;
    for (const layer of layers) {
      if (layer.layer.type === "buildings")
        layer.setStyleBuilder((opacity) => this.buildingStyle(layer, opacity));
      else if (layer.layer.type === "pipes")
        layer.setStyleBuilder((opacity) => this.pipeStyle(layer, opacity));
      layer.onChange((change) => {
        if (change === "state") this.attachShader(layer);
      });
      this.attachShader(layer);
    }
  }

  /** Centre of the scanning ring (the district centre) and the ground level there. */
  setRingCentre(lon: number, lat: number, height: number): void {
    this.buildingsShader.setUniform("u_ringCenter", Cartesian3.fromDegrees(lon, lat, height));
    this.buildingsShader.setUniform(
      "u_groundRadius",
      Cartesian3.magnitude(Cartesian3.fromDegrees(lon, lat, height)),
    );
    this.viewer.scene.requestRender();
  }

  /** Paints one asset in an alarm colour (undefined: none). */
  setFocus(focus: FocusedAsset | undefined): void {
    const before = this.focus?.layerId;
    this.focus = focus;
    for (const layer of this.layers)
      if (layer.layer.id === before || layer.layer.id === focus?.layerId) layer.restyle();
  }

  get focused(): FocusedAsset | undefined {
    return this.focus;
  }

  /** Runs or stops the ring and pipe pulse animation. */
  animate(on: boolean): void {
    if (on === this.animating) return;
    this.animating = on;
    clearTimeout(this.timer);
    if (!on) return;
    const tick = () => {
      if (!this.animating) return;
      this.viewer.scene.requestRender();
      // About 12 frames a second, fewer when a frame is expensive (software rendering).
      this.timer = setTimeout(tick, Math.max(80, this.frameMs * 3));
    };
    tick();
  }

  private attachShader(layer: MapLayer): void {
    if (!layer.tileset) return;
    if (layer.layer.type === "buildings") layer.tileset.customShader = this.buildingsShader;
    else if (layer.layer.type === "pipes") layer.tileset.customShader = this.pipesShader;
  }

  private focusColor(layer: MapLayer, feature: Cesium3DTileFeature): Color | undefined {
    const focus = this.focus;
    if (!focus || focus.layerId !== layer.layer.id || featureKey(feature) !== focus.featureId)
      return undefined;
    return Color.fromCssColorString(STATE_COLORS[focus.level]);
  }

  private buildingStyle(layer: MapLayer, opacity: number): Cesium3DTileStyle {
    const style = new Cesium3DTileStyle();
    style.color = {
      evaluateColor: (feature: Cesium3DTileFeature, result?: Color) => {
        const out = result ?? new Color();
        const focus = this.focusColor(layer, feature);
        if (focus) return Color.clone(focus, out);
        heightColor(Number(feature.getProperty("height") ?? 0), out);
        out.alpha = opacity;
        return out;
      },
    } as unknown as Cesium3DTileStyle["color"];
    return style;
  }

  private pipeStyle(layer: MapLayer, opacity: number): Cesium3DTileStyle {
    const rest = new Color(1, 1, 1, opacity);
    const style = new Cesium3DTileStyle();
    style.color = {
      evaluateColor: (feature: Cesium3DTileFeature, result?: Color) =>
        Color.clone(this.focusColor(layer, feature) ?? rest, result),
    } as unknown as Cesium3DTileStyle["color"];
    return style;
  }
}
