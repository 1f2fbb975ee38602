import * as Cesium from "cesium";
import {
  Cartesian2,
  Cartesian3,
  Math as CesiumMath,
  Matrix4,
  PerspectiveFrustum,
  PostProcessStage,
  type Viewer,
} from "cesium";
import surfaceGlsl from "../../../shaders/scene-surface.glsl?raw";
import projectionGlsl from "../../../shaders/video-projection.glsl?raw";
import { SceneDepthFrom } from "../shadow-depth.ts";
import { type CameraPose, cameraProjection, cameraToWorld, PROJECTION_NEAR } from "./camera-pose.ts";

/**
 * CesiumJS's renderer Texture: exported by the package but left out of its type definitions. A
 * PostProcessStage accepts a <video> as a uniform but uploads it once; a live video needs the same
 * texture refilled with every new frame, which only Texture.copyFrom does without reallocating.
 */
interface GpuTexture {
  readonly width: number;
  readonly height: number;
  copyFrom(options: { source: HTMLVideoElement }): void;
  destroy(): void;
}
type TextureConstructor = new (options: { context: unknown; width: number; height: number }) => GpuTexture;
const Texture = (Cesium as unknown as { Texture: TextureConstructor }).Texture;

/**
 * 视频融合: projects a camera's <video> onto the 3D scene from the camera's pose (shaders/video-projection.glsl).
 * The viewer renders on demand, so each new video frame uploads the texture and asks for a render.
 */
export class VideoProjection {
  private readonly stage: PostProcessStage;
  private readonly depth: SceneDepthFrom;
  private texture: GpuTexture | undefined;
  private frameDirty = true;
  private readonly cameraWorldToEye: Matrix4;
  private readonly projection: Matrix4;
  private readonly eyeToVideoEye = new Matrix4();
  private readonly cleanups: (() => void)[] = [];
  private destroyed = false;
  /** Video frames uploaded so far (tests read it to know the projection is live). */
  framesUploaded = 0;

  constructor(
    private readonly viewer: Viewer,
    readonly cameraId: string,
    pose: CameraPose,
    private readonly video: HTMLVideoElement,
    alpha = 0.9,
  ) {
    const toWorld = cameraToWorld(pose);
    this.cameraWorldToEye = Matrix4.inverseTransformation(toWorld, new Matrix4());
    this.projection = cameraProjection(pose);
    this.depth = depthFromCamera(viewer, pose, toWorld);
    const depth = this.depth.uniforms();
    this.stage = new PostProcessStage({
      name: `cim-video-projection-${cameraId}`,
      fragmentShader: surfaceGlsl + projectionGlsl,
      uniforms: {
        u_video: () => this.texture,
        // Composed per frame in double precision: viewer eye -> ECEF -> video camera eye.
        u_eyeToVideoEye: () =>
          Matrix4.multiply(this.cameraWorldToEye, viewer.camera.inverseViewMatrix, this.eyeToVideoEye),
        u_videoProjection: () => this.projection,
        u_range: pose.range,
        u_depthMap: depth.u_depthMap,
        u_depthMatrix: depth.u_depthMatrix,
        u_depthPacked: !this.depth.usesDepthTexture,
        u_depthNearFar: new Cartesian2(PROJECTION_NEAR, pose.range),
        u_alpha: alpha,
      },
    });
    // Off until the first frame is on the GPU: the shader needs a texture to sample.
    this.stage.enabled = false;
    viewer.scene.postProcessStages.add(this.stage);

    const scene = viewer.scene;
    this.cleanups.push(scene.preRender.addEventListener(() => this.upload()));
    this.watchFrames();
    scene.requestRender();
  }

  get active(): boolean {
    return !this.destroyed && this.stage.enabled;
  }

  private watchFrames(): void {
    const video = this.video;
    const onFrame = () => {
      this.frameDirty = true;
      this.viewer.scene.requestRender();
    };
    if ("requestVideoFrameCallback" in video) {
      let handle = 0;
      const next = () => {
        onFrame();
        handle = video.requestVideoFrameCallback(next);
      };
      handle = video.requestVideoFrameCallback(next);
      this.cleanups.push(() => video.cancelVideoFrameCallback(handle));
    } else {
      // Browsers without requestVideoFrameCallback: poll at about the demo clip's frame rate.
      const timer = window.setInterval(onFrame, 40);
      this.cleanups.push(() => window.clearInterval(timer));
    }
  }

  private upload(): void {
    const video = this.video;
    if (!this.frameDirty || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0)
      return;
    if (
      this.texture &&
      (this.texture.width !== video.videoWidth || this.texture.height !== video.videoHeight)
    ) {
      this.texture.destroy();
      this.texture = undefined;
    }
    if (!this.texture) {
      const context = (this.viewer.scene as unknown as { context: unknown }).context;
      this.texture = new Texture({ context, width: video.videoWidth, height: video.videoHeight });
    }
    this.texture.copyFrom({ source: video });
    this.frameDirty = false;
    this.framesUploaded++;
    this.stage.enabled = true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const cleanup of this.cleanups) cleanup();
    this.viewer.scene.postProcessStages.remove(this.stage); // also destroys the stage
    this.depth.destroy();
    this.texture?.destroy();
    this.texture = undefined;
    this.viewer.scene.requestRender();
  }
}

/** What the camera sees, as depth: rendered from its pose with its field of view out to its range. */
function depthFromCamera(viewer: Viewer, pose: CameraPose, toWorld: Matrix4): SceneDepthFrom {
  const h = CesiumMath.toRadians(pose.hfov);
  const v = CesiumMath.toRadians(pose.vfov);
  const aspectRatio = Math.tan(h / 2) / Math.tan(v / 2);
  // Cesium's fov is the horizontal angle when the frustum is wider than tall, else the vertical one.
  const frustum = new PerspectiveFrustum({
    fov: aspectRatio >= 1 ? h : v,
    aspectRatio,
    near: PROJECTION_NEAR,
    far: pose.range,
  });
  const column = (i: number) =>
    Cartesian3.normalize(
      new Cartesian3(toWorld[i * 4], toWorld[i * 4 + 1], toWorld[i * 4 + 2]),
      new Cartesian3(),
    );
  return new SceneDepthFrom(viewer.scene, {
    frustum,
    position: Matrix4.getTranslation(toWorld, new Cartesian3()),
    direction: Cartesian3.negate(column(2), new Cartesian3()),
    up: column(1),
  });
}
