// Fragment stage of the reality-mesh flatten tool; helpers in flatten-polygons.glsl. The test runs on
// the fragment's own position, so the cut follows the drawn edge through the triangles.
//
// Without FLATTEN (the layer as captured): nothing inside any flatten or clip polygon is drawn.
// With FLATTEN (the flattened copy): only what is inside a flatten polygon is drawn.

void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material) {
#ifdef FLATTEN
  if (!flattenInsideAny(v_flattenEnu.xy, 0)) discard;
#else
  if (flattenInsideAny(v_flattenEnu.xy, -1)) discard;
#endif
}
