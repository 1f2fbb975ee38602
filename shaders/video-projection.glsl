// Video fusion (视频融合): a camera's live video projected onto the scene (globe, 3D tiles) from the camera's
// pose, as a CesiumJS PostProcessStage. Each pixel's position is rebuilt from the scene depth in the viewer's
// eye frame, carried into the video camera's frame and clip space by matrices composed on the CPU in double
// precision every frame (ECEF in float32 would be off by metres), and takes the video colour where it is
// inside the video frustum, within range and facing the camera. No occlusion test: a surface hidden from the
// camera behind a nearer one inside the frustum is painted too.
uniform sampler2D colorTexture;
uniform sampler2D depthTexture;
uniform sampler2D u_video;
// Viewer eye coordinates -> video camera eye coordinates (x right, y up, looking down -z).
uniform mat4 u_eyeToVideoEye;
// Video camera eye coordinates -> its clip coordinates (perspective with its hfov/vfov).
uniform mat4 u_videoProjection;
uniform float u_range;
uniform float u_alpha;
in vec2 v_textureCoordinates;

void main()
{
  vec4 color = texture(colorTexture, v_textureCoordinates);
  out_FragColor = color;
  // The viewer clears the globe's depth before drawing tiles (depthTestAgainstTerrain off, so underground
  // pipes show through), so the scene depth lacks the ground: Cesium keeps it in czm_globeDepthTexture.
  // The nearer of the two is the surface the video lands on (the street above a pipe, not the pipe).
  float sceneDepth = czm_unpackDepth(texture(depthTexture, v_textureCoordinates));
  float globeDepth = czm_unpackDepth(texture(czm_globeDepthTexture, v_textureCoordinates));
  bool sceneHit = sceneDepth > 0.0 && sceneDepth < 1.0;
  bool globeHit = globeDepth > 0.0 && globeDepth < 1.0;
  if (!sceneHit && !globeHit) return; // sky, space
  float depth = sceneHit && globeHit ? min(sceneDepth, globeDepth) : (sceneHit ? sceneDepth : globeDepth);

  vec4 eye = czm_windowToEyeCoordinates(gl_FragCoord.xy, depth);
  vec3 positionEC = eye.xyz / eye.w;
  vec3 videoEye = (u_eyeToVideoEye * vec4(positionEC, 1.0)).xyz;
  float distance = length(videoEye);
  if (videoEye.z >= 0.0 || distance > u_range) return; // behind the camera or beyond its range

  vec4 clip = u_videoProjection * vec4(videoEye, 1.0);
  vec2 ndc = clip.xy / clip.w;
  if (any(greaterThan(abs(ndc), vec2(1.0)))) return; // outside its field of view

  // Surface normal from the depth's screen-space derivatives, turned towards the viewer; surfaces whose back
  // faces the video camera (walls seen from behind) stay as they are.
  vec3 normalEC = normalize(cross(dFdx(positionEC), dFdy(positionEC)));
  if (dot(normalEC, -positionEC) < 0.0) normalEC = -normalEC;
  vec3 normalVideo = mat3(u_eyeToVideoEye) * normalEC;
  if (dot(normalVideo, -videoEye) <= 0.0) return;

  vec2 uv = ndc * 0.5 + 0.5;
  vec3 video = texture(u_video, uv).rgb;
  // Soft edges: fade over the outer 4 % of the frame and the last 10 % of the range.
  vec2 edge = smoothstep(vec2(1.0), vec2(0.92), abs(ndc));
  float fade = edge.x * edge.y * (1.0 - smoothstep(0.9 * u_range, u_range, distance));
  out_FragColor = vec4(mix(color.rgb, video, u_alpha * fade), color.a);
}
