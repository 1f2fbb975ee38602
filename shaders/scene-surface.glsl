// The nearest surface under a pixel in the viewer's eye frame, for post-process stages that paint analyses onto
// the scene. The viewer clears the globe's depth before drawing tiles (depthTestAgainstTerrain off, so underground
// pipes show through), so the scene depth lacks the ground: Cesium keeps it in czm_globeDepthTexture. The nearer
// of the two is the visible surface (the street above a pipe, not the pipe). False for sky and space.
bool cimSurfaceEC(sampler2D sceneDepthTexture, vec2 uv, out vec3 positionEC)
{
  float sceneDepth = czm_unpackDepth(texture(sceneDepthTexture, uv));
  float globeDepth = czm_unpackDepth(texture(czm_globeDepthTexture, uv));
  bool sceneHit = sceneDepth > 0.0 && sceneDepth < 1.0;
  bool globeHit = globeDepth > 0.0 && globeDepth < 1.0;
  if (!sceneHit && !globeHit) return false;
  float depth = sceneHit && globeHit ? min(sceneDepth, globeDepth) : (sceneHit ? sceneDepth : globeDepth);
  vec4 eye = czm_windowToEyeCoordinates(gl_FragCoord.xy, depth);
  positionEC = eye.xyz / eye.w;
  return true;
}
