import { CustomShader, UniformType } from "cesium";

/**
 * "Explode storeys": every vertex of a BIM tile carries `_STOREY_INDEX` (0 = lowest storey, -1 =
 * none). CesiumJS exposes a custom attribute to custom shaders under its lower-cased name without
 * the leading underscore (ModelUtility.getAttributeInfo), hence `vsInput.attributes.storey_index`.
 * The vertex shader lifts storey i by i x gap metres along the glTF model's up axis: positions are
 * still in glTF model space there (y-up; the y-up -> z-up turn and the tile transform come later),
 * so the whole building's storeys separate vertically whatever its geographic orientation.
 * Picking and clipping use the same vertex shader, so they follow the lifted geometry.
 */
export class StoreyExplode {
  readonly shader: CustomShader;
  private gapMetres: number;

  constructor(gap: number) {
    this.gapMetres = gap;
    this.shader = new CustomShader({
      uniforms: { u_storeyGap: { type: UniformType.FLOAT, value: gap } },
      vertexShaderText: /* glsl */ `
void vertexMain(VertexInput vsInput, inout czm_modelVertexOutput vsOutput)
{
  float storey = vsInput.attributes.storey_index;
  if (storey > 0.0) {
    vsOutput.positionMC.y += storey * u_storeyGap;
  }
}
`,
    });
  }

  get gap(): number {
    return this.gapMetres;
  }

  set gap(metres: number) {
    this.gapMetres = metres;
    this.shader.setUniform("u_storeyGap", metres);
  }
}
