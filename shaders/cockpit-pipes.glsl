// Leaders' cockpit (大屏) look for pipes (CesiumJS CustomShader fragment stage): each pipe glows in its own class
// colour (or the alarm colour of a focused segment, both from the layer's style), and a brighter pulse runs
// downstream along it. _FLOW carries metres from the link's upstream end per vertex (-1 on wells and symbols,
// which only glow). Kept moderate so the class colours stay recognisable.
void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material)
{
  material.emissive += material.diffuse * u_glow;
  float along = fsInput.attributes.flow;
  if (along < 0.0) return;
  float s = fract(along / u_spacing - u_time * u_speed);
  float pulse = smoothstep(0.0, 0.15, s) * (1.0 - smoothstep(0.25, 0.5, s));
  material.emissive += mix(material.diffuse, vec3(1.0), 0.5) * pulse * u_pulse;
}
