// Flow-direction animation for pipe tiles (CesiumJS CustomShader fragment stage).
// The tiles carry _FLOW per vertex: metres from the link's upstream end (gravity pipes from the higher invert,
// pressure pipes as drawn), or -1 on wells and symbols. Light stripes whose phase is that distance minus time
// travel downstream along every pipe, through bends, on tubes and on the far-away line level alike. Kept subtle:
// the stripes lighten the class colour, they do not replace it.
void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material)
{
  float along = fsInput.attributes.flow;
  if (along < 0.0) return;
  float s = fract(along / u_spacing - u_time * u_speed);
  float band = smoothstep(0.0, 0.12, s) * (1.0 - smoothstep(0.28, 0.42, s));
  material.diffuse = mix(material.diffuse, vec3(1.0), band * u_strength);
  material.emissive += material.diffuse * band * u_strength * 0.35;
}
