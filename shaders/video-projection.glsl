// Video fusion (视频融合): a camera's live video projected onto the scene (globe, 3D tiles) from the camera's
// pose, as a CesiumJS PostProcessStage (after shaders/scene-surface.glsl). Each pixel's position is rebuilt from the scene depth in the viewer's
// eye frame, carried into the video camera's frame and clip space by matrices composed on the CPU in double
// precision every frame (ECEF in float32 would be off by metres), and takes the video colour where it is
// inside the video frustum, within range, facing the camera and not hidden from it by something nearer: a depth
// map rendered from the camera's pose by CesiumJS's shadow pass (a spot light) says what the camera sees.
uniform sampler2D colorTexture;
uniform sampler2D depthTexture;
uniform sampler2D u_video;
// Viewer eye coordinates -> video camera eye coordinates (x right, y up, looking down -z).
uniform mat4 u_eyeToVideoEye;
// Video camera eye coordinates -> its clip coordinates (perspective with its hfov/vfov).
uniform mat4 u_videoProjection;
uniform float u_range;
// The depth map from the camera: viewer eye coordinates -> its texture space ([0,1]^3), window depths stored
// raw in a depth texture or RGBA-packed, and the near/far planes that linearise them.
uniform sampler2D u_depthMap;
uniform mat4 u_depthMatrix;
uniform bool u_depthPacked;
uniform vec2 u_depthNearFar;
uniform float u_alpha;
in vec2 v_textureCoordinates;

void main()
{
  vec4 color = texture(colorTexture, v_textureCoordinates);
  out_FragColor = color;
  vec3 positionEC;
  if (!cimSurfaceEC(depthTexture, v_textureCoordinates, positionEC)) return; // sky, space
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

  vec4 inDepthMap = u_depthMatrix * vec4(positionEC, 1.0);
  inDepthMap /= inDepthMap.w;
  if (all(greaterThanEqual(inDepthMap.xyz, vec3(0.0))) && all(lessThanEqual(inDepthMap.xyz, vec3(1.0)))) {
    float stored = u_depthPacked
      ? czm_unpackDepth(texture(u_depthMap, inDepthMap.xy))
      : texture(u_depthMap, inDepthMap.xy).r;
    float n = u_depthNearFar.x;
    float f = u_depthNearFar.y;
    float nearest = n * f / (f - stored * (f - n));
    float here = n * f / (f - inDepthMap.z * (f - n));
    // The surface itself is in the map: allow for its resolution, which grows with distance.
    if (here > nearest + max(0.3, here * 0.02)) return;
  }

  vec2 uv = ndc * 0.5 + 0.5;
  vec3 video = texture(u_video, uv).rgb;
  // Soft edges: fade over the outer 4 % of the frame and the last 10 % of the range.
  vec2 edge = smoothstep(vec2(1.0), vec2(0.92), abs(ndc));
  float fade = edge.x * edge.y * (1.0 - smoothstep(0.9 * u_range, u_range, distance));
  out_FragColor = vec4(mix(color.rgb, video, u_alpha * fade), color.a);
}
