// Flow-direction animation for pipe tiles (CesiumJS CustomShader fragment stage).
// Light stripes travel along the pipes: their phase is the model-space position projected on a
// fixed diagonal, so pipes along either street axis show stripes moving with time. Kept subtle:
// the stripes lighten the class colour, they do not replace it.
void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material)
{
  vec3 p = fsInput.attributes.positionMC;
  float phase = (p.x + p.y + p.z) / u_spacing - u_time * u_speed;
  float s = fract(phase);
  float band = smoothstep(0.0, 0.12, s) * (1.0 - smoothstep(0.28, 0.42, s));
  material.diffuse = mix(material.diffuse, vec3(1.0), band * u_strength);
  material.emissive += material.diffuse * band * u_strength * 0.35;
}
