// Vertex stage of the reality-mesh flatten tool; helpers in flatten-polygons.glsl.
//
// Without FLATTEN (the layer as captured): only passes the vertex's ENU position on, for the fragment
// stage to cut the polygons out.
//
// With FLATTEN (the layer's flattened copy): every vertex moves, along the frame's up axis only, to
// the flat height of the flatten polygon it lies in, or else of the nearest one. The copy keeps only
// its fragments inside flatten polygons (flatten-fragment.glsl), so together with the cut original it
// meets the drawn edge exactly: a triangle that straddles the edge is drawn twice, as captured
// outside and flat inside, instead of being stretched between the two as flattening the inside
// vertices alone does (the slope would be a triangle wide, metres on a coarse LOD).

void vertexMain(VertexInput vsInput, inout czm_modelVertexOutput vsOutput) {
  vec3 enu = flattenEnu(vsOutput.positionMC);
#ifdef FLATTEN
  int nearest = -1;
  float nearestDistance = 1.0e30;
  for (int p = 0; p < u_flattenPolygonCount; p++) {
    if (flattenMode(p) != 0) continue;
    float d = flattenInside(p, enu.xy) ? 0.0 : flattenDistance(p, enu.xy);
    if (d < nearestDistance) {
      nearestDistance = d;
      nearest = p;
    }
  }
  if (nearest >= 0) {
    float z = flattenPlaneZ(nearest, enu.xy);
    // The vertical offset in the ENU frame, rotated to eye and then to model coordinates.
    vec3 offsetEye = mat3(u_eyeFromEnu) * vec3(0.0, 0.0, z - enu.z);
    vsOutput.positionMC += mat3(czm_inverseModelView) * offsetEye;
    enu.z = z;
  }
#endif
  v_flattenEnu = enu;
}
