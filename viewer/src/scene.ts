import {
  buildModuleUrl,
  Camera,
  Color,
  ImageryLayer,
  Ion,
  Rectangle,
  TileMapServiceImageryProvider,
  Viewer,
} from "cesium";

/**
 * A Viewer that never leaves the host it was served from: the deployments are on government
 * intranets, so no Cesium ion token, no online imagery/terrain/geocoder — only the Natural Earth II
 * imagery bundled with CesiumJS on the plain ellipsoid. Data layers come from our own server.
 */
export function createOfflineViewer(container: HTMLElement, creditContainer: HTMLElement): Viewer {
  // With no layer yet, open on China rather than on the Americas.
  Camera.DEFAULT_VIEW_RECTANGLE = Rectangle.fromDegrees(73, 16, 135, 54);
  Camera.DEFAULT_VIEW_FACTOR = 0.2;
  // An empty token makes any accidental ion request fail loudly instead of phoning home.
  Ion.defaultAccessToken = "";

  const baseLayer = ImageryLayer.fromProviderAsync(
    TileMapServiceImageryProvider.fromUrl(buildModuleUrl("Assets/Textures/NaturalEarthII")),
  );
  // Muted, darker ground so white building models and the highlight stand out.
  baseLayer.brightness = 0.55;
  baseLayer.saturation = 0.45;
  baseLayer.contrast = 1.1;

  const viewer = new Viewer(container, {
    baseLayer,
    baseLayerPicker: false,
    geocoder: false,
    homeButton: false,
    sceneModePicker: false,
    navigationHelpButton: false,
    fullscreenButton: false,
    animation: false,
    timeline: false,
    infoBox: false,
    selectionIndicator: false,
    scene3DOnly: true,
    creditContainer,
    // Render only when something changed: these machines often have no GPU.
    requestRenderMode: true,
    maximumRenderTimeChange: Number.POSITIVE_INFINITY,
    msaaSamples: 1,
  });

  const scene = viewer.scene;
  scene.globe.baseColor = Color.fromCssColorString("#1b2432");
  // Picking positions on buildings needs their depth; the globe itself is flat (ellipsoid).
  scene.globe.depthTestAgainstTerrain = false;
  // Positions under the pointer land on what is seen even when it is drawn in the translucent pass: a layer
  // faded with its opacity slider, a reality mesh's flattened copy. Without it they read the ground behind.
  scene.pickTranslucentDepth = true;
  scene.backgroundColor = Color.fromCssColorString("#0b0f17");
  // Keep the bundled star box but avoid the sun/moon textures drawing attention away from the city.
  if (scene.moon) scene.moon.show = false;
  return viewer;
}
