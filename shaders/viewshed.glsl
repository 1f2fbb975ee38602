// Viewshed (可视域分析) from an observer's eye: every surface on screen within the radius is tinted green where
// the eye sees it and red where something nearer stands in the way. The occluders are in a cube depth map
// rendered from the eye by CesiumJS's point-light shadow pass (distance / radius, RGBA-packed), so they are
// whatever the scene draws: white models, BIM, reality meshes. Follows shaders/scene-surface.glsl.
uniform sampler2D colorTexture;
uniform sampler2D depthTexture;
uniform samplerCube u_depthCube;
// The eye in viewer eye coordinates; w = the radius.
uniform vec4 u_depthSourceEC;
uniform vec4 u_visibleColor;
uniform vec4 u_hiddenColor;
in vec2 v_textureCoordinates;

void main()
{
  vec4 color = texture(colorTexture, v_textureCoordinates);
  out_FragColor = color;
  vec3 positionEC;
  if (!cimSurfaceEC(depthTexture, v_textureCoordinates, positionEC)) return;
  vec3 fromEye = positionEC - u_depthSourceEC.xyz;
  float distance = length(fromEye);
  float radius = u_depthSourceEC.w;
  if (distance > radius) return;
  vec3 directionWC = czm_inverseViewRotation * fromEye;
  float nearest = czm_unpackDepth(czm_textureCube(u_depthCube, directionWC)) * radius;
  // The surface itself is in the depth map: allow for the map's resolution, which grows with distance.
  bool seen = distance <= nearest + max(0.3, distance * 0.02);
  vec4 tint = seen ? u_visibleColor : u_hiddenColor;
  // A thin ring marks the edge of the analysed disc.
  float edge = smoothstep(radius * 0.985, radius, distance);
  out_FragColor = vec4(mix(mix(color.rgb, tint.rgb, tint.a), vec3(1.0), edge), color.a);
}
