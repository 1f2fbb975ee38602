import {
  CustomShader,
  Matrix4,
  PixelDatatype,
  PixelFormat,
  type Scene,
  TextureMagnificationFilter,
  TextureMinificationFilter,
  TextureUniform,
  UniformType,
  VaryingType,
} from "cesium";
import fragmentGlsl from "../../../shaders/flatten-fragment.glsl?raw";
import polygonsGlsl from "../../../shaders/flatten-polygons.glsl?raw";
import vertexGlsl from "../../../shaders/flatten-vertex.glsl?raw";
import { type FlattenFrame, type FlattenPolygonSpec, packPolygons } from "./flatten-frame.ts";

/** Cesium's per-pass uniform state: not in its public typings, but the only place the pass's view is. */
interface UniformStateView {
  view: Matrix4;
  inverseView: Matrix4;
}

/**
 * The two custom shaders of the flatten tool: "cut" on the reality mesh as captured (inside the
 * polygons discarded) and "flat" on its flattened copy (only the inside kept). Both test points in the
 * polygons' ENU frame, reached from eye coordinates through u_enuFromEye.
 *
 * u_enuFromEye is read at draw time from the view of the pass being drawn, not set once a frame:
 * picking along a ray (Scene.sampleHeight) draws from another camera than the screen, and a matrix of
 * the screen's camera would put the polygons in the wrong place there.
 */
export class FlattenShaders {
  readonly cut: CustomShader;
  readonly flat: CustomShader;
  private frame: FlattenFrame | undefined;
  private readonly enuFromEye = new Matrix4();
  private readonly eyeFromEnu = new Matrix4();

  constructor(scene: Scene) {
    const uniformState = (scene as unknown as { context: { uniformState: UniformStateView } }).context
      .uniformState;
    const enuFromEye = () => {
      if (!this.frame) return Matrix4.IDENTITY;
      return Matrix4.multiply(this.frame.fixedToEnu, uniformState.inverseView, this.enuFromEye);
    };
    const eyeFromEnu = () => {
      if (!this.frame) return Matrix4.IDENTITY;
      return Matrix4.multiply(uniformState.view, this.frame.enuToFixed, this.eyeFromEnu);
    };
    const make = (defines: string) =>
      new CustomShader({
        uniforms: {
          u_flattenPolygons: { type: UniformType.SAMPLER_2D, value: table(new Float32Array(4), 1, 1) },
          u_flattenPolygonCount: { type: UniformType.INT, value: 0 },
          u_enuFromEye: {
            type: UniformType.MAT4,
            get value() {
              return enuFromEye();
            },
          },
          u_eyeFromEnu: {
            type: UniformType.MAT4,
            get value() {
              return eyeFromEnu();
            },
          },
        },
        varyings: { v_flattenEnu: VaryingType.VEC3 },
        vertexShaderText: `${defines}${polygonsGlsl}\n${vertexGlsl}`,
        fragmentShaderText: `${defines}${polygonsGlsl}\n${fragmentGlsl}`,
      });
    this.cut = make("");
    this.flat = make("#define FLATTEN\n");
  }

  /** Loads these polygons (in this frame) into both shaders. */
  setPolygons(frame: FlattenFrame | undefined, polygons: readonly FlattenPolygonSpec[]): void {
    this.frame = frame;
    const packed = frame ? packPolygons(frame, polygons) : { data: new Float32Array(4), width: 1, height: 1 };
    for (const shader of [this.cut, this.flat]) {
      shader.setUniform("u_flattenPolygons", table(packed.data, packed.width, packed.height));
      shader.setUniform("u_flattenPolygonCount", frame ? polygons.length : 0);
    }
  }
}

function table(data: Float32Array, width: number, height: number): TextureUniform {
  return new TextureUniform({
    // Cesium's typings say Uint8Array; its texture code takes any typed array of the given datatype.
    typedArray: data as unknown as Uint8Array,
    width,
    height,
    pixelFormat: PixelFormat.RGBA,
    pixelDatatype: PixelDatatype.FLOAT,
    minificationFilter: TextureMinificationFilter.NEAREST,
    magnificationFilter: TextureMagnificationFilter.NEAREST,
    repeat: false,
  });
}
