import {
  Cartesian3,
  Cesium3DTileStyle,
  type Cesium3DTileset,
  CustomShader,
  Ellipsoid,
  PointCloudShading,
  UniformType,
} from "cesium";
import type { MapLayer } from "../layers.ts";

export type PointColorMode = "rgb" | "classification" | "height" | "intensity";
export const POINT_COLOR_MODES: PointColorMode[] = ["rgb", "classification", "height", "intensity"];

const MODE_INDEX: Record<PointColorMode, number> = { rgb: 0, classification: 1, height: 2, intensity: 3 };

/**
 * Styling of a `cim ingest las` layer. Tiles carry COLOR_0 and the custom attributes _CLASSIFICATION and
 * _INTENSITY, which CesiumJS custom shaders read as vsInput.attributes.classification / .intensity. Height is
 * measured along the layer's local up direction from its bbox, which is exact enough for a colour ramp.
 * Eye-dome lighting is CesiumJS's PointCloudShading (a screen-space pass, cheap).
 */
export class PointCloudStyle {
  mode: PointColorMode = "rgb";
  pointSize = 2;
  edl = true;
  private readonly shader: CustomShader;

  constructor(readonly layer: MapLayer) {
    const [west, south, east, north, minH, maxH] = layer.layer.bbox;
    const lon = (west + east) / 2;
    const lat = (south + north) / 2;
    const centre = Cartesian3.fromDegrees(lon, lat, minH);
    const up = Ellipsoid.WGS84.geodeticSurfaceNormal(centre, new Cartesian3());
    this.shader = new CustomShader({
      uniforms: {
        u_mode: { type: UniformType.FLOAT, value: 0 },
        u_pointSize: { type: UniformType.FLOAT, value: this.pointSize },
        u_base: { type: UniformType.VEC3, value: centre },
        u_up: { type: UniformType.VEC3, value: up },
        u_heightRange: { type: UniformType.FLOAT, value: Math.max(1, maxH - minH) },
      },
      vertexShaderText: /* glsl */ `
void vertexMain(VertexInput vsInput, inout czm_modelVertexOutput vsOutput)
{
  vsOutput.pointSize = u_pointSize;
}
`,
      fragmentShaderText: /* glsl */ `
vec3 classColor(float c) {
  if (c == 2.0) return vec3(0.63, 0.48, 0.32);            // ground
  if (c == 3.0) return vec3(0.60, 0.80, 0.40);            // low vegetation
  if (c == 4.0) return vec3(0.30, 0.70, 0.25);            // medium vegetation
  if (c == 5.0) return vec3(0.10, 0.50, 0.15);            // high vegetation
  if (c == 6.0) return vec3(0.90, 0.35, 0.25);            // building
  if (c == 7.0 || c == 18.0) return vec3(0.95, 0.10, 0.90); // noise
  if (c == 9.0) return vec3(0.20, 0.45, 0.95);            // water
  if (c == 17.0) return vec3(0.60, 0.60, 0.65);           // bridge deck
  if (c == 11.0) return vec3(0.35, 0.35, 0.35);           // road surface
  return vec3(0.80, 0.80, 0.80);                          // unclassified and others
}
vec3 ramp(float t) {
  t = clamp(t, 0.0, 1.0);
  return clamp(vec3(1.5 - abs(4.0 * t - 3.0), 1.5 - abs(4.0 * t - 2.0), 1.5 - abs(4.0 * t - 1.0)), 0.0, 1.0);
}
void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material)
{
  if (u_mode == 0.0) {
    // Explicit: the vertex colour is the point's colour whatever the layer's style does to the material.
#ifdef HAS_COLOR_0
    material.diffuse = fsInput.attributes.color_0.rgb;
#endif
  } else if (u_mode == 1.0) material.diffuse = classColor(fsInput.attributes.classification);
  else if (u_mode == 2.0) {
    float h = dot(fsInput.attributes.positionWC - u_base, u_up);
    material.diffuse = ramp(h / u_heightRange);
  } else if (u_mode == 3.0) {
    float v = clamp(fsInput.attributes.intensity / 4096.0, 0.0, 1.0);
    material.diffuse = vec3(sqrt(v));
  }
}
`,
    });
  }

  /** Applies to the layer's tileset once it has loaded (and again after each change). */
  apply(): void {
    const tileset: Cesium3DTileset | undefined = this.layer.tileset;
    if (!tileset) return;
    this.shader.setUniform("u_mode", MODE_INDEX[this.mode]);
    this.shader.setUniform("u_pointSize", this.pointSize);
    tileset.customShader = this.shader;
    tileset.pointCloudShading = new PointCloudShading({
      attenuation: false,
      eyeDomeLighting: this.edl,
      eyeDomeLightingStrength: 1.0,
      eyeDomeLightingRadius: 1.0,
    });
    // Opacity stays with the layer's own style; point size is set by the shader.
    this.layer.setStyleBuilder((opacity) => new Cesium3DTileStyle({ color: `color('white', ${opacity})` }));
  }
}
