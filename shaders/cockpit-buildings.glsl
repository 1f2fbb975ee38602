// Leaders' cockpit (大屏) look for white-model buildings (CesiumJS CustomShader fragment stage).
// The hue comes from the layer's style (a ramp by building height, or the alarm colour of a focused building);
// this stage only shapes brightness, so an alarm colour always reads: darker at the foot, lighter towards the
// roof, a thin glowing roof edge, and a ring of light that sweeps outwards from the district centre.
// Heights are taken as the distance from the Earth's centre minus the centre point's: over a district of a few
// kilometres the ellipsoid's curvature changes that by well under a metre.
void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material)
{
  vec3 positionWC = fsInput.attributes.positionWC;
  float height = length(positionWC) - u_groundRadius;
  float up = clamp(height / u_gradientHeight, 0.0, 1.0);
  material.diffuse *= mix(0.45, 1.15, up);

  // Roofs: faces whose normal points up (eye-space normal against the eye-space up direction).
  vec3 upEC = czm_viewRotation * normalize(positionWC);
  float roof = step(0.9, dot(normalize(fsInput.attributes.normalEC), upEC));
  material.emissive += material.diffuse * roof * 0.25;

  // The scanning ring: a band of width u_ringWidth at radius (time x speed) mod maxRadius, fading as it grows.
  float d = distance(positionWC, u_ringCenter);
  float radius = mod(u_time * u_ringSpeed, u_ringMaxRadius);
  float band = smoothstep(radius - u_ringWidth, radius, d) * (1.0 - smoothstep(radius, radius + 3.0, d));
  float fade = 1.0 - radius / u_ringMaxRadius;
  material.emissive += u_ringColor * band * fade * u_ringStrength;
}
