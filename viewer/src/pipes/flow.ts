import { CustomShader, CustomShaderTranslucencyMode, UniformType, type Viewer } from "cesium";
import flowGlsl from "../../../shaders/pipe-flow.glsl?raw";

/**
 * "流向动画": a custom shader with stripes moving along the pipes (shaders/pipe-flow.glsl). The
 * viewer renders on demand, so while it runs a pre-render hook advances the time uniform and asks
 * for the next frame.
 */
export class PipeFlow {
  readonly shader: CustomShader;
  private stop: (() => void) | undefined;
  private readonly start = performance.now();

  constructor(private readonly viewer: Viewer) {
    this.shader = new CustomShader({
      uniforms: {
        u_time: { type: UniformType.FLOAT, value: 0 },
        u_speed: { type: UniformType.FLOAT, value: 0.8 },
        u_spacing: { type: UniformType.FLOAT, value: 4.0 },
        u_strength: { type: UniformType.FLOAT, value: 0.35 },
      },
      translucencyMode: CustomShaderTranslucencyMode.INHERIT,
      fragmentShaderText: flowGlsl,
    });
  }

  get running(): boolean {
    return this.stop !== undefined;
  }

  run(on: boolean): void {
    if (on === this.running) return;
    if (on) {
      const scene = this.viewer.scene;
      const remove = scene.preRender.addEventListener(() => {
        this.shader.setUniform("u_time", (performance.now() - this.start) / 1000);
      });
      // About 20 frames a second is smooth enough and spares software-rendered machines.
      const timer = window.setInterval(() => scene.requestRender(), 50);
      this.stop = () => {
        remove();
        window.clearInterval(timer);
      };
    } else {
      this.stop?.();
      this.stop = undefined;
    }
    this.viewer.scene.requestRender();
  }
}
