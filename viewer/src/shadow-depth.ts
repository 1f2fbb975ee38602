import * as Cesium from "cesium";
import {
  Camera,
  type Cartesian3,
  type Cartesian4,
  type Matrix4,
  type PerspectiveFrustum,
  type Scene,
} from "cesium";

/**
 * The parts of CesiumJS's ShadowMap an analysis reads. The class is exported, but its constructor options, its
 * depth texture and its matrices are private: there is no public API for a shadow map that is not the sun's, and
 * viewshed and video-occlusion analyses need exactly that (the same technique Cesium's own shadows use).
 */
interface ShadowMapInternals {
  /** A CubeMap for a point light, else a Texture (depth, or RGBA-packed depth without depth textures). */
  readonly _shadowMapTexture: unknown;
  /** Viewer eye coordinates -> the light's texture space ([0,1]³), updated every frame. */
  readonly _shadowMapMatrix: Matrix4;
  /** The light's position in viewer eye coordinates; w = the point light's radius. */
  readonly _lightPositionEC: Cartesian4;
  readonly _usesDepthTexture: boolean;
  enabled: boolean;
  destroy(): void;
}
type ShadowMapConstructor = new (options: Record<string, unknown>) => ShadowMapInternals;
const ShadowMap = (Cesium as unknown as { ShadowMap: ShadowMapConstructor }).ShadowMap;

export interface DepthFromPoint {
  /** Omnidirectional (cube map) depth out to this radius, metres. */
  radius: number;
  position: Cartesian3;
}

export interface DepthFromCamera {
  frustum: PerspectiveFrustum;
  position: Cartesian3;
  direction: Cartesian3;
  up: Cartesian3;
}

/**
 * Depth of the scene seen from a point or a camera pose, rendered by CesiumJS's shadow-map passes every frame
 * (every primitive that casts shadows: white models, BIM, reality meshes, pipes; not the globe). It does not
 * light or darken the scene (`fromLightSource: false`); post-process stages read it through `uniforms()`.
 * Only what the viewer's own camera has selected to draw casts: Cesium's shadow passes reuse that frame's commands.
 */
export class SceneDepthFrom {
  readonly camera: Camera;
  private readonly map: ShadowMapInternals;
  private readonly hook: {
    update(frameState: { shadowMaps: unknown[] }): void;
    isDestroyed(): boolean;
    destroy(): void;
  };
  private destroyed = false;

  constructor(
    private readonly scene: Scene,
    source: DepthFromPoint | DepthFromCamera,
    size = 1024,
  ) {
    this.camera = new Camera(scene);
    this.camera.position = source.position.clone();
    const isPointLight = "radius" in source;
    if (!isPointLight) {
      this.camera.frustum = source.frustum;
      this.camera.direction = source.direction.clone();
      this.camera.up = source.up.clone();
      this.camera.right = Cesium.Cartesian3.cross(source.direction, source.up, new Cesium.Cartesian3());
    }
    this.map = new ShadowMap({
      context: (scene as unknown as { context: unknown }).context,
      lightCamera: this.camera,
      isPointLight,
      pointLightRadius: isPointLight ? source.radius : undefined,
      cascadesEnabled: false,
      size,
      softShadows: false,
      normalOffset: false,
      fromLightSource: false,
    });
    // Shadow maps are collected per frame from the primitives' update calls; this one asks to be rendered.
    const map = this.map;
    this.hook = {
      update: (frameState) => {
        if (!this.destroyed) frameState.shadowMaps.push(map);
      },
      isDestroyed: () => this.destroyed,
      destroy: () => undefined,
    };
    scene.primitives.add(this.hook);
    scene.requestRender();
  }

  get usesDepthTexture(): boolean {
    return this.map._usesDepthTexture;
  }

  /** Uniform getters for a PostProcessStage (names as in shaders/viewshed.glsl and video-projection.glsl). */
  uniforms(): Record<string, () => unknown> {
    const map = this.map;
    return {
      u_depthCube: () => map._shadowMapTexture,
      u_depthMap: () => map._shadowMapTexture,
      u_depthMatrix: () => map._shadowMapMatrix,
      u_depthSourceEC: () => map._lightPositionEC,
    };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.scene.primitives.remove(this.hook);
    this.map.destroy();
    this.scene.requestRender();
  }
}
