// Flatten / clip polygons of the reality-mesh tool (viewer/src/reality), shared by both of its shaders.
// u_flattenPolygons is an RGBA float table, read with texelFetch (exact texels, no filtering):
//   texel 2p     (first vertex texel, vertex count, flat height in metres above the ellipsoid, mode 0 flatten / 1 clip)
//   texel 2p + 1 (min x, min y, max x, max y): the polygon's box, to skip it cheaply
//   vertex texel (x, y, 0, 0)
// x, y are metres east / north in the east-north-up frame of the polygons (u_enuFromEye).
// Hand-written: Cesium has no point-in-polygon for custom shaders, and its ClippingPolygonCollection
// works from float32 world positions (about half a metre of error at the Earth's radius).

const float FLATTEN_EARTH_RADIUS = 6378137.0;

vec4 flattenTexel(int i) {
  int width = textureSize(u_flattenPolygons, 0).x;
  return texelFetch(u_flattenPolygons, ivec2(i - (i / width) * width, i / width), 0);
}

bool flattenInside(int polygon, vec2 q) {
  vec4 box = flattenTexel(2 * polygon + 1);
  if (q.x < box.x || q.y < box.y || q.x > box.z || q.y > box.w) return false;
  vec4 head = flattenTexel(2 * polygon);
  int first = int(head.x);
  int count = int(head.y);
  bool inside = false;
  vec2 a = flattenTexel(first + count - 1).xy;
  for (int k = 0; k < count; k++) {
    vec2 b = flattenTexel(first + k).xy;
    // Even-odd rule on a ray towards +x.
    if ((b.y > q.y) != (a.y > q.y) && q.x < (a.x - b.x) * (q.y - b.y) / (a.y - b.y) + b.x) inside = !inside;
    a = b;
  }
  return inside;
}

float flattenDistance(int polygon, vec2 q) {
  vec4 head = flattenTexel(2 * polygon);
  int first = int(head.x);
  int count = int(head.y);
  float best = 1.0e30;
  vec2 a = flattenTexel(first + count - 1).xy;
  for (int k = 0; k < count; k++) {
    vec2 b = flattenTexel(first + k).xy;
    vec2 ab = b - a;
    float t = clamp(dot(q - a, ab) / max(dot(ab, ab), 1.0e-6), 0.0, 1.0);
    best = min(best, length(q - a - t * ab));
    a = b;
  }
  return best;
}

// Mode of a polygon: 0 flatten, 1 clip.
int flattenMode(int polygon) {
  return int(flattenTexel(2 * polygon).w + 0.5);
}

// The plane z = height - r^2 / 2R of the ENU frame is the surface at that ellipsoidal height
// (within millimetres over a district): the frame's plane drops away from the Earth's curve.
float flattenPlaneZ(int polygon, vec2 q) {
  return flattenTexel(2 * polygon).z - dot(q, q) / (2.0 * FLATTEN_EARTH_RADIUS);
}

// Whether q is inside a polygon of this mode (-1: any mode).
bool flattenInsideAny(vec2 q, int mode) {
  for (int p = 0; p < u_flattenPolygonCount; p++) {
    if (mode >= 0 && flattenMode(p) != mode) continue;
    if (flattenInside(p, q)) return true;
  }
  return false;
}

// Position in the polygons' ENU frame, from eye coordinates (precise: no float32 Earth-sized numbers).
vec3 flattenEnu(vec3 positionMC) {
  return (u_enuFromEye * (czm_modelView * vec4(positionMC, 1.0))).xyz;
}
