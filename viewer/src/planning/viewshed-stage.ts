import { type Cartesian3, type Color, PostProcessStage, type Viewer } from "cesium";
import surfaceGlsl from "../../../shaders/scene-surface.glsl?raw";
import viewshedGlsl from "../../../shaders/viewshed.glsl?raw";
import { SceneDepthFrom } from "../shadow-depth.ts";

/**
 * The viewshed drawn on the scene itself (shaders/viewshed.glsl): a cube depth map rendered from the eye by the
 * GPU's shadow pass decides, for every surface on screen within the radius (ground, facades, roofs, BIM,
 * reality meshes), whether the eye sees it.
 */
export class ViewshedStage {
  private readonly depth: SceneDepthFrom;
  private readonly stage: PostProcessStage;

  constructor(
    private readonly viewer: Viewer,
    eye: Cartesian3,
    radius: number,
    visible: Color,
    hidden: Color,
  ) {
    this.depth = new SceneDepthFrom(viewer.scene, { position: eye, radius }, 1024);
    const depth = this.depth.uniforms();
    this.stage = new PostProcessStage({
      name: "cim-viewshed",
      fragmentShader: surfaceGlsl + viewshedGlsl,
      uniforms: {
        u_depthCube: depth.u_depthCube,
        u_depthSourceEC: depth.u_depthSourceEC,
        u_visibleColor: visible.withAlpha(0.45),
        u_hiddenColor: hidden.withAlpha(0.5),
      },
    });
    viewer.scene.postProcessStages.add(this.stage);
    viewer.scene.requestRender();
  }

  destroy(): void {
    this.viewer.scene.postProcessStages.remove(this.stage);
    this.depth.destroy();
  }
}
